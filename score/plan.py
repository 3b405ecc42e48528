"""What a run scores: the tracks of a catalog that are new, whose features changed (a hash of the features
is kept with each prediction) or that another model version predicted (`full_refresh`: all of them), and
the predictions of tracks that left the catalog, which go. Only the tracks the last build changed are
looked at when score.changes knows them.
"""

import logging
from dataclasses import dataclass

import duckdb

from moodcast.contract import CLASSES, FEATURE_RANGES
from moodcast.errors import BadInputError, NotReadyError
from moodcast.model.registry import ModelVersion
from moodcast.sql import sql_text
from moodcast.warehouse import require_table
from score.store import NAME_COLUMNS

log = logging.getLogger("score")

# Where a plan keeps the tracks it scores: in memory (spilled to DuckDB's temporary directory when they outgrow it).
SCRATCH = "score_scratch"
# What a catalog without names (a catalog file) gives for them.
NO_NAMES = "null::varchar as track_name, null::varchar as artist_name"


@dataclass(frozen=True)
class Catalog:
    """The tracks to score: a relation with `track_id` and the features, one row per track."""

    name: str  # recorded with each prediction: "track_features", or the catalog file's path
    relation: str
    names: str = ", ".join(NAME_COLUMNS)  # the track_name and artist_name columns, or NO_NAMES


WAREHOUSE_CATALOG = Catalog("track_features", "track_features")


@dataclass(frozen=True)
class Plan:
    rows: str  # the query of the tracks to score, which an engine may run on a connection of its own
    planned: str  # the same tracks, as this connection reads them
    gone: str | None  # the condition on track_predictions of this catalog's tracks that left it; None: none did
    in_catalog: int
    scoring: int
    removed: int  # predictions of tracks no longer in the catalog
    others: int  # predictions of other catalogs, kept
    predicted: bool  # whether there are predictions already

    @property
    def skipped(self) -> int:
        """Tracks already predicted by this model version from the same features."""
        return self.in_catalog - self.scoring

    @property
    def replace(self) -> bool:
        """Rewriting the whole table is faster than deleting most of its rows: when no prediction is kept."""
        return not self.predicted or (self.skipped == 0 and self.others == 0)


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


def warn_out_of_range(connection: duckdb.DuckDBPyConnection, catalog: Catalog, in_range: str,
                      considered: str = "") -> None:
    """Tracks whose features are outside their documented ranges are not scored: say which.

    Ingest rejects such rows and dbt tests for them, but a warehouse built by an earlier moodcast may hold
    some; one of them must not stop the run (a tempo of 1e39 does not even fit the model's float32 input)."""
    if not in_range:
        return
    outside = f"{catalog.relation} where not coalesce({in_range}, false){considered}"
    tracks = count(connection, outside)
    if tracks:
        examples = [row[0] for row in
                    connection.execute(f"select track_id from {outside} order by track_id limit 5").fetchall()]
        log.warning("%d tracks of %s have features outside their documented ranges and are not scored (e.g. %s): "
                    "correct and ingest their files again, then run `make build`", tracks, catalog.name,
                    ", ".join(examples))


def plan(connection: duckdb.DuckDBPyConnection, catalog: Catalog, features: list[str], model_version: str,
         full_refresh: bool, changed: str | None = None) -> Plan:
    """What this run scores and removes; see the module's docstring. changed: a query of the only track ids that
    can need it (score.changes), so that only those are hashed and looked up; None: any track of the catalog."""
    version, name = sql_text(model_version), sql_text(catalog.name)
    feature_list = ", ".join(features)
    # Queries, not temporary views: an engine may read them on a connection of its own.
    in_range = " and ".join(f"{feature} between {FEATURE_RANGES[feature].low} and {FEATURE_RANGES[feature].high}"
                            for feature in features if feature in FEATURE_RANGES)
    considered = f" and track_id in ({changed})" if changed else ""
    # The catalog's rows of those tracks (changed is only known for track_features, a table) are found on their ids
    # alone, then read whole by rowid: a filter on every column reads them all (10 M tracks, 100,000 changed: 0.7 s
    # against 1.8 s).
    considered_rows = f" and rowid in (select rowid from {catalog.relation} where true{considered})" if changed else ""
    catalog_rows = (f"select track_id, {catalog.names}, {feature_list}, hash({feature_list}) as features_hash "
                    f"from {catalog.relation} where {in_range or 'true'}{considered_rows}")
    warn_out_of_range(connection, catalog, in_range, considered_rows)
    predicted = has_predictions(connection)
    in_catalog = count(connection, f"{catalog.relation} where {in_range or 'true'}")
    rows, removed, others = catalog_rows, 0, 0
    planned = f"({catalog_rows})"
    of_this_catalog = f"run_id in (select run_id from scoring_runs where catalog = {name})"
    if changed:  # the few changed tracks that left the catalog, found before the predictions are scanned for them
        gone = f"{of_this_catalog} and track_id in ({changed} except select track_id from ({catalog_rows}))"
    else:
        gone = f"{of_this_catalog} and track_id not in (select track_id from ({catalog_rows}))"
    if predicted:
        # A model version that has scored nothing yet (a new model) skips no track: the catalog is read as a first
        # run reads it, without an anti join of every track to compute and keep.
        version_scored = count(connection, f"scoring_runs where model_version = {version}") > 0
        # Joined on 64-bit hashes of the track ids, so DuckDB's hash tables hold numbers, not strings, and stay
        # in memory. Skipping a track wrongly would take its id's hash and its features' hash both colliding.
        if version_scored and not full_refresh:
            rows = (f"select c.* from ({catalog_rows}) c anti join (select hash(track_id) as track_key, "
                    "features_hash from track_predictions where run_id in "
                    f"(select run_id from scoring_runs where model_version = {version}){considered}) p "
                    "on p.track_key = hash(c.track_id) and p.features_hash = c.features_hash")
            # Computed once, into a database every connection of this one's sees (a temporary table is its alone):
            # counted and deleted from here, read by the engine on a connection of its own, which ran the query
            # again (0.36 s of a drop of 100,000 tracks at 10 M).
            connection.execute(f"attach if not exists ':memory:' as {SCRATCH}")
            connection.execute(f"create or replace table {SCRATCH}.to_score as {rows}")
            planned = f"{SCRATCH}.to_score"
            rows = f"select * from {planned}"
        if changed:
            removed = count(connection, f"track_predictions where {gone}")
        else:
            removed = count(connection, f"(select hash(track_id) as track_key from track_predictions "
                                        f"where {of_this_catalog}) p anti join ({catalog_rows}) c "
                                        "on p.track_key = hash(c.track_id)")
        others = count(connection, f"track_predictions where not {of_this_catalog}")
    # The changed tracks' count is exact, so none gone means no delete; the whole catalog's is on hashes, so its
    # exact delete stays.
    return Plan(rows, planned, gone if removed or not changed else None, in_catalog, count(connection, planned),
                removed, others, predicted)
