"""`python -m moodcast.docs` (`make docs`): generate dbt's documentation of the warehouse.

Every table and view analysts read, with its grain and columns, the stages' own tables included
(dbt sources), and the exposures that read them. Written to $MOODCAST_HOME/dbt/target (index.html,
manifest.json, catalog.json); `dbt docs serve` there shows it. Extra arguments go to dbt.
"""

import sys

from moodcast import cli
from moodcast.build import run_dbt


def main() -> None:
    returncode = run_dbt(["docs", "generate", *sys.argv[1:]])
    if returncode:
        sys.exit(returncode)


if __name__ == "__main__":
    cli.configure_logging()
    cli.run(main)
