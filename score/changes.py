"""Which tracks of track_features a scoring run has to look at: only those the last build changed, when the
predictions are those of the build before it, else all of them.

`make build` records what each whole build was built from, and what the build before it was
(moodcast.build.BUILD_INPUTS); dbt's int_changed_tracks lists the tracks that build recomputed. A run
scoring track_features records the build it scored (SCORED_BUILD) with its model version. The next run
then plans from int_changed_tracks alone (the drop, not the catalog) when one build has run since, from
nothing when none has, and from the whole catalog otherwise: another model version, a build that failed or
was partial, several builds, a catalog file scored in between, a build that computed track_features whole
(int_build_scope: `--full-refresh`, or most tracks changed).
"""

import duckdb

from moodcast.build import BUILD_INPUTS
from moodcast.warehouse import table_names

SCORED_BUILD = "scored_build"  # one row: the model version and the build whose track_features it last scored
NOTHING = "select null::varchar as track_id where false"
CHANGED = "select track_id from int_changed_tracks"


def changed_tracks(connection: duckdb.DuckDBPyConnection, model_version: str) -> str | None:
    """A query of the track ids that may differ from what the predictions were made from; None: any track."""
    tables = table_names(connection)
    if not {BUILD_INPUTS, SCORED_BUILD} <= tables:
        return None
    built = connection.execute(f"select fingerprint, previous from {BUILD_INPUTS}").fetchall()
    scored = connection.execute(f"select model_version, fingerprint from {SCORED_BUILD}").fetchall()
    if not built or scored[:1] == [] or scored[0][0] != model_version:
        return None
    (fingerprint, previous), (_, scored_fingerprint) = built[0], scored[0]
    if scored_fingerprint == fingerprint:
        return NOTHING
    if scored_fingerprint == previous and {"int_changed_tracks", "int_build_scope"} <= tables:
        (whole,), = connection.execute("select whole from int_build_scope").fetchall()
        return None if whole else CHANGED
    return None


def record_scored_build(connection: duckdb.DuckDBPyConnection, model_version: str) -> None:
    """After a run that brought the predictions of track_features up to date: which build and model they are of.
    Left as it is when it says so already: a run that changes nothing writes nothing (and publishes nothing)."""
    tables = table_names(connection)
    built = connection.execute(f"select fingerprint from {BUILD_INPUTS}").fetchall() if BUILD_INPUTS in tables else []
    if not built:
        forget_scored_build(connection)
        return
    state = [(model_version, built[0][0])]
    if SCORED_BUILD in tables and connection.execute(f"select * from {SCORED_BUILD}").fetchall() == state:
        return
    connection.execute(f"create or replace table {SCORED_BUILD} as select ? as model_version, ? as fingerprint",
                       state[0])


def forget_scored_build(connection: duckdb.DuckDBPyConnection) -> None:
    """After a run that scored something else (a catalog file): the next run of track_features looks at it all."""
    if SCORED_BUILD in table_names(connection):
        connection.execute(f"drop table {SCORED_BUILD}")
