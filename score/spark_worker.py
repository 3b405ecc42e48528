"""What `python -m score spark` runs in Spark's Python workers: check each Arrow batch as ingest does, score it.

Spark hands these functions an iterator of Arrow record batches (`mapInArrow`) and ships them to the
workers by reference, with their arguments pickled: the model's kernel weights (a few kilobytes) travel with
the function, so executors need moodcast installed but no model registry and never TensorFlow. The kernel is
built once per Python worker (Spark reuses its workers across tasks) and kept for the next task of the same
model. Imports that load numba wait until the worker has pointed numba's cache at a folder it can write.
"""

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa

from ingest.files import accepted_rows, rejected_rows, with_checks
from ingest.mapping import ColumnMapping
from moodcast.contract import PROBABILITY_COLUMNS
from moodcast.model.weights import Weights

if TYPE_CHECKING:
    from score.kernel import Kernel

NAME_COLUMNS = ("track_name", "artist_name")
NUMBA_CACHE = os.path.join(tempfile.gettempdir(), "moodcast-numba-cache")


@dataclass(frozen=True)
class BatchScoring:
    """Everything a worker needs to check and score a catalog's batches: pickled into every task."""

    model_sha256: str  # which model the weights are, so a worker keeps one kernel per model
    weights: Weights
    features: tuple[str, ...]
    columns: dict[str, str]  # landing column → the catalog's column, as ingest.files.resolve_columns found them
    mapping: ColumnMapping
    names: tuple[str, ...]  # the name columns the catalog has (NAME_COLUMNS present in `columns`)

    def scored_schema(self) -> pa.Schema:
        return pa.schema([pa.field("track_id", pa.string()), *(pa.field(name, pa.string()) for name in self.names),
                          *(pa.field(column, pa.float32()) for column in PROBABILITY_COLUMNS)])


_kernels: dict[str, "Kernel"] = {}  # this worker's kernels, by model


def kernel_for(scoring: BatchScoring) -> "Kernel":
    if scoring.model_sha256 not in _kernels:
        # Where site-packages is read-only (a packed environment, an image), numba's cache beside the code fails.
        os.environ.setdefault("NUMBA_CACHE_DIR", NUMBA_CACHE)
        from score.kernel import Kernel

        _kernels[scoring.model_sha256] = Kernel(scoring.weights)
    return _kernels[scoring.model_sha256]


def scored_batches(scoring: BatchScoring, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The usable rows of each batch (ingest's checks) with their probabilities; the others left to rejects."""
    kernel = kernel_for(scoring)
    schema = scoring.scored_schema()
    for batch in batches:
        good = accepted_rows(with_checks(pl.from_arrow(batch), scoring.columns, scoring.mapping))
        probabilities = kernel.predict([good[feature].to_numpy() for feature in scoring.features])
        yield from as_batches([*(good[name].to_arrow() for name in ("track_id", *scoring.names)),
                               *map(pa.array, probabilities)], schema)


def as_batches(arrays: list[pa.Array], schema: pa.Schema) -> list[pa.RecordBatch]:
    """The arrays as batches of exactly the schema Spark was promised (polars hands strings over as large ones)."""
    return pa.Table.from_arrays(arrays, names=schema.names).cast(schema).to_batches()


REJECTS_SCHEMA = pa.schema([pa.field("source_file", pa.string()), pa.field("source_row", pa.int64()),
                            pa.field("track_reference", pa.string()), pa.field("reason", pa.string()),
                            pa.field("raw_record", pa.string())])


def rejected_batches(scoring: BatchScoring, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The unusable rows of each batch (the catalog's columns, then `source_file` and `source_row`: where the row
    is) with ingest's reasons."""
    for batch in batches:
        frame = pl.from_arrow(batch)
        original = frame.columns[:-2]
        # ingest numbers the rows of one file; a batch may span files, so it is checked with rows numbered in the
        # batch, and each reject then takes its file and row from that number.
        numbered = frame.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("source_row"), *original)
        bad = rejected_rows(with_checks(numbered, scoring.columns, scoring.mapping), original, scoring.columns,
                            scoring.mapping)
        where = frame.select("source_file", "source_row")[bad["source_row"]]
        yield from as_batches([*(where[column].to_arrow() for column in ("source_file", "source_row")),
                               *(bad[column].to_arrow() for column in ("track_reference", "reason", "raw_record"))],
                              REJECTS_SCHEMA)
