"""How predictions are stored: the tables and the view, the write transaction, the history.

`predictions` is a view: each track's probabilities are stored in `track_predictions` with the id
of the run that made them, and what is the same for a whole run (model version, time, catalog) once,
in `scoring_runs`. Writing those three on every row cost a third of the time DuckDB takes to write the
rest (measured at 10 M tracks: 0.6 s on 1.9 s). The mood and the confidence follow from the
probabilities, so the view computes them as it reads: storing them made the whole run a sixth slower
(measured at 10 M tracks: 3.5 s against 2.9 s), and reading them costs an analyst 0.2 s per 10 M rows.
"""

import contextlib
from datetime import datetime
from typing import TYPE_CHECKING

import duckdb

from moodcast.contract import CLASSES, PROBABILITY_COLUMNS
from moodcast.progress import Progress
from moodcast.sql import sql_text

if TYPE_CHECKING:
    from score.engines import BatchEngine
    from score.plan import Plan

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


def store(connection: duckdb.DuckDBPyConnection, plan: "Plan", scorer: "BatchEngine", model_version: str,
          scored_at: datetime, catalog: str, history: bool, progress: Progress) -> None:
    """Write the plan's predictions, computed by `scorer` as they are written, in one transaction: readers, and a
    run killed half-way, see the old predictions or the new ones."""
    connection.begin()
    try:
        if plan.replace:
            connection.execute(table_ddl("track_predictions", PREDICTION_COLUMN_TYPES))
        else:
            # Two statements: one deleting either kind of row scans the whole table for each (1.5 s against 0.6 s at
            # 10 M predictions, 100,000 changed tracks).
            connection.execute(f"delete from track_predictions where track_id in (select track_id from {plan.planned})")
            if plan.gone:
                connection.execute(f"delete from track_predictions where {plan.gone}")
        connection.execute(table_ddl("scoring_runs", RUN_COLUMN_TYPES, replace=False))
        connection.execute(PREDICTIONS_VIEW)
        (run_id,), = connection.execute("select coalesce(max(run_id), 0) + 1 from scoring_runs").fetchall()
        connection.execute("insert into scoring_runs values (?, ?, ?, ?, ?, ?, ?, ?)",
                           [run_id, model_version, scored_at, catalog, scorer.name, plan.scoring, plan.skipped,
                            plan.removed])
        scored_columns = ", ".join(column for column in PREDICTION_COLUMN_TYPES if column != "run_id")

        def insert(scored: str) -> str:
            return f"insert into track_predictions by name select {scored_columns}, {run_id} as run_id from {scored}"

        scorer.write(connection, plan.rows, insert, plan.scoring, progress)
        if history:
            append_history(connection, run_id)
        connection.commit()
    except BaseException:
        with contextlib.suppress(duckdb.TransactionException):  # a failed commit has ended the transaction
            connection.rollback()
        raise


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
