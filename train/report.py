"""What training tells a person: a text report, a Markdown report and four pictures."""

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay

from moodcast.contract import CLASSES
from train.evaluate import Evaluation
from train.labelled_file import LabelledFile
from train.training import TrainingOutcome

PICTURES = ("confusion_matrix.png", "training_curve.png", "reliability.png", "feature_importance.png")


def per_class_table(evaluation: Evaluation) -> list[str]:
    return [
        f"{'mood':<10} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}",
        *(
            f"{mood:<10} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['f1']:>6.3f} {m['support']:>8}"
            for mood, m in evaluation.per_class.items()
        ),
    ]


def confusion_table(evaluation: Evaluation) -> list[str]:
    return [
        f"{'':<10}" + "".join(f"{mood:>10}" for mood in CLASSES),
        *(
            f"{mood:<10}" + "".join(f"{n:>10}" for n in row)
            for mood, row in zip(CLASSES, evaluation.confusion, strict=True)
        ),
    ]


def text_report(version: str, outcome: TrainingOutcome, fingerprint: str) -> str:
    cv, holdout = outcome.cv, outcome.holdout
    folds = len(cv.fold_accuracies)
    return "\n".join([
        f"model {version}: trained on {outcome.n_train} of {outcome.n_train + outcome.n_holdout} examples "
        f"(data fingerprint {fingerprint[:12]})",
        f"{folds}-fold CV accuracy: {100 * cv.fold_accuracies.mean():.1f}% ± {100 * cv.fold_accuracies.std():.1f}%   "
        f"macro-F1: {cv.out_of_fold.macro_f1:.3f}   ECE: {cv.out_of_fold.ece:.3f}",
        f"hold-out accuracy ({outcome.n_holdout} tracks): {100 * holdout.accuracy:.1f}%   "
        f"macro-F1: {holdout.macro_f1:.3f}   ECE: {holdout.ece:.3f}",
        "",
        *per_class_table(holdout),
        "",
        "confusion matrix on the hold-out (rows: true mood, columns: predicted)",
        *confusion_table(holdout),
    ])


def headline(evaluation: Evaluation) -> str:
    return (f"accuracy {100 * evaluation.accuracy:.1f}%   "
            f"balanced accuracy {100 * evaluation.balanced_accuracy:.1f}%   macro-F1 {evaluation.macro_f1:.3f}   "
            f"ECE {evaluation.ece:.3f}   mean confidence {evaluation.mean_confidence:.3f}")


def evaluation_report(version: str, labelled: LabelledFile, evaluation: Evaluation) -> str:
    left_out = sum(labelled.left_out.values())
    return "\n".join([
        f"model {version} on {labelled.path} ({len(labelled)} tracks; fingerprint {labelled.fingerprint[:12]})",
        headline(evaluation),
        *([f"left out {left_out} of {labelled.rows_read} rows ("
           + ", ".join(f"{why}: {n}" for why, n in labelled.left_out.items()) + "), e.g. "
           + "; ".join(labelled.left_out_examples)] if left_out else []),
        "",
        *per_class_table(evaluation),
        "",
        "confusion matrix (rows: true mood, columns: predicted)",
        *confusion_table(evaluation),
    ])


def markdown_report(version: str, outcome: TrainingOutcome, metadata: dict, importance: dict[str, float]) -> str:
    fence = "```"
    return "\n".join([
        f"# Model {version}",
        "",
        f"Trained {metadata['created_at']} on `training_examples` "
        f"(fingerprint `{metadata['data']['fingerprint'][:12]}`): "
        f"{outcome.n_train} examples to fit, {outcome.n_holdout} held out. Class counts: "
        + ", ".join(f"{mood} {n}" for mood, n in metadata["data"]["class_counts"].items()) + ".",
        "",
        "| measure | cross-validation (out of fold) | hold-out |",
        "|---|---|---|",
        f"| accuracy | {100 * outcome.cv.fold_accuracies.mean():.1f} % ± {100 * outcome.cv.fold_accuracies.std():.1f} "
        f"({len(outcome.cv.fold_accuracies)} folds) | {100 * outcome.holdout.accuracy:.1f} % |",
        f"| macro-F1 | {outcome.cv.out_of_fold.macro_f1:.3f} | {outcome.holdout.macro_f1:.3f} |",
        f"| expected calibration error | {outcome.cv.out_of_fold.ece:.3f} | {outcome.holdout.ece:.3f} |",
        "",
        "## Hold-out, per mood",
        "",
        fence, *per_class_table(outcome.holdout), "", *confusion_table(outcome.holdout), fence,
        "",
        "## Feature importance on the hold-out",
        "",
        "The mean absolute contribution (exact Shapley value against the training mean) of each feature to the "
        "probability of the predicted mood:",
        "",
        fence, *(f"{feature:<17} {value:.3f}" for feature, value in sorted(importance.items(), key=lambda i: -i[1])),
        fence,
        "",
        "## Pictures",
        "",
        *(f"![{name}]({name})" for name in PICTURES),
        "",
        "## Knobs",
        "",
        fence, *(f"{key} = {value}" for key, value in metadata["params"].items()), fence,
        "",
    ])


def save_pictures(outcome: TrainingOutcome, folder: Path, version: str, importance: dict[str, float]) -> None:
    save_confusion_matrix(outcome.holdout, folder / "confusion_matrix.png", f"model {version}: hold-out")
    save_importance(importance, folder / "feature_importance.png", f"model {version}: feature importance (hold-out)")
    save_training_curve(outcome.history, folder / "training_curve.png", f"model {version}: training")
    save_reliability(outcome.cv.out_of_fold, folder / "reliability.png", f"model {version}: out-of-fold calibration")


def save_confusion_matrix(evaluation: Evaluation, path: Path, title: str) -> None:
    figure = Figure(figsize=(5.5, 5))
    axes = figure.subplots()
    display = ConfusionMatrixDisplay(evaluation.confusion, display_labels=list(CLASSES))
    display.plot(ax=axes, cmap="Blues", colorbar=False)
    axes.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def save_training_curve(history: dict[str, list[float]], path: Path, title: str) -> None:
    figure = Figure(figsize=(9, 4))
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    epochs = np.arange(1, len(history["loss"]) + 1)
    for axes, metric in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        axes.plot(epochs, history[metric], label="training split")
        if f"val_{metric}" in history:
            axes.plot(epochs, history[f"val_{metric}"], label="hold-out")
        axes.set_xlabel("epoch")
        axes.set_ylabel(metric)
        axes.grid(alpha=0.3)
        axes.legend()
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def save_reliability(evaluation: Evaluation, path: Path, title: str) -> None:
    figure = Figure(figsize=(5.5, 5))
    axes = figure.subplots()
    bins = evaluation.reliability
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    bars = axes.bar([b["low"] for b in bins], [b["accuracy"] for b in bins], width=[b["high"] - b["low"] for b in bins],
                    align="edge", alpha=0.6, edgecolor="black", label="accuracy in bin (label: tracks)")
    axes.bar_label(bars, labels=[str(b["count"]) for b in bins], fontsize=8)  # a bin of 3 tracks says little
    axes.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o", color="tab:red",
              label="mean confidence → accuracy")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.08)
    axes.set_xlabel("confidence (top-class probability)")
    axes.set_ylabel("accuracy")
    axes.set_title(f"{title}\nECE {evaluation.ece:.3f}")
    axes.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def save_importance(importance: dict[str, float], path: Path, title: str) -> None:
    ranked = sorted(importance.items(), key=lambda item: item[1])  # barh draws bottom-up: the largest on top
    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    axes.barh([feature for feature, _ in ranked], [value for _, value in ranked], color="tab:blue")
    axes.set_xlabel("mean |contribution| to the predicted mood's probability")
    axes.set_title(title)
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
