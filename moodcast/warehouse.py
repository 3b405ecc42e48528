"""The DuckDB warehouse file, `$MOODCAST_HOME/moods.duckdb`: how every stage opens it."""

import duckdb

from moodcast import settings
from moodcast.errors import NotReadyError, WarehouseLockedError


def connect(read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = settings.database_path()
    if read_only and not path.exists():
        raise NotReadyError(f"There is no warehouse at {path} yet: run `make build` first.")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise
        raise WarehouseLockedError(
            f"The warehouse {path} is locked by another process ({error}). DuckDB lets one process "
            "write at a time: close the other session (a DuckDB shell, a BI tool) or wait for the "
            "running stage to finish, then run this again. Nothing was changed."
        ) from error


def require_table(connection: duckdb.DuckDBPyConnection, table: str, remedy: str) -> None:
    # fetchall, not fetchone: DuckDB 2 keeps a half-read result open and refuses the next query.
    found = connection.execute(
        "select 1 from duckdb_tables() where table_name = ? and database_name = current_database()"
        " and schema_name = current_schema()",
        [table],
    ).fetchall()
    if not found:
        raise NotReadyError(f"The warehouse {settings.database_path()} has no {table} table: {remedy}.")
