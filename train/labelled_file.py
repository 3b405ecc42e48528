"""A labelled file to measure a model on (`train evaluate --labels`, `train compare --external`).

The file is read and checked exactly as `python -m ingest files` reads and checks it (same column
spellings, same `--mapping` files, same rules), but never landed: it is someone else's labels, used to
see what a model does on them, not to train. Every row is accounted for: measured, or counted among
the rows left out with the reason (rejected by the checks, no mood, or a track labelled two ways).
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from ingest.files import Batches, file_sha256, open_checked
from ingest.mapping import ColumnMapping
from moodcast.contract import CLASSES, FEATURES
from moodcast.errors import BadInputError

LEFT_OUT_EXAMPLES = 5
EMPTY = {"source_row": pl.Int64, "track_id": pl.String, **dict.fromkeys(FEATURES, pl.Float64), "mood": pl.String}


@dataclass(frozen=True)
class LabelledFile:
    path: Path
    fingerprint: str  # of the file's bytes and the mapping that reads it
    track_ids: np.ndarray  # (n,) str, one row per track
    features: np.ndarray  # (n, len(FEATURES)) float32, raw
    labels: np.ndarray  # (n,) int, index into CLASSES
    rows_read: int
    left_out: dict[str, int]  # why → rows
    left_out_examples: tuple[str, ...]

    @property
    def name(self) -> str:
        """What `evaluated_on` calls it: the file's name and fingerprint, so two versions of a file differ."""
        return f"{self.path.name}@{self.fingerprint[:12]}"

    def __len__(self) -> int:
        return len(self.labels)


def read_labelled(path: Path, mapping: ColumnMapping) -> LabelledFile:
    path = path.resolve()
    digest = hashlib.sha256((file_sha256(path) + mapping.fingerprint).encode()).hexdigest()
    checked = open_checked(path, mapping)
    if "mood" not in checked.columns:
        raise BadInputError(
            f"{path}: no mood column, so there is nothing to measure against. Name the column that holds the "
            "labels `mood`, or map it with --mapping (a TOML file with [columns] mood = \"…\", and [moods] for "
            "label codes; see data/moodify.mapping.toml)."
        )
    accepted, rejected, examples = checked.read(collect)
    rows = pl.concat(accepted) if accepted else pl.DataFrame(schema=EMPTY)
    rows_read = rows.height + rejected
    unlabelled = rows.filter(pl.col("mood").is_null())
    examples += [f"row {row}: no mood" for row in unlabelled["source_row"].head(LEFT_OUT_EXAMPLES)]
    labelled = rows.filter(pl.col("mood").is_not_null())
    tracks, conflicting = one_row_per_track(labelled)
    examples += [f"track {track_id}: labelled {moods}" for track_id, moods in conflicting[:LEFT_OUT_EXAMPLES]]
    left_out = {
        "rejected by ingest's checks": rejected,
        "no mood": unlabelled.height,
        "track labelled with different moods": labelled.filter(
            pl.col("track_id").is_in([track_id for track_id, _ in conflicting])
        ).height,
    }
    if rows_read == 0:
        raise BadInputError(f"{path}: the file has no rows, so there is nothing to measure")
    if tracks.height == 0:
        raise BadInputError(
            f"{path}: none of its {rows_read} rows can be measured ("
            + ", ".join(f"{why}: {n}" for why, n in left_out.items() if n)
            + f"), e.g. {'; '.join(examples[:LEFT_OUT_EXAMPLES])}"
        )
    return LabelledFile(
        path=path,
        fingerprint=digest,
        track_ids=tracks["track_id"].to_numpy(),
        features=tracks.select(FEATURES).to_numpy().astype(np.float32),
        labels=np.searchsorted(np.array(CLASSES), tracks["mood"].to_numpy()),
        rows_read=rows_read,
        left_out={why: n for why, n in left_out.items() if n},
        left_out_examples=tuple(examples[:LEFT_OUT_EXAMPLES]),
    )


def collect(batches: Batches) -> tuple[list[pl.DataFrame], int, list[str]]:
    """The accepted rows' batches, how many were rejected, and the first rejects' reasons."""
    accepted, rejected, examples = [], 0, []
    for good, bad in batches:
        accepted.append(good.select("source_row", "track_id", *FEATURES, "mood"))
        rejected += bad.height
        examples += [f"row {row}: {why}" for row, why in bad.select("source_row", "reason").head(5).iter_rows()]
    return accepted, rejected, examples


def one_row_per_track(labelled: pl.DataFrame) -> tuple[pl.DataFrame, list[tuple[str, str]]]:
    """A track listed more than once counts once (its last row's features) when every row gives it the same
    mood; a track given different moods cannot be scored right or wrong, so it is left out."""
    if labelled.height == 0:
        return labelled, []
    moods = labelled.group_by("track_id").agg(pl.col("mood").unique().sort())
    conflicting = moods.filter(pl.col("mood").list.len() > 1)
    tracks = (
        labelled.join(conflicting.select("track_id"), on="track_id", how="anti")
        .sort("source_row")
        .unique("track_id", keep="last", maintain_order=True)
    )
    return tracks, [(track_id, "/".join(found)) for track_id, found in conflicting.sort("track_id").iter_rows()]

