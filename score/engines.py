"""How predictions are computed and written: a native kernel, or Keras.

Every engine takes a query of the tracks to score (`track_id`, its names, `features_hash` and the features)
and hands `insert(relation)` a relation with `track_id`, the names, `features_hash` and the four probabilities;
`insert` gives the statement that writes them to `predictions` (whose view derives mood and confidence).

- The native kernel (score.kernel) runs every model `python -m train` exports; it computes on Arrow
  batches in a thread of its own while DuckDB writes the previous chunk, so the two overlap.
- Keras on Arrow batches, pipelined like the kernel, runs any model at all.

`auto` picks the kernel when it can take the model, else Keras. A model version whose kernel
weights are saved (moodcast.model.weights) is scored without loading Keras at all: TensorFlow, 2 s
and 550 MB to import, is imported only where an engine needs it.
"""

import logging
import queue
import shutil
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa

from moodcast import settings
from moodcast.contract import PROBABILITY_COLUMNS
from moodcast.errors import BadInputError
from moodcast.model.registry import ModelVersion
from moodcast.model.weights import NotCompilable, save_weights, saved_weights
from moodcast.progress import Progress

if TYPE_CHECKING:
    import keras

    from score.kernel import Kernel

log = logging.getLogger("score")

BATCH_ROWS = 65_536  # rows per Arrow batch computed at once: large enough to amortise a call, small for cache
# Batches are computed on both cores, between and alongside DuckDB's writes (the kernel releases the GIL).
COMPUTE_THREADS = 2
CHUNK_ROWS = 1_048_576  # rows per insert: DuckDB writes a chunk on every core while the next one is computed
ENGINES = ("auto", "kernel", "keras")
SCORED_SCHEMA = pa.schema([
    pa.field("track_id", pa.string()),
    pa.field("track_name", pa.string()),
    pa.field("artist_name", pa.string()),
    pa.field("features_hash", pa.uint64()),
    *(pa.field(column, pa.float32()) for column in PROBABILITY_COLUMNS),
])
Insert = Callable[[str], str]  # relation -> the statement writing its rows to predictions


def scratch_dir() -> Path:
    """Scratch files of the running scoring run (one at a time: see moodcast.warehouse.exclusive)."""
    return settings.duckdb_temp_dir() / "score"


def clear_scratch() -> None:
    """Remove what a killed run left behind."""
    shutil.rmtree(scratch_dir(), ignore_errors=True)


class BatchEngine:
    """Computes on Arrow batches in Python, in a thread of its own, while DuckDB inserts the last chunk."""

    name: str

    def __init__(self, features: list[str]):
        self.features = features

    def compute(self, columns: list[np.ndarray]) -> np.ndarray:
        """The probabilities (classes, n) float32 from one float32 array of n values per feature."""
        raise NotImplementedError

    def write(self, connection: duckdb.DuckDBPyConnection, rows: str, insert: Insert, total: int,
              progress: Progress) -> None:
        # Read on a connection of its own (`rows` names no temporary object): this one is busy inserting.
        reader = connection.cursor()
        features = ", ".join(f"{feature}::float as {feature}" for feature in self.features)  # what Keras sees
        batches = reader.sql(f"select track_id, track_name, artist_name, features_hash, {features} "
                             f"from ({rows})").to_arrow_reader(BATCH_ROWS)
        try:
            with progress.task("scoring", total) as advance:
                for chunk in in_background(chunks(bounded_map(self.scored, batches, COMPUTE_THREADS))):
                    # Named for this statement only: a table registered in a transaction stays referenced until
                    # it commits, unregistered or not, so the whole catalog's predictions would pile up in memory.
                    connection.from_arrow(chunk).query("scored_chunk", insert("scored_chunk"))
                    advance(chunk.num_rows)
        finally:
            reader.close()

    def scored(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        probabilities = self.compute([batch.column(feature).to_numpy() for feature in self.features])
        return pa.RecordBatch.from_arrays(
            [*(batch.column(name) for name in ("track_id", "track_name", "artist_name", "features_hash")),
             *(pa.array(p) for p in probabilities)],
            schema=SCORED_SCHEMA,
        )

    def predict(self, features: pa.Table) -> np.ndarray:
        """The probabilities (tracks, classes) for a table of features, as a catalog run computes them."""
        return self.compute([features.column(f).to_numpy().astype(np.float32) for f in self.features]).T.astype(
            np.float64)


class KernelEngine(BatchEngine):
    name = "native kernel"

    def __init__(self, kernel: "Kernel", features: list[str]):
        super().__init__(features)
        self.kernel = kernel

    def compute(self, columns: list[np.ndarray]) -> np.ndarray:
        return self.kernel.predict(columns)


class KerasEngine(BatchEngine):
    name = "Keras on Arrow batches"

    def __init__(self, model: "keras.Model", features: list[str]):
        import tensorflow as tf  # loaded with the model already

        super().__init__(features)
        # A traced graph runs the model twice as fast as calling it eagerly; one signature, so one trace.
        self.model = tf.function(lambda inputs: model(inputs, training=False),
                                 input_signature=[tf.TensorSpec((None, len(features)), tf.float32)])

    def compute(self, columns: list[np.ndarray]) -> np.ndarray:
        return np.asarray(self.model(np.column_stack(columns)), dtype=np.float32).T.copy()


def bounded_map(function: Callable, items: Iterable, threads: int) -> Iterator:
    """function(item) for each item, in order, computed by `threads` threads with as many items in flight."""
    with ThreadPoolExecutor(threads, thread_name_prefix="score-compute") as pool:
        pending: deque[Future] = deque()
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) >= threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def chunks(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.Table]:
    """Batches gathered into tables of about CHUNK_ROWS rows."""
    gathered, rows = [], 0
    for batch in batches:
        gathered.append(batch)
        rows += batch.num_rows
        if rows >= CHUNK_ROWS:
            yield pa.Table.from_batches(gathered, SCORED_SCHEMA)
            gathered, rows = [], 0
    if gathered:
        yield pa.Table.from_batches(gathered, SCORED_SCHEMA)


def in_background(items: Iterator, ahead: int = 1) -> Iterator:
    """The items, produced by a thread of their own up to `ahead` items ahead; its errors raised here."""
    handoff: queue.Queue = queue.Queue(maxsize=ahead)
    done, stop = object(), threading.Event()

    def offer(item) -> bool:
        """Hand the item over unless the consumer has stopped; whether it was."""
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
            offer(done)
        except BaseException as error:  # handed to the consumer, which raises it
            offer(error)

    producer = threading.Thread(target=produce, name="score-compute", daemon=True)
    producer.start()
    try:
        while (item := handoff.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        producer.join()


def engine_for(model_version: ModelVersion, requested: str = "auto") -> BatchEngine:
    """choose_engine for a model version: the kernel from its saved weights if it has them, without Keras."""
    # numba, imported with the kernel, and the kernel's machine code cost 0.6 s: a run that computes nothing
    # (score.catalog) never asks for an engine, and does without them.
    from score.kernel import Kernel

    features = model_version.metadata()["features"]
    if requested in ("auto", "kernel") and (weights := saved_weights(model_version.path)) is not None:
        return KernelEngine(Kernel(weights), features)
    engine = choose_engine(model_version.load(), features, requested)
    if isinstance(engine, KernelEngine):  # saved for the next run, which then need not load Keras
        save_weights(engine.kernel.weights, model_version.path)
    return engine


def choose_engine(model: "keras.Model", features: list[str], requested: str = "auto") -> BatchEngine:
    """The fastest engine that can take the model (or the one requested); see the module's docstring."""
    # Imported here, where Keras is loaded already: it imports it.
    from moodcast.model.extract import extract_weights
    from score.kernel import Kernel

    if requested not in ENGINES:
        raise BadInputError(f"unknown scoring engine {requested!r}: expected one of {', '.join(ENGINES)}")
    if requested == "keras":
        return KerasEngine(model, features)
    try:
        return KernelEngine(Kernel(extract_weights(model, features)), features)
    except NotCompilable as why:
        if requested == "kernel":
            raise BadInputError(f"the native kernel cannot take the model: it has {why}; use --engine auto") from None
        log.warning("the native kernel does not take this model (it has %s): scoring with Keras on Arrow batches "
                    "(correct, slower)", why)
        return KerasEngine(model, features)
