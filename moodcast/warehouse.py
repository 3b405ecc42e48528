"""The stages' DuckDB file, `$MOODCAST_HOME/work/moods.duckdb`: how every stage opens it.

Readers open `$MOODCAST_HOME/moods.duckdb`, the snapshot a stage publishes when it succeeds
(moodcast.publish), never this file. DuckDB lets one process open a file read-write, and blocks
writers while any other process has it open: stages that change the warehouse run one at a time,
`updating()` (an flock), then publish. A command that finds the warehouse locked waits, retrying,
up to MOODCAST_LOCK_TIMEOUT seconds (default 300), then stops with exit code 75 having changed
nothing. `exclusive()` is the same idea for whole runs that must not overlap (two scoring runs).
"""

import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

import duckdb

from moodcast import settings
from moodcast.atomic import replacing
from moodcast.errors import NotReadyError, WarehouseLockedError
from moodcast.publish import STORAGE_VERSION, convert, publish
from moodcast.sql import sql_text

log = logging.getLogger("moodcast.warehouse")

FIRST_RETRY_S = 0.1
LONGEST_RETRY_S = 2.0


def connect(read_only: bool = False, lock_timeout_s: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open the stages' warehouse with moodcast's DuckDB settings, waiting while another process holds it."""
    path = settings.work_database_path()
    adopt_earlier_warehouse()
    if read_only and not path.exists():
        raise NotReadyError(f"There is no warehouse at {path} yet: run `make build` first.")
    path.parent.mkdir(parents=True, exist_ok=True)
    timeout = settings.lock_timeout_s() if lock_timeout_s is None else lock_timeout_s
    config = {"memory_limit": settings.duckdb_memory_limit(), "temp_directory": str(settings.duckdb_temp_dir()),
              # A new file is created in the format every reader opens, so publishing it is copying it.
              "storage_compatibility_version": STORAGE_VERSION}
    for attempt, delay in enumerate(_retry_delays(timeout)):
        try:
            return quiet(duckdb.connect(str(path), read_only=read_only, config=config))
        except duckdb.IOException as error:
            if "lock" not in str(error).lower():
                raise
            if delay is None:
                raise WarehouseLockedError(
                    f"The warehouse {path} is locked by another process ({error}); waited {timeout:g} s "
                    f"({settings.LOCK_TIMEOUT_VARIABLE}). DuckDB lets one process write at a time, and a process "
                    "that has the file open, even read-only, keeps writers out: wait for the running stage to finish, "
                    f"or close the session that opened it (readers open {settings.database_path()} instead), "
                    f"then run this again, or let it wait longer ({settings.LOCK_TIMEOUT_VARIABLE}=SECONDS). "
                    "Nothing was changed."
                ) from error
            if attempt == 0:
                log.warning("the warehouse %s is locked by another process; retrying for up to %g s (%s): %s",
                            path, timeout, settings.LOCK_TIMEOUT_VARIABLE, error)
            time.sleep(delay)
    raise AssertionError("unreachable: _retry_delays ends with None")


def quiet(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """DuckDB prints its own progress bar on stdout, into cron mail; commands draw theirs from query_progress()."""
    connection.execute("set enable_progress_bar_print = false")
    return connection


def reader(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A connection of its own to the database `connection` has open, for reading it from another thread."""
    return quiet(connection.cursor())


def adopt_earlier_warehouse() -> None:
    """An earlier moodcast wrote moods.duckdb itself, in DuckDB 2.0's format: it becomes the stages' file, converted."""
    work, published = settings.work_database_path(), settings.database_path()
    if work.exists() or not published.exists():
        return
    with replacing(work, per_process=True) as temporary, duckdb.connect() as connection:
        connection.execute(f"attach {sql_text(str(published))} as earlier (read_only)")
        convert(connection, "earlier", temporary)


@contextmanager
def updating(what: str, alongside: Callable[[duckdb.DuckDBPyConnection], object] | None = None
             ) -> Iterator[duckdb.DuckDBPyConnection]:
    """The stages' warehouse, open read-write for a stage that changes it; moods.duckdb is published if the block
    succeeds. One such stage at a time: another waits up to MOODCAST_LOCK_TIMEOUT seconds. alongside(a reader of
    the warehouse): work that only reads it, run while moods.duckdb is published (moodcast.publish.publish)."""
    with exclusive("warehouse", what), connect() as connection:
        yield connection
        publish(connection, alongside=partial(alongside, reader(connection)) if alongside else None)


def _retry_delays(timeout_s: float) -> Iterator[float | None]:
    """Sleeps between attempts, growing to LONGEST_RETRY_S, until timeout_s has passed; then one None."""
    deadline = time.monotonic() + timeout_s
    delay = FIRST_RETRY_S
    while (remaining := deadline - time.monotonic()) > 0:
        yield min(delay, remaining)
        delay = min(delay * 2, LONGEST_RETRY_S)
    yield None


@contextmanager
def exclusive(name: str, what: str, lock_timeout_s: float | None = None) -> Iterator[None]:
    """Run the block as the only `what` of this MOODCAST_HOME: hold `$MOODCAST_HOME/<name>.lock`.

    The lock is an flock on the file, so the system releases it when the holder ends, killed or not;
    the file only names the holder's pid. Another run waits up to MOODCAST_LOCK_TIMEOUT seconds.
    """
    path = settings.home() / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    timeout = settings.lock_timeout_s() if lock_timeout_s is None else lock_timeout_s
    with path.open("a+") as handle:
        for attempt, delay in enumerate(_retry_delays(timeout)):
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                if delay is None:
                    raise WarehouseLockedError(
                        f"Another {what} is running (pid {holder}; it holds {path}); waited {timeout:g} s "
                        f"({settings.LOCK_TIMEOUT_VARIABLE}). Let it finish, then run this again, or let this one "
                        f"wait longer ({settings.LOCK_TIMEOUT_VARIABLE}=SECONDS); nothing was changed."
                    ) from None
                if attempt == 0:
                    log.warning("another %s is running (pid %s, lock %s); waiting for up to %g s",
                                what, holder, path, timeout)
                time.sleep(delay)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def table_names(connection: duckdb.DuckDBPyConnection) -> set[str]:
    """The tables of the connection's database (not of any database attached beside it)."""
    return {row[0] for row in connection.execute(
        "select table_name from duckdb_tables() where database_name = current_database()").fetchall()}


def require_table(connection: duckdb.DuckDBPyConnection, table: str, remedy: str) -> None:
    # fetchall, not fetchone: DuckDB 2 keeps a half-read result open and refuses the next query.
    found = connection.execute(
        "select 1 from duckdb_tables() where table_name = ? and database_name = current_database()"
        " and schema_name = current_schema()",
        [table],
    ).fetchall()
    if not found:
        raise NotReadyError(f"The warehouse {settings.work_database_path()} has no {table} table: {remedy}.")
