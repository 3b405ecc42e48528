"""The whole nightly run's floor, run in a process of its own (bench.__main__.in_process_of_its_own)."""

import time
from pathlib import Path

import duckdb


def pipeline_floor(catalog: Path) -> float:
    """DuckDB with default settings (a file of its own, no configuration) reading the catalog Parquet into a
    table, then writing a prediction-shaped table from it: what the whole nightly run cannot beat."""
    database = catalog.with_name("bench-floor.duckdb")
    started = time.monotonic()
    with duckdb.connect(str(database)) as connection:
        connection.execute("set enable_progress_bar = false")  # its bar on the bench's output, not a setting of speed
        connection.execute(f"create table catalog as select * from read_parquet('{catalog}')")
        connection.execute("create table predictions as select id as track_id, 'Calm' as mood, danceability as "
                           "p_calm, energy as p_energetic, valence as p_happy, acousticness as p_sad from catalog")
    seconds = time.monotonic() - started
    database.unlink()
    return seconds
