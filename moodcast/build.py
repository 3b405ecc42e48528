"""`python -m moodcast.build` (`make build`): run `dbt build` on the warehouse in MOODCAST_HOME.

Makes sure the landing zone exists first (dbt's sources need a file behind every glob) and
hands dbt the absolute MOODCAST_HOME, so the views it creates work from any directory.
Extra arguments go to dbt, e.g. `python -m moodcast.build --select track_features`.
"""

import os
import subprocess
import sys
from pathlib import Path

from ingest.landing import ensure_landing_zone
from moodcast import settings


def dbt_build(extra_args: list[str]) -> int:
    ensure_landing_zone()
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt), "build", "--project-dir", str(settings.DBT_PROJECT_DIR),
               "--profiles-dir", str(settings.DBT_PROJECT_DIR), *extra_args]
    if not sys.stdout.isatty():
        command.append("--no-use-colors")  # colour codes are noise in cron mail and CI logs
    environment = os.environ | {settings.HOME_VARIABLE: str(settings.home())}
    return subprocess.run(command, env=environment, cwd=settings.DBT_PROJECT_DIR).returncode


if __name__ == "__main__":
    sys.exit(dbt_build(sys.argv[1:]))
