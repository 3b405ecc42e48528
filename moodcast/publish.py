"""Publish `$MOODCAST_HOME/moods.duckdb`: the read-only snapshot of the warehouse that readers open.

The stages write `work/moods.duckdb`, which only they open. When a stage succeeds it copies that
database into a temporary file next to `moods.duckdb` and renames it into place. Readers therefore
never hold a file a stage needs (DuckDB's lock would stop the stage), and never see a half-written
one: a reader that opens `moods.duckdb` gets the last published snapshot, whole; one that has it open
keeps reading the snapshot it opened (the rename leaves that file intact until it closes it).

The snapshot is written in DuckDB's v1.0.0 storage format, so every DuckDB from 1.0 on opens it
(the CLI, node-api, JDBC in BI tools), and the descriptions dbt has of the tables the stages write
(dbt_project/models/stage_tables/_moodcast__sources.yml) become their comments, which BI tools show.
"""

import json
import logging
import os
import time

import duckdb

from moodcast import settings

log = logging.getLogger("moodcast.publish")

# The oldest storage format that holds everything moodcast writes; DuckDB 1.0 and later read it.
STORAGE_VERSION = "v1.0.0"
# dbt's source for the tables train and score write: dbt cannot persist a source's docs itself.
STAGE_TABLES_SOURCE = "moodcast"
SNAPSHOT = "snapshot"


def publish(connection: duckdb.DuckDBPyConnection) -> None:
    """Copy the work database `connection` has open to moods.duckdb, atomically."""
    started = time.monotonic()
    target = settings.database_path()
    if up_to_date(target):
        log.info("%s is up to date", target)
        return
    temporary = target.with_name(f".{target.name}.tmp")
    for leftover in (temporary, temporary.with_name(temporary.name + ".wal")):
        leftover.unlink(missing_ok=True)  # from a publication that was killed half-way
    (work,), = connection.execute("select current_database()").fetchall()
    connection.execute(f"attach '{temporary}' as {SNAPSHOT} (storage_version '{STORAGE_VERSION}')")
    try:
        connection.execute(f'copy from database "{work}" to {SNAPSHOT}')
        describe_stage_tables(connection)
    finally:
        connection.execute(f"detach {SNAPSHOT}")  # checkpoints: the file is complete, with no WAL beside it
    os.replace(temporary, target)
    log.info("published %s (%.0f MB) in %.1f s", target, target.stat().st_size / 1e6, time.monotonic() - started)


def up_to_date(target) -> bool:
    """Published after the work database (and its WAL) last changed: a run that changed nothing copies nothing."""
    if not target.exists():
        return False
    work = settings.work_database_path()
    published = target.stat().st_mtime_ns
    return all(not path.exists() or path.stat().st_mtime_ns < published
               for path in (work, work.with_name(work.name + ".wal")))


def describe_stage_tables(connection: duckdb.DuckDBPyConnection) -> None:
    """Comment the snapshot's stage tables and their columns with dbt's descriptions of them."""
    manifest = settings.dbt_dir() / "target" / "manifest.json"
    if not manifest.is_file():
        return  # no `make build` yet: nothing describes them
    kinds = dict(connection.execute(
        "select table_name, 'table' from duckdb_tables() where database_name = ? union all "
        "select view_name, 'view' from duckdb_views() where database_name = ?", [SNAPSHOT, SNAPSHOT]).fetchall())
    sources = json.loads(manifest.read_text())["sources"].values()
    for source in (s for s in sources if s["source_name"] == STAGE_TABLES_SOURCE and s["name"] in kinds):
        relation = f'{SNAPSHOT}.main."{source["name"]}"'
        connection.execute(f"comment on {kinds[source['name']]} {relation} is {text(source['description'])}")
        present = {row[0] for row in connection.execute(f"select column_name from (describe {relation})").fetchall()}
        for column in (c for c in source["columns"].values() if c["name"] in present and c["description"]):
            connection.execute(f'comment on column {relation}."{column["name"]}" is {text(column["description"])}')


def text(value: str) -> str:
    """A VARCHAR literal: COMMENT ON takes no parameters."""
    return "'" + value.replace("'", "''") + "'"
