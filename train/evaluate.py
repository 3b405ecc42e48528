"""How good a model is: accuracy, macro-F1, calibration, on a hold-out and out of fold."""

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from moodcast.contract import CLASSES
from train.data import Examples

log = logging.getLogger(__name__)
CALIBRATION_BINS = 10  # equal-width confidence bins for ECE and the reliability plot

# (training features, training labels, features to predict) → probabilities, one row per track
FitPredict = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Evaluation:
    tracks: int
    accuracy: float
    balanced_accuracy: float  # the mean of the per-mood recalls: what accuracy would be with the moods balanced
    macro_f1: float
    ece: float  # expected calibration error of the top-class probability
    mean_confidence: float  # honest when close to accuracy
    per_class: dict[str, dict[str, float]]  # mood → precision, recall, f1, support
    confusion: np.ndarray  # rows: true mood, columns: predicted mood, in CLASSES order
    reliability: list[dict[str, float]]  # per confidence bin: low, high, count, confidence, accuracy


@dataclass(frozen=True)
class CrossValidation:
    fold_accuracies: np.ndarray
    fold_macro_f1: np.ndarray
    out_of_fold: Evaluation  # every example predicted by the model that did not see it


def calibration(true_labels: np.ndarray, probabilities: np.ndarray) -> tuple[float, list[dict[str, float]]]:
    """ECE and the reliability table: does a 0.8 confidence come true 80 % of the time?"""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == true_labels
    edges = np.linspace(0, 1, CALIBRATION_BINS + 1)
    bins = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, CALIBRATION_BINS - 1)
    table, ece = [], 0.0
    for index in range(CALIBRATION_BINS):
        members = bins == index
        if members.any():
            gap = abs(correct[members].mean() - confidence[members].mean())
            ece += members.mean() * gap
            table.append({"low": float(edges[index]), "high": float(edges[index + 1]), "count": int(members.sum()),
                          "confidence": float(confidence[members].mean()), "accuracy": float(correct[members].mean())})
    return float(ece), table


def evaluate(true_labels: np.ndarray, probabilities: np.ndarray) -> Evaluation:
    predicted = probabilities.argmax(axis=1)
    everything = list(range(len(CLASSES)))
    precision, recall, f1, support = precision_recall_fscore_support(
        true_labels, predicted, labels=everything, zero_division=0
    )
    ece, reliability = calibration(true_labels, probabilities)
    return Evaluation(
        tracks=len(true_labels),
        accuracy=float(accuracy_score(true_labels, predicted)),
        # Both over the moods present only: a labelled file without, say, Sad has no Sad recall to average.
        balanced_accuracy=float(recall[support > 0].mean()),
        macro_f1=float(f1[support > 0].mean()),
        ece=ece,
        mean_confidence=float(probabilities.max(axis=1).mean()),
        per_class={
            mood: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for mood, p, r, f, s in zip(CLASSES, precision, recall, f1, support, strict=True)
        },
        confusion=confusion_matrix(true_labels, predicted, labels=everything),
        reliability=reliability,
    )


Split = tuple[np.ndarray, np.ndarray]  # (training rows, test rows)


def stratified_folds(examples: Examples, folds: int, seed: int) -> list[Split]:
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(examples.features, examples.labels))


def cross_validate(examples: Examples, folds: list[Split], fit_predict: FitPredict) -> CrossValidation:
    """Each fold's model is fitted (scaling included) on its own training rows only; the folds' test rows
    must cover every example once."""
    out_of_fold = np.zeros((len(examples), len(CLASSES)))
    accuracies, macro_f1 = [], []
    for number, (train_rows, test_rows) in enumerate(folds, start=1):
        out_of_fold[test_rows] = fit_predict(
            examples.features[train_rows], examples.labels[train_rows], examples.features[test_rows]
        )
        truth, predicted = examples.labels[test_rows], out_of_fold[test_rows].argmax(axis=1)
        accuracies.append(accuracy_score(truth, predicted))
        macro_f1.append(f1_score(truth, predicted, labels=list(range(len(CLASSES))), average="macro", zero_division=0))
        log.info("cross-validation fold %d/%d: accuracy %.1f%%", number, len(folds), 100 * accuracies[-1])
    return CrossValidation(np.array(accuracies), np.array(macro_f1), evaluate(examples.labels, out_of_fold))
