"""`python -m moodcast.build` (`make build`): run `dbt build` on the warehouse in MOODCAST_HOME.

Makes sure the landing zone exists first (dbt's sources need a file behind every glob) and
hands dbt the absolute MOODCAST_HOME, so the views it creates work from any directory.
Like every stage that changes the warehouse, it waits for the one running (up to
MOODCAST_LOCK_TIMEOUT seconds, then exit 75) and publishes moods.duckdb when dbt succeeds.
dbt writes its target/ and logs/ under $MOODCAST_HOME/dbt.
Extra arguments go to dbt, e.g. `python -m moodcast.build --select track_features`.
"""

import os
import subprocess
import sys
from pathlib import Path

from ingest.landing import ensure_landing_zone
from moodcast import cli, settings, warehouse
from moodcast.publish import publish


def dbt_build(extra_args: list[str]) -> int:
    ensure_landing_zone()
    return run_dbt(["build", *extra_args], publish_after=True)


def run_dbt(arguments: list[str], publish_after: bool = False) -> int:
    """Run dbt as the only stage changing the warehouse; publish moods.duckdb after it if it succeeds."""
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt), *arguments, "--project-dir", str(settings.DBT_PROJECT_DIR),
               "--profiles-dir", str(settings.DBT_PROJECT_DIR)]
    if not sys.stdout.isatty():
        command.append("--no-use-colors")  # colour codes are noise in cron mail and CI logs
    environment = os.environ | {settings.HOME_VARIABLE: str(settings.home()),
                                "DBT_TARGET_PATH": str(settings.dbt_dir() / "target"),
                                "DBT_LOG_PATH": str(settings.dbt_dir() / "logs")}
    with warehouse.exclusive("warehouse", "warehouse update"):
        # dbt opens the file itself and fails at once if another process holds it: wait for that here.
        warehouse.connect().close()
        returncode = subprocess.run(command, env=environment, cwd=settings.DBT_PROJECT_DIR).returncode
        if returncode == 0 and publish_after:
            with warehouse.connect() as connection:
                publish(connection)
    return returncode


def main() -> None:
    returncode = dbt_build(sys.argv[1:])
    if returncode:
        sys.exit(returncode)


if __name__ == "__main__":
    cli.configure_logging()
    cli.run(main)
