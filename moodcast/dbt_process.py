"""dbt in a process started before its command line is known: importing dbt takes about 2 s, which a run
spends doing something else (the nightly run lands its files meanwhile) instead of waiting for it.

`DbtProcess()` starts `python -m moodcast.dbt_process`, which imports dbt and then waits for its command line
on stdin (one line of JSON). `run(arguments)` hands it over and returns dbt's exit status, as the `dbt` command
would give it; leaving the `with` block without running it ends the process unused. A process whose parent
dies before handing anything over reads the end of its input, and ends without running anything.
"""

import gc
import json
import os
import subprocess
import sys
from collections.abc import Callable

from moodcast import settings
from moodcast.child_process import shell_status, signals_passed_on, start_child


class DbtProcess:
    """A dbt process in the stages' environment, importing dbt while its parent decides what it will run."""

    def __init__(self) -> None:
        # The absolute MOODCAST_HOME, so the views dbt creates work from any directory.
        environment = os.environ | {settings.HOME_VARIABLE: str(settings.home()),
                                    settings.MEMORY_LIMIT_VARIABLE: settings.duckdb_memory_limit(),
                                    "DBT_TARGET_PATH": str(settings.dbt_dir() / "target"),
                                    "DBT_LOG_PATH": str(settings.dbt_dir() / "logs")}
        self._child = start_child([sys.executable, "-m", __name__], stdin=subprocess.PIPE, env=environment,
                                  cwd=settings.DBT_PROJECT_DIR)

    def run(self, arguments: list[str], meanwhile: Callable[[], None] | None = None) -> int:
        """Run dbt with arguments (as `dbt ARGUMENT…`); its exit status, or 128 + N when signal N stopped it.
        meanwhile: work for this process while dbt runs (dbt is another process: the two overlap)."""
        with signals_passed_on(self._child):
            self._child.stdin.write(json.dumps(arguments).encode() + b"\n")
            self._child.stdin.close()
            if meanwhile:
                meanwhile()
            return shell_status(self._child.wait())

    def __enter__(self) -> "DbtProcess":
        return self

    def __exit__(self, *exception: object) -> None:
        if self._child.returncode is None:  # never run (it has at most imported dbt), or run() was interrupted
            self._child.kill()  # as kill -9 would: every dbt run survives it (tests/test_build_signals.py)
            self._child.wait()


def main() -> None:
    from dbt.cli.main import cli  # the import this process is started early for

    # What the import made lives as long as the process: frozen, the build's full collections no longer search
    # it for cycles (0.22 s of every build at 10 M tracks, now 0.06 s).
    gc.freeze()
    line = sys.stdin.readline()
    if not line:
        return
    try:
        cli.main(args=json.loads(line), prog_name="dbt")  # exits with dbt's status, as the `dbt` command does
    finally:
        close_warehouse()
        # dbt leaves some 190,000 objects behind, which the interpreter's exit searched for cycles: 0.5-0.6 s of
        # every build, for memory the end of the process frees anyway. Frozen, they are left out of that search.
        gc.freeze()


def close_warehouse() -> None:
    """Close the DuckDB database dbt opened, as the interpreter's exit would have (the freeze keeps it from doing
    so): DuckDB writes its write-ahead log into the file and removes its temporary files."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    try:
        environment = DuckDBConnectionManager.env()
    except Exception:  # dbt-duckdb's plain Exception: dbt stopped before opening the database
        return
    environment.close()


if __name__ == "__main__":
    main()
