"""`python -m moodcast.build` (`make build`): run `dbt build` on the warehouse in MOODCAST_HOME.

Makes sure the landing zone exists first (dbt's sources need a file behind every glob) and
hands dbt the absolute MOODCAST_HOME, so the views it creates work from any directory.
Like every stage that changes the warehouse, it waits for the one running (up to
MOODCAST_LOCK_TIMEOUT seconds, then exit 75) and publishes moods.duckdb when dbt succeeds.
dbt writes its target/ and logs/ under $MOODCAST_HOME/dbt.
Extra arguments go to dbt, e.g. `python -m moodcast.build --select track_features`.
Builds are incremental (dbt_project/models/intermediate/_intermediate.yml): a build takes in the landed
files that are new or changed since the last one; `--full-refresh` rebuilds everything from the landing zone.
A failing data test exits with EXIT_DATA_TEST_FAILED, naming the test and the rows it found.
"""

import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from moodcast import cli, settings, warehouse
from moodcast.child_process import run_child
from moodcast.dbt_failures import build_exit_code
from moodcast.errors import EXIT_INTERNAL
from moodcast.landing import ensure_landing_zone
from moodcast.publish import publish

log = logging.getLogger("moodcast.build")

WRITE_PROBE_BYTES = 1 << 20  # less free space than this, and dbt cannot even write its logs


def dbt_build(extra_args: list[str]) -> int:
    require_writable(settings.home())
    ensure_landing_zone()
    return run_dbt(["build", *extra_args], publish_after=True)


def built_before_incremental(connection: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse has marts but no record of the landed files they took in (int_landed_files): an
    earlier moodcast's, which an incremental build cannot update."""
    tables = {row[0] for row in connection.execute(
        "select table_name from duckdb_tables() where database_name = current_database()").fetchall()}
    return "track_features" in tables and "int_landed_files" not in tables


def run_dbt(arguments: list[str], publish_after: bool = False) -> int:
    """Run dbt as the only stage changing the warehouse, and publish moods.duckdb after it if it succeeds; return
    moodcast's exit code for it."""
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt), "--project-dir", str(settings.DBT_PROJECT_DIR),
               "--profiles-dir", str(settings.DBT_PROJECT_DIR)]
    if not sys.stdout.isatty():
        command.append("--no-use-colors")  # colour codes are noise in cron mail and CI logs
    environment = os.environ | {settings.HOME_VARIABLE: str(settings.home()),
                                "DBT_TARGET_PATH": str(settings.dbt_dir() / "target"),
                                "DBT_LOG_PATH": str(settings.dbt_dir() / "logs")}
    with warehouse.exclusive("warehouse", "warehouse update"):
        # dbt opens the file itself and fails at once if another process holds it: wait for that here.
        with warehouse.connect() as connection:
            if arguments[0] == "build" and "--full-refresh" not in arguments and built_before_incremental(connection):
                log.info("the warehouse was built before builds were incremental: rebuilding it whole, this once")
                arguments = [*arguments, "--full-refresh"]
        command[1:1] = arguments
        started = time.time()
        exit_code = build_exit_code(run_child(command, env=environment, cwd=settings.DBT_PROJECT_DIR), started)
        if exit_code == EXIT_INTERNAL:
            require_writable(settings.home())  # a disk that filled up during the build is no bug: one line says so
        if exit_code == 0 and publish_after:
            with warehouse.connect() as connection:
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
    if exit_code := dbt_build(sys.argv[1:]):
        sys.exit(exit_code)


if __name__ == "__main__":
    cli.configure_logging()
    cli.run(main)
