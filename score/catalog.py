"""Score a catalog incrementally and write `predictions` in one transaction.

A run scores only the tracks that need it: new ones, those whose features changed (a hash of the
features is kept with each prediction) and those predicted by another model version; `full_refresh`
rescores them all. Predictions of tracks that left the catalog are removed. Everything is written in
one transaction, so a reader, a crash or a `kill -9` sees the old predictions or the new ones, never
a mix; the next run picks up where the killed one would have.

`predictions` is a view: each track's probabilities are stored in `track_predictions` with the id
of the run that made them, and what is the same for a whole run (model version, time, catalog) once,
in `scoring_runs`. Writing those three on every row cost a third of the time DuckDB takes to write the
rest (measured at 10 M tracks: 0.6 s on 1.9 s). The mood and the confidence follow from the
probabilities, so the view computes them as it reads: storing them made the whole run a sixth slower
(measured at 10 M tracks: 3.5 s against 2.9 s), and reading them costs an analyst 0.2 s per 10 M rows.

The predictions come from one of score.engines: the native kernel, or Keras.
"""

import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime

import duckdb

from moodcast.contract import CLASSES, FEATURE_RANGES, PROBABILITY_COLUMNS
from moodcast.errors import BadInputError, NotReadyError
from moodcast.model.registry import ModelVersion
from moodcast.sql import sql_text
from moodcast.warehouse import require_table
from score.engines import engine_for
from score.progress import NO_PROGRESS, ProgressBar

log = logging.getLogger("score")

# Each track's probabilities, and beyond the contract the hash of the features they were computed from
# (a changed track is rescored) and its run. The probabilities are Keras's float32 values, stored as
# they are. Track ids and hashes are stored uncompressed: random base-62 strings and random 64-bit
# numbers, which DuckDB's compression shrinks by a fifth or not at all, at twice the cost of the whole
# write for the ids (measured at 10 M tracks: 3.9 s against 1.8 s).
PREDICTION_COLUMN_TYPES = {
    "track_id": "varchar not null using compression uncompressed",
    **{column: "float not null" for column in PROBABILITY_COLUMNS},
    # As the catalog had them when the track was scored: stored, because joining track_features for them in
    # the view made every query of predictions ten times slower (measured at 10 M tracks: 5.2 s against 0.4 s).
    "track_name": "varchar",
    "artist_name": "varchar",
    "features_hash": "ubigint not null using compression uncompressed",
    "run_id": "integer not null",
}
RUN_COLUMN_TYPES = {
    "run_id": "integer primary key",
    "model_version": "varchar not null",
    "scored_at": "timestamptz not null",
    "catalog": "varchar not null",  # "track_features", or the catalog file's path: a track that leaves it is removed
    "engine": "varchar not null",
    "scored": "bigint not null",
    "skipped": "bigint not null",
    "removed": "bigint not null",
}
# What analysts read: the contract's columns, the features hash, the catalog, then the track's names.
HISTORY_COLUMNS = ("track_id", "mood", "confidence", *PROBABILITY_COLUMNS, "model_version", "scored_at",
                   "features_hash")
NAME_COLUMNS = ("track_name", "artist_name")
PREDICTIONS_COLUMNS = (*HISTORY_COLUMNS, "catalog", *NAME_COLUMNS)
STORED_PREDICTIONS = "track_predictions p join scoring_runs r using (run_id)"
# What a catalog without names (a catalog file) gives for them.
NO_NAMES = "null::varchar as track_name, null::varchar as artist_name"


def largest(values: list[str]) -> str:
    """The largest of the SQL values, by comparisons: DuckDB's greatest() takes four times as long."""
    if len(values) == 1:
        return values[0]
    first, second = largest(values[:len(values) // 2]), largest(values[len(values) // 2:])
    # CASE, not if(): DuckDB 1.x, which readers of the published warehouse may run, has no if().
    return f"case when {first} >= {second} then {first} else {second} end"


PROBABILITIES = [f"p.{column}" for column in PROBABILITY_COLUMNS]
# The first most probable class, as numpy's argmax picks it: each class that no later class beats, in order
# (the earlier ones have lost to some class by then). 0.14 s over 10 M predictions, the confidence 0.09 s.
MOOD = "case " + " ".join(
    f"when {' and '.join(f'{p} >= {later}' for later in PROBABILITIES[i + 1:])} then {sql_text(CLASSES[i])}"
    for i, p in enumerate(PROBABILITIES[:-1])
) + f" else {sql_text(CLASSES[-1])} end"
DERIVED = {"mood": MOOD, "confidence": largest(PROBABILITIES)}


def stored(columns: tuple[str, ...]) -> str:
    """The columns of predictions, as STORED_PREDICTIONS names them or computes them."""
    return ", ".join(f"{DERIVED[column]} as {column}" if column in DERIVED else f"r.{column}"
                     if column in RUN_COLUMN_TYPES else f"p.{column}" for column in columns)


PREDICTIONS_VIEW = (f"create or replace view predictions as select {stored(PREDICTIONS_COLUMNS)} "
                    f"from {STORED_PREDICTIONS}")


def table_ddl(name: str, column_types: dict[str, str], replace: bool = True) -> str:
    columns = ", ".join(f"{column} {kind}" for column, kind in column_types.items())
    return f"create {'or replace table' if replace else 'table if not exists'} {name} ({columns})"


@dataclass(frozen=True)
class Catalog:
    """The tracks to score: a relation with `track_id` and the features, one row per track."""

    name: str  # recorded with each prediction: "track_features", or the catalog file's path
    relation: str
    names: str = ", ".join(NAME_COLUMNS)  # the track_name and artist_name columns, or NO_NAMES


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


def model_features(model_version: ModelVersion) -> list[str]:
    """The feature columns the version's model takes, in order; it must predict moodcast's classes."""
    metadata = model_version.metadata()
    if list(metadata["classes"]) != list(CLASSES):
        raise BadInputError(
            f"model {model_version.version} predicts {metadata['classes']}, not moodcast's classes {list(CLASSES)}"
        )
    return metadata["features"]


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


def has_predictions(connection: duckdb.DuckDBPyConnection) -> bool:
    return connection.execute(
        "select count(*) from duckdb_tables() where database_name = current_database()"
        " and schema_name = current_schema() and table_name = 'track_predictions'"
    ).fetchall() == [(1,)]


def count(connection: duckdb.DuckDBPyConnection, sql: str) -> int:
    return connection.execute(f"select count(*) from {sql}").fetchall()[0][0]


def warn_out_of_range(connection: duckdb.DuckDBPyConnection, catalog: Catalog, in_range: str) -> None:
    """Tracks whose features are outside their documented ranges are not scored: say which.

    Ingest rejects such rows and dbt tests for them, but a warehouse built by an earlier moodcast may hold
    some; one of them must not stop the run (a tempo of 1e39 does not even fit the model's float32 input)."""
    if not in_range:
        return
    outside = f"{catalog.relation} where not coalesce({in_range}, false)"
    tracks = count(connection, outside)
    if tracks:
        examples = [row[0] for row in
                    connection.execute(f"select track_id from {outside} order by track_id limit 5").fetchall()]
        log.warning("%d tracks of %s have features outside their documented ranges and are not scored (e.g. %s): "
                    "correct and ingest their files again, then run `make build`", tracks, catalog.name,
                    ", ".join(examples))


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
    features = model_features(model_version)
    if catalog is WAREHOUSE_CATALOG:
        check_catalog(connection, features)
    scorer = engine_for(model_version, engine)
    started = time.monotonic()
    connection.execute("set preserve_insertion_order = false")  # predictions have no order: DuckDB writes faster
    version, name = sql_text(model_version.version), sql_text(catalog.name)
    feature_list = ", ".join(features)
    # Queries, not temporary views: an engine may read them on a connection of its own.
    in_range = " and ".join(f"{feature} between {FEATURE_RANGES[feature].low} and {FEATURE_RANGES[feature].high}"
                            for feature in features if feature in FEATURE_RANGES)
    catalog_rows = (f"select track_id, {catalog.names}, {feature_list}, hash({feature_list}) as features_hash "
                    f"from {catalog.relation} where {in_range or 'true'}")
    warn_out_of_range(connection, catalog, in_range)
    predicted = has_predictions(connection)
    in_catalog = count(connection, f"({catalog_rows})")
    rows, removed, others = catalog_rows, 0, 0
    planned = f"({catalog_rows})"  # the rows to score, as this connection reads them
    of_this_catalog = f"run_id in (select run_id from scoring_runs where catalog = {name})"
    gone = f"{of_this_catalog} and track_id not in (select track_id from ({catalog_rows}))"
    if predicted:
        # Joined on 64-bit hashes of the track ids, so DuckDB's hash tables hold numbers, not strings, and stay
        # in memory. Skipping a track wrongly would take its id's hash and its features' hash both colliding.
        if not full_refresh:
            rows = (f"select c.* from ({catalog_rows}) c anti join (select hash(track_id) as track_key, "
                    "features_hash from track_predictions where run_id in "
                    f"(select run_id from scoring_runs where model_version = {version})) p "
                    "on p.track_key = hash(c.track_id) and p.features_hash = c.features_hash")
            # Counted and deleted from here; an engine reading on a connection of its own runs `rows` itself.
            connection.execute(f"create or replace temp table to_score as {rows}")
            planned = "to_score"
        removed = count(connection, f"(select hash(track_id) as track_key from track_predictions "
                                    f"where {of_this_catalog}) p anti join ({catalog_rows}) c "
                                    "on p.track_key = hash(c.track_id)")
        others = count(connection, f"track_predictions where not {of_this_catalog}")
    scoring = count(connection, planned)
    skipped = in_catalog - scoring
    if scoring == 0 and removed == 0:
        log.info("nothing to score: all %d tracks of %s already have predictions from model %s and their current "
                 "features", in_catalog, catalog.name, model_version.version)
        return Outcome(0, skipped, 0, scorer.name, time.monotonic() - started)
    # Rewriting the whole table is faster than deleting most of its rows: when no prediction is kept.
    replace = not predicted or (skipped == 0 and others == 0)
    log.info("scoring %d of %d tracks of %s (%d unchanged, skipped; %d gone from it, removed) with model %s, "
             "%s", scoring, in_catalog, catalog.name, skipped, removed, model_version.version, scorer.name)
    # One transaction: readers, and a run killed half-way, see the old predictions or the new ones.
    connection.begin()
    try:
        if replace:
            connection.execute(table_ddl("track_predictions", PREDICTION_COLUMN_TYPES))
        else:
            connection.execute(
                f"delete from track_predictions where track_id in (select track_id from {planned}) or ({gone})"
            )
        connection.execute(table_ddl("scoring_runs", RUN_COLUMN_TYPES, replace=False))
        connection.execute(PREDICTIONS_VIEW)
        (run_id,), = connection.execute("select coalesce(max(run_id), 0) + 1 from scoring_runs").fetchall()
        connection.execute("insert into scoring_runs values (?, ?, ?, ?, ?, ?, ?, ?)",
                            [run_id, model_version.version, scored_at, catalog.name, scorer.name, scoring, skipped,
                             removed])
        scored_columns = ", ".join(column for column in PREDICTION_COLUMN_TYPES if column != "run_id")

        def insert(scored: str) -> str:
            return f"insert into track_predictions by name select {scored_columns}, {run_id} as run_id from {scored}"

        scorer.write(connection, rows, insert, scoring, progress)
        if history:
            append_history(connection, run_id)
        connection.commit()
    except BaseException:
        with contextlib.suppress(duckdb.TransactionException):  # a failed commit has ended the transaction
            connection.rollback()
        raise
    return Outcome(scoring, skipped, removed, scorer.name, time.monotonic() - started)


def append_history(connection: duckdb.DuckDBPyConnection, run_id: int) -> None:
    """Keep this run's predictions in prediction_history: one row per track, model version and features."""
    columns = ", ".join(HISTORY_COLUMNS)
    connection.execute(
        f"create table if not exists prediction_history as select {columns} from predictions limit 0"
    )
    connection.execute(
        f"insert into prediction_history select {stored(HISTORY_COLUMNS)} from {STORED_PREDICTIONS} "
        f"where run_id = {run_id} and not exists (select 1 from prediction_history h where h.track_id = p.track_id "
        "and h.model_version = r.model_version and h.features_hash = p.features_hash)"
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
