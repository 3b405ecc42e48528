"""`python -m train compare`: moodcast's model against the article's network and two scikit-learn
baselines, on the same repeated stratified folds of `training_examples`.

Every candidate sees exactly the same training and test rows, so differences between them are
paired fold by fold: the fold-to-fold spread (a row of a 69-row fold is worth 1.4 points) mostly
cancels out. Nothing is tuned here: each candidate's knobs are fixed before the folds are drawn.
"""

import time
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from train.config import PRESETS, TrainConfig
from train.data import Examples
from train.evaluate import FitPredict, cross_validate
from train.training import keras_fit_predict

BASELINE = "article network"


@dataclass(frozen=True)
class Comparison:
    name: str
    fold_accuracies: np.ndarray  # one per fold of every repeat, in the same order for every candidate
    fold_macro_f1: np.ndarray
    repeat_eces: np.ndarray  # out-of-fold ECE of each repeat
    seconds_per_fit: float


def sklearn_fit_predict(make_estimator) -> FitPredict:
    def fit_predict(features: np.ndarray, labels: np.ndarray, to_predict: np.ndarray) -> np.ndarray:
        return make_estimator().fit(features, labels).predict_proba(to_predict)

    return fit_predict


def candidates(config: TrainConfig) -> dict[str, FitPredict]:
    return {
        BASELINE: keras_fit_predict(PRESETS["article"]),
        "moodcast default": keras_fit_predict(config),
        "logistic regression": sklearn_fit_predict(
            lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        ),
        "gradient boosting": sklearn_fit_predict(lambda: GradientBoostingClassifier(random_state=config.seed)),
    }


def compare(examples: Examples, config: TrainConfig, repeats: int) -> list[Comparison]:
    splitter = RepeatedStratifiedKFold(n_splits=config.cv_folds, n_repeats=repeats, random_state=config.seed)
    splits = list(splitter.split(examples.features, examples.labels))
    repeat_splits = [splits[r * config.cv_folds:(r + 1) * config.cv_folds] for r in range(repeats)]
    results = []
    for name, fit_predict in candidates(config).items():
        started = time.perf_counter()
        runs = [cross_validate(examples, folds, fit_predict) for folds in repeat_splits]
        results.append(Comparison(
            name,
            np.concatenate([run.fold_accuracies for run in runs]),
            np.concatenate([run.fold_macro_f1 for run in runs]),
            np.array([run.out_of_fold.ece for run in runs]),
            (time.perf_counter() - started) / len(splits),
        ))
    return results


def comparison_table(results: list[Comparison]) -> str:
    baseline = next(result for result in results if result.name == BASELINE)
    lines = [
        "| model | accuracy (mean ± sd) | macro-F1 (mean ± sd) | ECE | Δ accuracy vs article, paired "
        "(mean ± se; folds won/lost) | s per fit |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        difference = result.fold_accuracies - baseline.fold_accuracies
        paired = "—" if result is baseline else (
            f"{100 * difference.mean():+.2f} ± {100 * difference.std(ddof=1) / np.sqrt(len(difference)):.2f} "
            f"({(difference > 0).sum()}/{(difference < 0).sum()})"
        )
        lines.append(
            f"| {result.name} | {100 * result.fold_accuracies.mean():.2f} % ± {100 * result.fold_accuracies.std():.2f} "
            f"| {result.fold_macro_f1.mean():.3f} ± {result.fold_macro_f1.std():.3f} "
            f"| {100 * result.repeat_eces.mean():.1f} % | {paired} | {result.seconds_per_fit:.2f} |"
        )
    return "\n".join(lines)
