"""How good a model is: hold-out metrics and stratified k-fold cross-validation."""

import logging
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from moodcast.contract import CLASSES
from train.config import TrainConfig
from train.data import Examples
from train.model import build_model, fit, predict_probabilities

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HoldoutReport:
    accuracy: float
    macro_f1: float
    per_class: dict[str, dict[str, float]]  # mood → precision, recall, f1, support
    confusion: np.ndarray  # rows: true mood, columns: predicted mood, in CLASSES order


def holdout_report(true_labels: np.ndarray, probabilities: np.ndarray) -> HoldoutReport:
    predicted = probabilities.argmax(axis=1)
    everything = list(range(len(CLASSES)))
    precision, recall, f1, support = precision_recall_fscore_support(
        true_labels, predicted, labels=everything, zero_division=0
    )
    return HoldoutReport(
        accuracy=float(accuracy_score(true_labels, predicted)),
        macro_f1=float(f1_score(true_labels, predicted, labels=everything, average="macro", zero_division=0)),
        per_class={
            mood: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for mood, p, r, f, s in zip(CLASSES, precision, recall, f1, support)
        },
        confusion=confusion_matrix(true_labels, predicted, labels=everything),
    )


def cross_validate(examples: Examples, config: TrainConfig) -> np.ndarray:
    """Accuracy of each stratified fold; each fold's model adapts its scaling on its own training part."""
    folds = StratifiedKFold(n_splits=config.cv_folds, shuffle=True, random_state=config.seed)
    accuracies = []
    for number, (train_rows, test_rows) in enumerate(folds.split(examples.features, examples.labels), start=1):
        model = build_model(config, examples.features[train_rows])
        fit(model, examples.features[train_rows], examples.labels[train_rows], config)
        predicted = predict_probabilities(model, examples.features[test_rows]).argmax(axis=1)
        accuracies.append(accuracy_score(examples.labels[test_rows], predicted))
        log.info("cross-validation fold %d/%d: accuracy %.1f%%", number, config.cv_folds, 100 * accuracies[-1])
    return np.array(accuracies)
