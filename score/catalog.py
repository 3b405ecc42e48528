"""Score a catalog incrementally and write `predictions` in one transaction.

A run scores only the tracks that need it: new ones, those whose features changed (a hash of the
features is kept with each prediction) and those predicted by another model version; `full_refresh`
rescores them all. Predictions of tracks that left the catalog are removed. Everything is written in
one transaction, so a reader, a crash or a `kill -9` sees the old predictions or the new ones, never
a mix; the next run picks up where the killed one would have.

The predictions come from one of score.engines: a native kernel, the model compiled to SQL, or Keras.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime

import duckdb
import keras

from moodcast.contract import CLASSES, PROBABILITY_COLUMNS
from moodcast.errors import BadInputError, NotReadyError
from moodcast.registry import ModelVersion
from moodcast.warehouse import require_table
from score.engines import choose_engine
from score.network import sql_text
from score.progress import NO_PROGRESS, ProgressBar

log = logging.getLogger("score")

# What the predictions hold beyond the contract: the hash of the features each one was computed from
# (a changed track is rescored) and the catalog it came from (a track that leaves it is removed).
# The probabilities are Keras's float32 values, stored as they are. Track ids are stored uncompressed:
# they are random base-62 strings that DuckDB's string compression (DICT_FSST) shrinks by about a
# fifth at twice the cost of the whole write (measured at 10 M tracks: 3.9 s against 1.8 s).
PREDICTION_COLUMN_TYPES = {
    "track_id": "varchar not null using compression uncompressed",
    "mood": "varchar not null",
    "confidence": "float not null",
    **{column: "float not null" for column in PROBABILITY_COLUMNS},
    "model_version": "varchar not null",
    "scored_at": "timestamptz not null",
    "features_hash": "ubigint not null",
    "catalog": "varchar not null",
}
PREDICTIONS_DDL = ("create or replace table predictions ("
                   + ", ".join(f"{column} {kind}" for column, kind in PREDICTION_COLUMN_TYPES.items()) + ")")
PREDICTIONS_COLUMNS = tuple(PREDICTION_COLUMN_TYPES)
HISTORY_COLUMNS = PREDICTIONS_COLUMNS[:-1]


@dataclass(frozen=True)
class Catalog:
    """The tracks to score: a relation with `track_id` and the features, one row per track."""

    name: str  # recorded with each prediction: "track_features", or the catalog file's path
    relation: str


WAREHOUSE_CATALOG = Catalog("track_features", "track_features")


@dataclass(frozen=True)
class Outcome:
    scored: int
    skipped: int  # already predicted by this model version from the same features
    removed: int  # predictions of tracks no longer in the catalog
    engine: str
    seconds: float  # planning, computing and writing, commit included

    @property
    def rows_per_s(self) -> float:
        return self.scored / self.seconds if self.seconds > 0 else 0.0


def load_model(model_version: ModelVersion) -> tuple[keras.Model, list[str]]:
    """The version's Keras model and the feature columns it takes, in order."""
    metadata = model_version.metadata()
    if list(metadata["classes"]) != list(CLASSES):
        raise BadInputError(
            f"model {model_version.version} predicts {metadata['classes']}, not moodcast's classes {list(CLASSES)}"
        )
    return model_version.load(), metadata["features"]


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


def predictions_are_current(connection: duckdb.DuckDBPyConnection) -> bool | None:
    """None: no predictions table; False: one from before incremental scoring (rescore all); True: usable."""
    columns = {row[0] for row in connection.execute(
        "select column_name from duckdb_columns() where table_name = 'predictions'"
        " and database_name = current_database() and schema_name = current_schema()"
    ).fetchall()}
    if not columns:
        return None
    return set(PREDICTIONS_COLUMNS) <= columns


def count(connection: duckdb.DuckDBPyConnection, sql: str) -> int:
    return connection.execute(f"select count(*) from {sql}").fetchall()[0][0]


def score_catalog(
    connection: duckdb.DuckDBPyConnection,
    model_version: ModelVersion,
    scored_at: datetime,
    catalog: Catalog = WAREHOUSE_CATALOG,
    *,
    full_refresh: bool = False,
    history: bool = False,
    engine: str = "auto",
    progress: ProgressBar = NO_PROGRESS,
) -> Outcome:
    """Bring `predictions` up to date with the catalog and the model version; see the module's docstring."""
    model, features = load_model(model_version)
    if catalog is WAREHOUSE_CATALOG:
        check_catalog(connection, features)
    scorer = choose_engine(model, features, engine)
    started = time.monotonic()
    connection.execute("set preserve_insertion_order = false")  # predictions have no order: DuckDB writes faster
    version, name = sql_text(model_version.version), sql_text(catalog.name)
    feature_list = ", ".join(features)
    # Queries, not temporary views: an engine may read them on a connection of its own.
    catalog_rows = (f"select track_id, {feature_list}, hash({feature_list}) as features_hash "
                    f"from {catalog.relation}")
    current = predictions_are_current(connection)
    if current is False:
        log.info("the predictions table predates incremental scoring: rescoring every track")
    in_catalog = count(connection, f"({catalog_rows})")
    rows, removed, others = catalog_rows, 0, 0
    planned = f"({catalog_rows})"  # the rows to score, as this connection reads them
    gone = f"catalog = {name} and track_id not in (select track_id from ({catalog_rows}))"
    if current:
        # Joined on 64-bit hashes of the track ids, so DuckDB's hash tables hold numbers, not strings, and stay
        # in memory. Skipping a track wrongly would take its id's hash and its features' hash both colliding.
        if not full_refresh:
            rows = (f"select c.* from ({catalog_rows}) c anti join (select hash(track_id) as track_key, "
                    f"features_hash from predictions where model_version = {version}) p "
                    "on p.track_key = hash(c.track_id) and p.features_hash = c.features_hash")
            # Counted and deleted from here; an engine reading on a connection of its own runs `rows` itself.
            connection.execute(f"create or replace temp table to_score as {rows}")
            planned = "to_score"
        removed = count(connection, f"(select hash(track_id) as track_key from predictions where catalog = {name}) p"
                                    f" anti join ({catalog_rows}) c on p.track_key = hash(c.track_id)")
        others = count(connection, f"predictions where catalog <> {name}")
    scoring = count(connection, planned)
    skipped = in_catalog - scoring
    if scoring == 0 and removed == 0:
        log.info("nothing to score: all %d tracks of %s already have predictions from model %s and their current "
                 "features", in_catalog, catalog.name, model_version.version)
        return Outcome(0, skipped, 0, scorer.name, time.monotonic() - started)
    # Rewriting the whole table is faster than deleting most of its rows: when no prediction is kept.
    replace = not current or (skipped == 0 and others == 0)
    log.info("scoring %d of %d tracks of %s (%d unchanged, skipped; %d gone from it, removed) with model %s, "
             "%s", scoring, in_catalog, catalog.name, skipped, removed, model_version.version, scorer.name)
    # One transaction: readers, and a run killed half-way, see the old predictions or the new ones.
    connection.begin()
    try:
        if replace:
            connection.execute(PREDICTIONS_DDL)
        else:
            connection.execute(
                f"delete from predictions where track_id in (select track_id from {planned}) or ({gone})"
            )

        def insert(scored: str) -> str:
            return f"insert into predictions {prediction_rows(scored, version, scored_at, name)}"

        scorer.write(connection, rows, insert, scoring, progress)
        if history:
            append_history(connection, scored_at)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return Outcome(scoring, skipped, removed, scorer.name, time.monotonic() - started)


def prediction_rows(scored: str, version: str, scored_at: datetime, catalog: str) -> str:
    """The predictions' columns, from a relation with track_id, features_hash, mood, confidence and probabilities."""
    return (
        f"select track_id, mood, confidence, {', '.join(PROBABILITY_COLUMNS)}, {version} as model_version, "
        f"{sql_text(scored_at.isoformat())}::timestamptz as scored_at, features_hash, {catalog} as catalog "
        f"from {scored}"
    )


def append_history(connection: duckdb.DuckDBPyConnection, scored_at: datetime) -> None:
    """Keep this run's predictions in prediction_history: one row per track, model version and features."""
    columns = ", ".join(HISTORY_COLUMNS)
    connection.execute(
        f"create table if not exists prediction_history as select {columns} from predictions limit 0"
    )
    connection.execute(
        f"insert into prediction_history select {columns} from predictions p"
        f" where scored_at = {sql_text(scored_at.isoformat())}::timestamptz and not exists ("
        "select 1 from prediction_history h where h.track_id = p.track_id and h.model_version = p.model_version"
        " and h.features_hash = p.features_hash)"
    )


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
