"""How probabilities are computed: the model compiled to SQL, or Keras itself on Arrow batches.

Both take a relation with `track_id`, `features_hash` and the features, and give a relation with
`track_id`, `features_hash` and the four probabilities, which the write to `predictions` reads.
The compiled SQL is computed by DuckDB as it writes, with no round trip through Python: the fastest
way for small networks. Its cost grows with the network, Keras's much less: beyond
SQL_MAX_MULTIPLICATIONS per track, and for any layer without an SQL form, Keras is used.
"""

import logging
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import keras
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import tensorflow as tf

from moodcast import settings
from moodcast.contract import PROBABILITY_COLUMNS
from moodcast.errors import BadInputError
from score.network import CompiledNetwork, NotCompilable, compile_model, sql_text
from score.progress import ProgressBar

log = logging.getLogger("score")

BATCH_ROWS = 100_000  # rows per Arrow batch on the Keras path: large enough to amortise a call, small for memory
# Beyond this many multiplications per track, Keras on Arrow batches outruns DuckDB evaluating the SQL:
# measured at 10 M tracks on 2 cores, the article's network (112) scores 1.4x faster in SQL, five
# Dense(32) networks (2,240) several times faster in Keras.
SQL_MAX_MULTIPLICATIONS = 500
ENGINES = ("auto", "sql", "keras")


def scratch_dir() -> Path:
    """Scratch files of the running scoring run (one at a time: see moodcast.warehouse.exclusive)."""
    return settings.duckdb_temp_dir() / "score"


def clear_scratch() -> None:
    """Remove what a killed run left behind."""
    shutil.rmtree(scratch_dir(), ignore_errors=True)


class SqlEngine:
    """The model compiled to SQL: DuckDB computes the probabilities as it writes them."""

    name = "compiled SQL"

    def __init__(self, network: CompiledNetwork):
        self.network = network

    @contextmanager
    def probabilities(self, connection: duckdb.DuckDBPyConnection, rows: str, total: int,
                      progress: ProgressBar) -> Iterator[str]:
        yield f"({self.network.sql(rows, PROBABILITY_COLUMNS)})"

    def predict(self, features: pa.Table) -> np.ndarray:
        """The probabilities for a table of features, as a catalog run computes them (in memory)."""
        with duckdb.connect() as connection:
            connection.register("features", features)
            found = connection.execute(
                f"select {', '.join(PROBABILITY_COLUMNS)} from ({self.network.sql('features', PROBABILITY_COLUMNS)})"
            ).fetchnumpy()
        return np.column_stack([found[column] for column in PROBABILITY_COLUMNS])


class KerasEngine:
    """The Keras model itself, on Arrow batches, its probabilities staged in a Parquet scratch file."""

    name = "Keras on Arrow batches"

    def __init__(self, model: keras.Model, features: list[str]):
        self.features = features
        # A traced graph runs the model twice as fast as calling it eagerly; one signature, so one trace.
        self.model = tf.function(lambda inputs: model(inputs, training=False),
                                 input_signature=[tf.TensorSpec((None, len(features)), tf.float32)])

    @contextmanager
    def probabilities(self, connection: duckdb.DuckDBPyConnection, rows: str, total: int,
                      progress: ProgressBar) -> Iterator[str]:
        path = scratch_dir() / "probabilities.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        schema = pa.schema([pa.field("track_id", pa.string()), pa.field("features_hash", pa.uint64()),
                            *(pa.field(column, pa.float64()) for column in PROBABILITY_COLUMNS)])
        reader = connection.sql(f"select track_id, features_hash, {', '.join(self.features)} from {rows}")
        with (
            progress.rows("scoring with Keras", total) as advance,
            pq.ParquetWriter(path, schema, compression="none") as writer,  # scratch: speed over size
        ):
            for batch in reader.to_arrow_reader(BATCH_ROWS):
                probabilities = keras_probabilities(self.model, batch, self.features)
                writer.write_batch(pa.RecordBatch.from_arrays(
                    [batch.column("track_id"), batch.column("features_hash"),
                     *(pa.array(probabilities[:, i]) for i in range(len(PROBABILITY_COLUMNS)))],
                    schema=schema,
                ))
                advance(batch.num_rows)
        try:
            yield f"read_parquet({sql_text(str(path))})"
        finally:
            path.unlink(missing_ok=True)

    def predict(self, features: pa.Table) -> np.ndarray:
        return keras_probabilities(self.model, features, self.features)


def keras_probabilities(model: Callable, batch: pa.RecordBatch | pa.Table, features: list[str]) -> np.ndarray:
    inputs = np.column_stack([batch.column(f).to_numpy(zero_copy_only=False) for f in features]).astype(np.float32)
    return np.asarray(model(inputs), dtype=np.float64)


def choose_engine(model: keras.Model, features: list[str], requested: str = "auto") -> SqlEngine | KerasEngine:
    """Compiled SQL where it is the faster way (and possible), else Keras on Arrow batches."""
    if requested not in ENGINES:
        raise BadInputError(f"unknown scoring engine {requested!r}: expected one of {', '.join(ENGINES)}")
    if requested == "keras":
        return KerasEngine(model, features)
    try:
        network = compile_model(model, features)
    except NotCompilable as why:
        if requested == "sql":
            raise BadInputError(f"the model cannot be compiled to SQL: it has {why}; use --engine keras") from None
        log.warning("the model has %s, which has no SQL form: scoring with Keras on Arrow batches (correct, slower)",
                    why)
        return KerasEngine(model, features)
    if requested == "auto" and network.multiplications > SQL_MAX_MULTIPLICATIONS:
        log.info("the model takes %d multiplications per track, more than DuckDB does faster than Keras (%d): "
                 "scoring with Keras on Arrow batches", network.multiplications, SQL_MAX_MULTIPLICATIONS)
        return KerasEngine(model, features)
    return SqlEngine(network)
