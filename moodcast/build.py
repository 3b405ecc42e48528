"""`python -m moodcast.build` (`make build`): run `dbt build` on the warehouse in MOODCAST_HOME.

Makes sure the landing zone exists first (dbt's sources need a file behind every glob) and
hands dbt the absolute MOODCAST_HOME, so the views it creates work from any directory.
Like every stage that changes the warehouse, it waits for the one running (up to
MOODCAST_LOCK_TIMEOUT seconds, then exit 75) and publishes moods.duckdb when dbt succeeds.
dbt writes its target/ and logs/ under $MOODCAST_HOME/dbt.
Extra arguments go to dbt, e.g. `python -m moodcast.build --select track_features`; `--quiet` (`-q`), as every
stage command has it, logs warnings and errors only, and dbt prints its errors only.
Builds are incremental (dbt_project/models/intermediate/_intermediate.yml): a build takes in the landed
files that are new or changed since the last one; `--full-refresh` rebuilds everything from the landing zone.
A build with nothing landed and the dbt project unchanged since the last one does not run dbt at all.
A whole build leaves out dbt's unit tests, which check the models' SQL: `dbt test --select test_type:unit` runs them.
A failing data test exits with EXIT_DATA_TEST_FAILED, naming the test and the rows it found.
"""

import hashlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from moodcast import cli, settings, warehouse
from moodcast.dbt_failures import build_exit_code
from moodcast.dbt_process import DbtProcess
from moodcast.errors import EXIT_INTERNAL
from moodcast.landing import ensure_landing_zone
from moodcast.publish import publish

log = logging.getLogger("moodcast.build")

# One row: the inputs_fingerprint of the last whole build that succeeded (`--full-refresh` or not), and of the
# build before it when that one was the warehouse's previous state (int_changed_tracks holds what changed between
# the two); no row while a build runs, or after any other dbt run.
BUILD_INPUTS = "build_inputs"
FULL_REFRESH = "--full-refresh"
QUIET_FLAGS = ("--quiet", "-q")  # dbt's spellings, which moodcast.build takes as its own
WRITE_PROBE_BYTES = 1 << 20  # less free space than this, and dbt cannot even write its logs
DBT_SOURCE_FOLDERS = ("models", "macros", "tests")  # dbt_project.yml's model-paths, macro-paths and test-paths


def dbt_build(extra_args: list[str], publish_after: bool = True, quiet: bool = False,
              dbt: DbtProcess | None = None, while_building: Callable[[], None] | None = None) -> int:
    """`dbt build` with extra_args (in `dbt`, if started ahead); moods.duckdb is published after it succeeds unless
    publish_after is false (`python -m nightly` publishes once, after scoring). quiet: dbt prints its errors only.
    while_building: work for this process while dbt builds, if it does."""
    require_writable(settings.home())
    ensure_landing_zone()
    return run_dbt(["build", *extra_args], publish_after=publish_after, quiet=quiet, dbt=dbt,
                   while_running=while_building)


def inputs_fingerprint() -> str:
    """What a whole `dbt build` depends on: every landed file (path, size, modification time; ingest replaces
    a file by renaming a new one into place) and the dbt project's models, macros and settings. The same
    fingerprint, the same build."""
    digest = hashlib.sha256()
    for path in sorted(settings.landing_dir().glob("*/*.parquet")):
        status = path.stat()
        digest.update(f"{path}\0{status.st_size}\0{status.st_mtime_ns}\n".encode())
    project = settings.DBT_PROJECT_DIR
    # Not its target/ and logs/, which a `dbt build` run by hand in the folder writes.
    sources = [*project.glob("*.yml"),
               *(path for folder in DBT_SOURCE_FOLDERS for path in (project / folder).rglob("*"))]
    for path in sorted(path for path in sources if path.is_file()):
        digest.update(f"{path}\0".encode() + path.read_bytes())
    return digest.hexdigest()


def recorded_fingerprint(connection: duckdb.DuckDBPyConnection, tables: set[str]) -> str | None:
    """The inputs_fingerprint of the last whole build that succeeded, if the warehouse records one."""
    if BUILD_INPUTS not in tables:
        return None
    rows = connection.execute(f"select fingerprint from {BUILD_INPUTS}").fetchall()
    return rows[0][0] if rows else None


def record_fingerprint(connection: duckdb.DuckDBPyConnection, fingerprint: str, previous: str | None) -> None:
    connection.execute(f"create or replace table {BUILD_INPUTS} as select ? as fingerprint, ? as previous",
                       [fingerprint, previous])


def built_before_incremental(connection: duckdb.DuckDBPyConnection, tables: set[str]) -> bool:
    """Whether the warehouse has marts that an incremental build cannot update, an earlier moodcast's: with no
    record of the landed files they took in (int_landed_files), or a track_features without the sighting each
    track's features came from (source_name, source_row), which a build weighs new sightings against."""
    if "track_features" not in tables:
        return False
    columns = {row[0] for row in connection.execute("select column_name from (describe track_features)").fetchall()}
    return "int_landed_files" not in tables or not {"source_name", "source_row"} <= columns


def run_dbt(arguments: list[str], publish_after: bool = False, quiet: bool = False,
            dbt: DbtProcess | None = None, while_running: Callable[[], None] | None = None) -> int:
    """Run dbt (in `dbt`, started ahead, or a process started now) as the only stage changing the warehouse, and
    publish moods.duckdb after it if it succeeds; return moodcast's exit code for it. while_running: work for this
    process while dbt runs, if it does."""
    options = ["--project-dir", str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR)]
    if not sys.stdout.isatty():
        options.append("--no-use-colors")  # colour codes are noise in cron mail and CI logs
    if quiet:
        options.append("--quiet")  # dbt's errors only
    with dbt or DbtProcess() as dbt, warehouse.exclusive("warehouse", "warehouse update"):
        # A whole build's inputs, as they are before dbt looks: a file landing during the build changes them.
        whole = arguments in (["build"], ["build", FULL_REFRESH])
        fingerprint = inputs_fingerprint() if whole else None
        # dbt opens the file itself and fails at once if another process holds it: wait for that here.
        with warehouse.connect() as connection:
            tables = warehouse.table_names(connection)
            previous = recorded_fingerprint(connection, tables)
            if fingerprint and FULL_REFRESH not in arguments and fingerprint == previous:
                log.info("nothing landed and the dbt project is unchanged since the last build: nothing to build")
                if publish_after:
                    publish(connection)
                return 0
            if (arguments[0] == "build" and FULL_REFRESH not in arguments
                    and built_before_incremental(connection, tables)):
                log.info("the warehouse was built by an earlier moodcast, which an incremental build cannot update: "
                         "rebuilding it whole, this once")
                arguments = [*arguments, FULL_REFRESH]
            if FULL_REFRESH in arguments:
                previous = None  # every table rebuilt: int_changed_tracks tells this build from no other
            # Whatever dbt does from here, until it has succeeded, the warehouse is no recorded build's.
            connection.execute(f"drop table if exists {BUILD_INPUTS}")
        if whole:
            # Unit tests check the models' SQL, which changes only with moodcast itself: the test suite runs them
            # (tests/test_dbt_build.py); in a nightly build each would be one more dbt node to start.
            arguments = [*arguments, "--exclude-resource-type", "unit_test"]
        started = time.time()
        exit_code = build_exit_code(dbt.run([*arguments, *options], meanwhile=while_running), started)
        if exit_code == EXIT_INTERNAL:
            require_writable(settings.home())  # a disk that filled up during the build is no bug: one line says so
        if exit_code == 0 and (publish_after or fingerprint):
            with warehouse.connect() as connection:
                if fingerprint:
                    record_fingerprint(connection, fingerprint, previous)
                if publish_after:
                    publish(connection)
    return exit_code


def require_writable(home: Path) -> None:
    """Raise OSError now if the warehouse cannot be written (read-only, no permission, next to no space left):
    dbt would say so only in tracebacks, its own logs under the home failing too."""
    home.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryFile(dir=home) as probe:
            probe.write(bytes(WRITE_PROBE_BYTES))
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as error:
        raise OSError(error.errno, error.strerror, str(home)) from error  # the folder, not the probe's name
    database = settings.work_database_path()
    if database.exists():
        os.close(os.open(database, os.O_WRONLY))


def main() -> None:
    # Taken here rather than handed to dbt among the arguments: any argument makes a build one that selects,
    # which records no fingerprint, and the next scoring run would plan from the whole catalog.
    quiet = any(flag in sys.argv[1:] for flag in QUIET_FLAGS)
    arguments = [argument for argument in sys.argv[1:] if argument not in QUIET_FLAGS]
    cli.configure_logging(quiet)
    if exit_code := dbt_build(arguments, quiet=quiet):
        sys.exit(exit_code)


if __name__ == "__main__":
    cli.run(main)
