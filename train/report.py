"""What training tells a person: a text report and a confusion-matrix picture."""

from pathlib import Path

from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay

from moodcast.contract import CLASSES
from train.config import TrainConfig
from train.evaluate import HoldoutReport
from train.training import TrainingOutcome


def text_report(version: str, outcome: TrainingOutcome, fingerprint: str, config: TrainConfig) -> str:
    holdout = outcome.holdout
    cv = outcome.cv_accuracies
    lines = [
        f"model {version}: trained on {outcome.n_train} of {outcome.n_train + outcome.n_holdout} examples "
        f"(data fingerprint {fingerprint[:12]})",
        f"{config.cv_folds}-fold CV accuracy: {100 * cv.mean():.1f}% ± {100 * cv.std():.1f}%",
        f"hold-out accuracy ({outcome.n_holdout} tracks): {100 * holdout.accuracy:.1f}%   "
        f"macro-F1: {holdout.macro_f1:.3f}",
        "",
        f"{'mood':<10} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}",
        *(
            f"{mood:<10} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['f1']:>6.3f} {m['support']:>8}"
            for mood, m in holdout.per_class.items()
        ),
        "",
        "confusion matrix on the hold-out (rows: true mood, columns: predicted)",
        f"{'':<10}" + "".join(f"{mood:>10}" for mood in CLASSES),
        *(f"{mood:<10}" + "".join(f"{n:>10}" for n in row) for mood, row in zip(CLASSES, holdout.confusion)),
    ]
    return "\n".join(lines)


def save_confusion_matrix(holdout: HoldoutReport, path: Path, title: str) -> None:
    figure = Figure(figsize=(5.5, 5))
    axes = figure.subplots()
    ConfusionMatrixDisplay(holdout.confusion, display_labels=list(CLASSES)).plot(ax=axes, cmap="Blues", colorbar=False)
    axes.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
