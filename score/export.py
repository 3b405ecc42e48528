"""Publish `predictions` and the evaluation tables as Parquet, for readers of files rather than databases.

`$MOODCAST_HOME/exports/predictions/predictions.parquet` is written under a temporary name and
renamed into place: a reader sees the previous file or the new one, whole, and a BI tool reading it
never blocks the cron writer the way an open DuckDB file does. Query it through a view over the
folder's glob (with its absolute path), so a later split into several files changes nothing for it.
The file carries a fingerprint of the table it was written from; an up-to-date file is left alone.
The evaluation tables training writes (model_runs, model_metrics, model_confusion: a few rows per model
version) go to `exports/<table>/<table>.parquet` the same way, rewritten each time.
"""

import os
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from moodcast import settings
from moodcast.contract import PROBABILITY_COLUMNS
from score.sql import sql_text

EXPORTED_COLUMNS = ("track_id", "mood", "confidence", *PROBABILITY_COLUMNS, "model_version", "scored_at",
                    "track_name", "artist_name")
EVALUATION_TABLES = ("model_runs", "model_evaluations", "model_metrics", "model_confusion")
FINGERPRINT_KEY = b"moodcast.predictions_fingerprint"


def predictions_export() -> Path:
    return settings.exports_dir() / "predictions" / "predictions.parquet"


def fingerprint(connection: duckdb.DuckDBPyConnection) -> str:
    (rows, latest, hashes), = connection.execute(
        "select count(*), max(scored_at), bit_xor(hash(track_id, model_version, features_hash)) from predictions"
    ).fetchall()
    return f"{rows}|{latest.isoformat() if latest else ''}|{hashes}"


def exported_fingerprint(path: Path) -> str | None:
    if not path.is_file():
        return None
    metadata = pq.read_metadata(path).metadata or {}
    value = metadata.get(FINGERPRINT_KEY)
    return value.decode() if value else None


def export_predictions(connection: duckdb.DuckDBPyConnection) -> Path | None:
    """Write the Parquet export unless it is up to date; return its path when written."""
    target = predictions_export()
    current = fingerprint(connection)
    if exported_fingerprint(target) == current:
        return None
    write_atomically(connection, f"select {', '.join(EXPORTED_COLUMNS)} from predictions", target,
                     f", kv_metadata {{'{FINGERPRINT_KEY.decode()}': '{current}'}}")
    return target


def export_evaluation(connection: duckdb.DuckDBPyConnection) -> list[Path]:
    """Write the evaluation tables the warehouse has; return the paths written."""
    present = {row[0] for row in connection.execute(
        "select table_name from duckdb_tables() where database_name = current_database()").fetchall()}
    written = []
    for table in (table for table in EVALUATION_TABLES if table in present):
        target = settings.exports_dir() / table / f"{table}.parquet"
        write_atomically(connection, f"select * from {table}", target)
        written.append(target)
    return written


def write_atomically(connection: duckdb.DuckDBPyConnection, query: str, target: Path, options: str = "") -> None:
    """The query's rows as Parquet at target, written under a temporary name and renamed into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    connection.execute(f"copy ({query}) to {sql_text(str(temporary))} (format parquet, compression zstd{options})")
    os.replace(temporary, target)
