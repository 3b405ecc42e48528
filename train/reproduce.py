"""Reproduce the article's measurements with the article's own protocol, leaks included.

The article scaled all 800 rows with MinMaxScaler before splitting (so every test fold's
minimum and maximum leak into training), used plain shuffled 10-fold CV, and an 80/20 split
with random_state=15. Its file also holds 100 tracks labelled both Energetic and Happy, so a
track can sit in training with one label and be tested with the other. This module runs that
protocol on the article's file and on the clean 686-row file, reading the shipped CSVs
directly: it measures the article, not moodcast's warehouse.
"""

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import polars as pl
from sklearn.model_selection import KFold, train_test_split

from moodcast import settings
from moodcast.contract import CLASSES, FEATURES
from train.config import TrainConfig
from train.model import build_model, fit, predict_probabilities

ARTICLE_CV_ACCURACY = 0.7275
ARTICLE_HOLDOUT_ACCURACY = 0.76
ARTICLE_SPLIT_SEED = 15  # the article's train_test_split(random_state=15)
DATASETS = {
    "article's file (800 rows, 100 twins)": settings.REPO_ROOT / "data" / "data_moods_800.csv",
    "clean file (686 rows)": settings.REPO_ROOT / "data" / "data_moods.csv",
}


@dataclass(frozen=True)
class Reproduction:
    dataset: str
    rows: int
    cv_accuracies: np.ndarray
    holdout_accuracy: float


def read_labelled_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    frame = pl.read_csv(path)
    return frame.select(FEATURES).to_numpy().astype(np.float32), np.searchsorted(np.array(CLASSES), frame["mood"])


def article_accuracy(features, labels, train_rows, test_rows, config: TrainConfig) -> float:
    keras.backend.clear_session()
    model = build_model(config, features)  # scaling adapted on ALL rows, as the article's scaler was
    fit(model, features[train_rows], labels[train_rows], config)
    predicted = predict_probabilities(model.classifier, features[test_rows]).argmax(axis=1)
    return float((predicted == labels[test_rows]).mean())


def reproduce(name: str, path: Path, config: TrainConfig) -> Reproduction:
    features, labels = read_labelled_csv(path)
    folds = KFold(n_splits=config.cv_folds, shuffle=True, random_state=config.seed)
    cv = [article_accuracy(features, labels, train, test, config) for train, test in folds.split(features)]
    train_rows, test_rows = train_test_split(np.arange(len(labels)), test_size=0.2, random_state=ARTICLE_SPLIT_SEED)
    holdout = article_accuracy(features, labels, train_rows, test_rows, config)
    return Reproduction(name, len(labels), np.array(cv), holdout)


def reproduction_table(results: list[Reproduction]) -> str:
    lines = [
        "| data | rows | 10-fold CV accuracy | 80/20 hold-out accuracy |",
        "|---|---|---|---|",
        f"| the article's reported figures | 800 | {100 * ARTICLE_CV_ACCURACY:.2f} % "
        f"| {100 * ARTICLE_HOLDOUT_ACCURACY:.0f} % |",
    ]
    lines += [
        f"| {r.dataset}, reproduced | {r.rows} "
        f"| {100 * r.cv_accuracies.mean():.2f} % ± {100 * r.cv_accuracies.std():.2f} "
        f"| {100 * r.holdout_accuracy:.2f} % |"
        for r in results
    ]
    return "\n".join(lines)
