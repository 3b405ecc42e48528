"""Score a catalog: read features in Arrow batches, predict, write `predictions` in one swap."""

from collections.abc import Iterator
from datetime import datetime

import duckdb
import keras
import numpy as np
import pyarrow as pa

from moodcast.contract import CLASSES, PROBABILITY_COLUMNS
from moodcast.errors import BadInputError, NotReadyError
from moodcast.registry import ModelVersion
from moodcast.warehouse import require_table

BATCH_ROWS = 100_000  # rows per Arrow batch: large enough to amortise the Keras call, small for memory

PREDICTIONS_SCHEMA = pa.schema(
    [
        pa.field("track_id", pa.string(), nullable=False),
        pa.field("mood", pa.string(), nullable=False),
        pa.field("confidence", pa.float64(), nullable=False),
        *(pa.field(column, pa.float64(), nullable=False) for column in PROBABILITY_COLUMNS),
        pa.field("model_version", pa.string(), nullable=False),
        pa.field("scored_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)

PREDICTIONS_DDL = f"""
create or replace table predictions (
    track_id varchar not null,
    mood varchar not null,
    confidence double not null,
    {" ".join(f"{column} double not null," for column in PROBABILITY_COLUMNS)}
    model_version varchar not null,
    scored_at timestamptz not null
)
"""


def load_model(model_version: ModelVersion) -> tuple[keras.Model, list[str]]:
    """The version's Keras model and the feature columns it takes, in order."""
    metadata = model_version.metadata()
    if list(metadata["classes"]) != list(CLASSES):
        raise BadInputError(
            f"model {model_version.version} predicts {metadata['classes']}, not moodcast's classes {list(CLASSES)}"
        )
    return keras.saving.load_model(model_version.model_file), metadata["features"]


def check_catalog(connection: duckdb.DuckDBPyConnection, features: list[str]) -> int:
    """Fail clearly unless track_features exists, has the model's features and has rows; return its size."""
    require_table(connection, "track_features", "ingest a catalog (`make ingest`), then run `make build`")
    columns = {row[0] for row in connection.execute("select column_name from (describe track_features)").fetchall()}
    missing = [feature for feature in features if feature not in columns]
    if missing:
        raise BadInputError(
            f"track_features lacks feature column(s) the model needs: {', '.join(missing)}. "
            "Rebuild the warehouse with this moodcast version (`make build`) or train a model on it (`make train`)."
        )
    rows = connection.execute("select count(*) from track_features").fetchall()[0][0]
    if rows == 0:
        raise NotReadyError(
            "track_features is empty: there is nothing to score. Ingest a catalog "
            "(`python -m ingest files PATH`), then run `make build`."
        )
    return rows


def predict_batches(
    reader: pa.RecordBatchReader, model: keras.Model, features: list[str], version: str, scored_at: datetime
) -> Iterator[pa.RecordBatch]:
    for batch in reader:
        inputs = np.column_stack([batch.column(f).to_numpy().astype(np.float32) for f in features])
        probabilities = np.asarray(model(inputs, training=False), dtype=np.float64)
        best = probabilities.argmax(axis=1)
        rows = batch.num_rows
        yield pa.RecordBatch.from_arrays(
            [
                batch.column("track_id"),
                pa.array(np.array(CLASSES)[best]),
                pa.array(probabilities[np.arange(rows), best]),
                *(pa.array(probabilities[:, index]) for index in range(len(CLASSES))),
                pa.array([version] * rows),
                pa.array([scored_at] * rows, pa.timestamp("us", tz="UTC")),
            ],
            schema=PREDICTIONS_SCHEMA,
        )


def score_catalog(connection: duckdb.DuckDBPyConnection, model_version: ModelVersion, scored_at: datetime) -> int:
    """Replace `predictions` with a prediction for every track in track_features; return the row count."""
    model, features = load_model(model_version)
    check_catalog(connection, features)
    reader = connection.sql(
        f"select track_id, {', '.join(features)} from track_features order by track_id"
    ).to_arrow_reader(BATCH_ROWS)
    scored = pa.Table.from_batches(
        list(predict_batches(reader, model, features, model_version.version, scored_at)), schema=PREDICTIONS_SCHEMA
    )
    # One transaction: readers see the old predictions or the new ones, never a half-written table.
    connection.begin()
    connection.execute(PREDICTIONS_DDL)
    connection.execute("insert into predictions select * from scored")
    connection.commit()
    return scored.num_rows


def mood_counts(connection: duckdb.DuckDBPyConnection) -> list[tuple[str, int, float, float]]:
    """(mood, tracks, share, mean confidence) for each mood, in class order."""
    return connection.execute(
        """
        select mood, count(*) as tracks, count(*) / sum(count(*)) over () as share, avg(confidence)
        from predictions
        group by mood
        order by mood
        """
    ).fetchall()
