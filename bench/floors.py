"""What no run can beat: scoring's floor (DuckDB writing a prediction-shaped table from track_features, as scoring
does) and the whole nightly run's, each measured in a process of its own (bench.__main__.in_process_of_its_own), so
that DuckDB's memory stays out of the peak RSS of the stages the bench starts after it; and dbt's, which runs in
processes of its own."""

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

DBT_FLOOR_RUNS = 3
# The smallest project a drop's build could be: one incremental model of one row, in a DuckDB file of its own.
DBT_FLOOR_PROJECT = {
    "dbt_project.yml": "name: floor\nversion: '1.0.0'\nconfig-version: 2\nprofile: floor\n"
                       "flags:\n  send_anonymous_usage_stats: false\n  version_check: false\n",
    "profiles.yml": "floor:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: floor.duckdb\n"
                    "      threads: 2\n",
    "models/one_track.sql": "{{ config(materialized='incremental', unique_key='track_id') }}\n"
                            "select 'one' as track_id, 0.5 as energy\n",
}


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


def floor_seconds(declared: bool = True) -> float:
    """DuckDB writing a prediction-shaped table from track_features, with scoring's connection settings.

    declared: the columns declared as `track_predictions` declares them (track ids uncompressed, float32
    probabilities) and the mood as a one-byte ENUM, the like-for-like floor the ratio is taken against;
    else as a plain `create table as` writes them (compressed ids, doubles), for comparison. The
    floor writes a mood although scoring stores none (the predictions view derives it).
    """
    from moodcast import settings, warehouse
    from moodcast.contract import CLASSES
    from moodcast.sql import sql_text
    from score.store import PREDICTION_COLUMN_TYPES

    column_types = PREDICTION_COLUMN_TYPES | {"mood": f"enum({', '.join(map(sql_text, CLASSES))}) not null"}

    columns = {"track_id": "track_id", "track_name": "track_name", "artist_name": "artist_name", "mood": "'Calm'",
               "p_calm": "danceability", "p_energetic": "energy", "p_happy": "valence", "p_sad": "acousticness"}
    # The table goes to a database of its own, attached with the same settings: written into the warehouse and
    # dropped, it left its freed blocks in the file, and the next night's publish copied them (1,871 MB against
    # 1,476 MB, in two of three nights of a bench).
    scratch = settings.work_database_path().with_name("bench-floor.duckdb")
    scratch.unlink(missing_ok=True)  # left by a bench that was stopped
    with warehouse.connect() as connection:
        connection.execute(f"attach {sql_text(str(scratch))} as floor")
        started = time.monotonic()
        connection.begin()
        if declared:
            connection.execute("create table floor.bench_floor ("
                               + ", ".join(f"{c} {column_types[c]}" for c in columns) + ")")
        connection.execute(f"{'insert into' if declared else 'create table'} floor.bench_floor "
                           f"{'' if declared else 'as '}select "
                           + ", ".join(f"{value} as {c}" for c, value in columns.items()) + " from track_features")
        connection.commit()
        seconds = time.monotonic() - started
        connection.execute("detach floor")
    scratch.unlink()
    return seconds


def dbt_floor(folder: Path) -> float:
    """`dbt build` of DBT_FLOOR_PROJECT as a process, start to end (the median of DBT_FLOOR_RUNS incremental builds
    after the first, which creates its table): what dbt costs before it reads a row of the night's data, and so
    what no drop whose build runs dbt can beat."""
    project = folder / "dbt-floor"
    for name, text in DBT_FLOOR_PROJECT.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    command = [sys.executable, "-m", "dbt.cli.main", "build", "--project-dir", ".", "--profiles-dir", "."]
    runs = []
    for run in range(DBT_FLOOR_RUNS + 1):
        started = time.monotonic()
        built = subprocess.run(command, cwd=project, capture_output=True, text=True)
        if built.returncode != 0:
            raise SystemExit(f"dbt build of the floor's project in {project} failed:\n{built.stdout}{built.stderr}")
        if run:
            runs.append(time.monotonic() - started)
    shutil.rmtree(project)
    return statistics.median(runs)
