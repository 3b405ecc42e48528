"""Training data: the `training_examples` mart, as arrays the model takes."""

import hashlib
from dataclasses import dataclass

import duckdb
import numpy as np

from moodcast.contract import CLASSES, FEATURES
from moodcast.errors import BadInputError


@dataclass(frozen=True)
class Examples:
    track_ids: np.ndarray  # (n,) str
    features: np.ndarray  # (n, len(FEATURES)) float32, raw (unscaled) values
    labels: np.ndarray  # (n,) int, index into CLASSES
    # (n,) the sources that labelled each track (file paths, Spotify playlists), for leave-one-source-out
    source_names: tuple[tuple[str, ...], ...] = ()

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(CLASSES))
        return {mood: int(count) for mood, count in zip(CLASSES, counts, strict=True)}

    def fingerprint(self) -> str:
        """Same examples (in any order) → same fingerprint: it names the data a model saw."""
        order = np.argsort(self.track_ids)
        digest = hashlib.sha256()
        digest.update("\n".join(self.track_ids[order]).encode())
        digest.update(np.ascontiguousarray(self.features[order]).tobytes())
        digest.update(self.labels[order].astype(np.int64).tobytes())
        return digest.hexdigest()


def read_examples(connection: duckdb.DuckDBPyConnection) -> Examples:
    columns = connection.sql(
        f"select track_id, {', '.join(FEATURES)}, mood, source_names from training_examples order by track_id"
    ).fetchnumpy()
    moods = np.asarray(columns["mood"], dtype=str)
    return Examples(
        track_ids=np.asarray(columns["track_id"], dtype=str),
        features=np.column_stack([np.asarray(columns[f], dtype=np.float32) for f in FEATURES]),
        labels=np.searchsorted(np.array(CLASSES), moods),
        source_names=tuple(tuple(names) for names in columns["source_names"]),
    )


def check_enough(examples: Examples, cv_folds: int) -> None:
    """Every mood needs an example in every CV fold, else the metrics would mean nothing."""
    scarce = {mood: count for mood, count in examples.class_counts().items() if count < cv_folds}
    if scarce:
        listed = ", ".join(f"{mood}: {count}" for mood, count in scarce.items())
        raise BadInputError(
            f"training_examples has too few tracks for some moods ({listed}); each mood needs at least "
            f"{cv_folds} for {cv_folds}-fold cross-validation. Ingest more labelled tracks "
            f"(`python -m ingest files PATH`, then `make build`) or lower --cv-folds."
        )
