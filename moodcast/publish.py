"""Publish `$MOODCAST_HOME/moods.duckdb`: the read-only snapshot of the warehouse that readers open.

The stages write `work/moods.duckdb`, which only they open. When a stage succeeds it makes a copy of
that file and renames it over `moods.duckdb`. Readers therefore never hold a file a stage needs
(DuckDB's lock would stop the stage), and never see a half-written one: a reader that opens
`moods.duckdb` gets the last published snapshot, whole; one that has it open keeps reading the
snapshot it opened (the rename leaves that file intact until it closes it).

The copy is made by patching the snapshot published before the current one (kept as
`work/previous.duckdb`), where its bytes differ from the work file's: a night's drop changes about 1 %
of the file's blocks, so a publish reads two files and writes a few MB instead of writing the whole
warehouse again (docs/performance.md). A snapshot that a reader still has open is never patched: the
publish writes a new file instead.

The work file is created in DuckDB's v1.0.0 storage format, which every DuckDB from 1.0 on opens
(the CLI, node-api, JDBC in BI tools), so publishing is a copy of its bytes once checkpointed, a
tenth of the time of copying it table by table. A work file in another format (written by hand with
`dbt build`, or an earlier moodcast's) is converted table by table instead.
The descriptions dbt has of the tables the stages write (dbt_project/models/stage_tables/) become
their comments, which BI tools show.
"""

import fcntl
import json
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import duckdb

from moodcast import settings
from moodcast.atomic import replacing
from moodcast.sql import sql_text

log = logging.getLogger("moodcast.publish")

# The oldest storage format that holds everything moodcast writes; DuckDB 1.0 and later read it.
STORAGE_VERSION = "v1.0.0"
# dbt's source for the tables train and score write: dbt cannot persist a source's docs itself.
STAGE_TABLES_SOURCE = "moodcast"
# Beside the work file: the snapshot published before the current one, which the next publish patches.
PREVIOUS = "previous.duckdb"
# DuckDB's block: the unit a checkpoint rewrites, so the unit compared and written.
PATCH_BLOCK_BYTES = 256 * 1024

T = TypeVar("T")


def publish(connection: duckdb.DuckDBPyConnection, alongside: Callable[[], T] | None = None) -> T | None:
    """Publish the work database `connection` has open (read-write, as the only writer) to moods.duckdb.

    alongside: work that only reads the warehouse (on a cursor of its own), run while the file's bytes are copied,
    once it is checkpointed: the copy waits on the disk, so the two overlap (at 10 M tracks score's Parquet export
    took 3.9 s within the copy's 4.2 s). Returns what it returns."""
    started = time.monotonic()
    target = settings.database_path()
    describe_stage_tables(connection)
    # What closing the connection would write to the work file lands now: the file is complete on its own,
    # and a later run that changes nothing finds the snapshot up to date.
    connection.execute("checkpoint")
    if up_to_date(target):
        log.info("%s is up to date", target)
        return alongside() if alongside else None
    (work, tags), = connection.execute(
        "select database_name, tags from duckdb_databases() where database_name = current_database()").fetchall()
    byte_copy = tags.get("storage_version") == f"{STORAGE_VERSION}+"
    with ThreadPoolExecutor(max_workers=1) as pool:
        meanwhile = pool.submit(alongside) if alongside and byte_copy else None  # a conversion uses the connection
        if byte_copy:
            written = copy_by_patching(settings.work_database_path(), target)
        else:
            with replacing(target) as temporary:
                temporary.with_name(temporary.name + ".wal").unlink(missing_ok=True)  # of a publication killed
                convert(connection, work, temporary)
            written = target.stat().st_size
        log.info("published %s (%.0f MB, %.0f MB written) in %.1f s", target, target.stat().st_size / 1e6,
                 written / 1e6, time.monotonic() - started)
    if meanwhile:
        return meanwhile.result()
    return alongside() if alongside else None


def copy_by_patching(source: Path, target: Path) -> int:
    """Make `target` a copy of `source`, replacing it whole in one rename: the previous snapshot (PREVIOUS, beside
    source) is patched into the copy and renamed over target, whose file becomes the next PREVIOUS. Returns the
    bytes written."""
    previous = source.with_name(PREVIOUS)
    kept = previous.with_name(f".{PREVIOUS}.tmp")
    kept.unlink(missing_ok=True)  # of a publication killed half-way
    descriptor = open_unread(previous)
    try:
        written = patch(descriptor, source)
        os.utime(descriptor)  # when published: up_to_date() compares it with the work file's time
        if target.exists():
            os.link(target, kept)
        os.replace(previous, target)
    finally:
        os.close(descriptor)  # and with it the lock: readers may open it now, as moods.duckdb
    if kept.exists():
        os.replace(kept, previous)
    return written


def open_unread(path: Path) -> int:
    """path opened for writing, and locked as DuckDB locks a file it writes (fcntl), so that no reader opens it
    meanwhile. A file that a reader still has open (it opened it as moods.duckdb, before a later publish) is left
    to it: path is then a new, empty file."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return descriptor
    except OSError:
        os.close(descriptor)
    path.unlink()
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return descriptor


def patch(descriptor: int, source: Path) -> int:
    """Write over the file open at `descriptor` the blocks of `source` that differ from it, and cut it to source's
    size: it is then a copy of source. Returns the bytes written."""
    new, old = bytearray(PATCH_BLOCK_BYTES), bytearray(PATCH_BLOCK_BYTES)
    offset = written = 0
    with source.open("rb", buffering=0) as reading:
        while size := reading.readinto(new):
            read = os.preadv(descriptor, [old], offset)
            # Whole blocks compared as they are: slicing them would copy every byte twice more.
            same = read == size and (new == old if size == PATCH_BLOCK_BYTES else new[:size] == old[:size])
            if not same:
                written += os.pwrite(descriptor, memoryview(new)[:size], offset)
            offset += size
    os.ftruncate(descriptor, offset)
    return written


def convert(connection: duckdb.DuckDBPyConnection, database: str, path: Path) -> None:
    """Copy the attached `database`, table by table, into a new file at `path` in STORAGE_VERSION's format."""
    connection.execute(f"attach {sql_text(str(path))} as converted (storage_version '{STORAGE_VERSION}')")
    try:
        connection.execute(f'copy from database "{database}" to converted')
    finally:
        connection.execute("detach converted")  # checkpoints: the file is complete, with no WAL beside it


def up_to_date(target: Path) -> bool:
    """Published after the work database (and its WAL) last changed: a run that changed nothing copies nothing."""
    if not target.exists():
        return False
    work = settings.work_database_path()
    published = target.stat().st_mtime_ns
    return all(not path.exists() or path.stat().st_mtime_ns < published
               for path in (work, work.with_name(work.name + ".wal")))


def describe_stage_tables(connection: duckdb.DuckDBPyConnection) -> None:
    """Comment the stage tables and their columns with dbt's descriptions of them, where they differ."""
    manifest = settings.dbt_dir() / "target" / "manifest.json"
    if not manifest.is_file():
        return  # no `make build` yet: nothing describes them
    sources = [source for source in json.loads(manifest.read_text())["sources"].values()
               if source["source_name"] == STAGE_TABLES_SOURCE]
    relations = {name: (kind, comment) for name, kind, comment in connection.execute(
        "select table_name, 'table', comment from duckdb_tables() where database_name = current_database() "
        "union all select view_name, 'view', comment from duckdb_views() where database_name = current_database()"
    ).fetchall()}
    columns = {(table, column): comment for table, column, comment in connection.execute(
        "select table_name, column_name, comment from duckdb_columns() where database_name = current_database()"
    ).fetchall()}
    for source in (source for source in sources if source["name"] in relations):
        name, (kind, comment) = source["name"], relations[source["name"]]
        if comment != source["description"]:
            connection.execute(f'comment on {kind} "{name}" is {sql_text(source["description"])}')
        for column in source["columns"].values():
            if columns.get((name, column["name"]), column["description"]) != column["description"]:
                description = sql_text(column["description"])
                connection.execute(f'comment on column "{name}"."{column["name"]}" is {description}')
