"""Fit and evaluate: the whole training procedure as one function of data and knobs."""

from dataclasses import dataclass

import keras
import numpy as np
from sklearn.model_selection import train_test_split

from train.config import TrainConfig
from train.data import Examples
from train.evaluate import CrossValidation, Evaluation, FitPredict, cross_validate, evaluate, stratified_folds
from train.model import build_model, fit, predict_probabilities


@dataclass(frozen=True)
class TrainingOutcome:
    model: keras.Model  # the classifier fitted on the training split: the hold-out measures exactly this model
    holdout: Evaluation
    cv: CrossValidation
    history: dict[str, list[float]]
    n_train: int
    n_holdout: int
    holdout_features: np.ndarray  # (n_holdout, features): what the version's global feature importance is measured on


def keras_fit_predict(config: TrainConfig) -> FitPredict:
    def fit_predict(features: np.ndarray, labels: np.ndarray, to_predict: np.ndarray) -> np.ndarray:
        keras.backend.clear_session()  # else every fold's graph stays in memory
        model = build_model(config, features)
        fit(model, features, labels, config)
        return predict_probabilities(model.classifier, to_predict)

    return fit_predict


def train_and_evaluate(examples: Examples, config: TrainConfig) -> TrainingOutcome:
    train_rows, holdout_rows = train_test_split(
        np.arange(len(examples)),
        test_size=config.holdout_fraction,
        stratify=examples.labels,
        random_state=config.seed,
    )
    cv = cross_validate(examples, stratified_folds(examples, config.cv_folds, config.seed), keras_fit_predict(config))
    keras.backend.clear_session()
    model = build_model(config, examples.features[train_rows])
    holdout = (examples.features[holdout_rows], examples.labels[holdout_rows])
    history = fit(model, examples.features[train_rows], examples.labels[train_rows], config, validation=holdout)
    return TrainingOutcome(
        model=model.classifier,
        holdout=evaluate(holdout[1], predict_probabilities(model.classifier, holdout[0])),
        cv=cv,
        history=history.history,
        n_train=len(train_rows),
        n_holdout=len(holdout_rows),
        holdout_features=holdout[0],
    )
