"""A real `dbt build` over the landing zone: marts, label conflicts, and data tests that can fail."""

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml

from ingest.files import ingest_file
from moodcast import settings
from moodcast.build import dbt_build, run_dbt
from moodcast.contract import FEATURES
from moodcast.errors import EXIT_DATA_TEST_FAILED
from moodcast.landing import FILE_TRACKS_SCHEMA, write_atomically
from tests.conftest import CONFLICTS_CSV, SEED_CSV, SEED_TRACKS, query, run_command, run_ok

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def count(table: str, database: Path | None = None) -> int:
    return query(f"select count(*) from {table}", database=database)[0][0]


def test_the_seed_builds_one_row_per_track_in_every_mart(trained_home):
    seed = trained_home / "moods.duckdb"  # the seed ingested and built by the commands, once per session

    assert count("track_features", seed) == count("training_examples", seed) == SEED_TRACKS
    assert count("label_conflicts", seed) == count("ingest_rejects", seed) == 0
    assert query("select mood, count(*) from training_examples group by mood order by mood", database=seed) == [
        ("Calm", 195), ("Energetic", 154), ("Happy", 140), ("Sad", 197)
    ]


def test_tracks_labelled_two_ways_are_listed_as_conflicts_and_left_out_of_training():
    ingest_file(CONFLICTS_CSV, NOW)  # the article's 800 rows: 100 tracks are both Energetic and Happy

    assert dbt_build([]) == 0

    assert count("label_conflicts") == 100
    assert query("select distinct moods_seen from label_conflicts") == [(["Energetic", "Happy"],)]
    assert count("track_features") == 700
    assert count("training_examples") == 600
    assert count("training_examples join label_conflicts using (track_id)") == 0


def test_an_unlabelled_catalog_is_scored_but_not_trained_on(tmp_path):
    catalog = tmp_path / "catalog.csv"
    pl.read_csv(SEED_CSV).drop("mood").with_columns(
        pl.col("id").str.reverse().alias("id")  # other tracks, same features
    ).write_csv(catalog)
    ingest_file(SEED_CSV, NOW)
    ingest_file(catalog, NOW)

    assert dbt_build([]) == 0

    assert count("track_features") == 2 * SEED_TRACKS
    assert count("training_examples") == SEED_TRACKS


def test_rejected_rows_are_queryable_with_their_reason(tmp_path):
    bad = tmp_path / "bad.csv"
    pl.read_csv(SEED_CSV).head(3).with_columns(pl.lit(2.0).alias("energy")).write_csv(bad)
    ingest_file(bad, NOW)

    assert dbt_build([]) == 0

    assert query("select source_row, reason from ingest_rejects order by source_row") == [
        (row, "energy is out of range (0 ≤ value ≤ 1): 2.0") for row in (1, 2, 3)
    ]


def test_a_build_before_any_ingest_succeeds_with_empty_marts():
    assert dbt_build([]) == 0

    assert count("track_features") == count("training_examples") == 0


def test_a_failing_data_test_names_the_rows_and_leaves_every_mart_at_its_last_good_build(tmp_path, capsys):
    ingest_file(SEED_CSV, NOW)
    assert dbt_build([]) == 0
    catalog = tmp_path / "catalog.csv"
    pl.read_csv(SEED_CSV).drop("mood").with_columns(pl.col("id").str.reverse()).head(3).write_csv(catalog)
    landed = ingest_file(catalog, NOW).landed
    # Bypass ingest's checks, as an earlier moodcast or a buggy ingester might, to land a value dbt must catch.
    forged = pl.read_parquet(landed).with_columns(
        pl.when(pl.col("source_row") == 2).then(0).otherwise(pl.col("length")).alias("length")
    )
    write_atomically(forged.to_arrow().cast(FILE_TRACKS_SCHEMA), landed)

    assert dbt_build([]) == EXIT_DATA_TEST_FAILED

    message = capsys.readouterr().err
    track = forged.filter(pl.col("source_row") == 2)["track_id"][0]
    assert "data test features_in_range_int_landed_observations_ failed: 1 row(s)" in message
    assert f"{catalog} row 2, track {track}: length 0 is outside 1..21600000" in message
    assert count("track_features") == count("training_examples") == SEED_TRACKS  # the catalog's tracks are not in


def test_the_warehouse_views_work_from_any_directory(trained_home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    assert count("stg_landing__file_tracks", trained_home / "moods.duckdb") == SEED_TRACKS


@pytest.mark.parametrize("table", ["track_features", "training_examples"])
def test_marts_expose_the_ten_contract_features(trained_home, table):
    columns = [row[0] for row in query(f"select column_name from (describe {table})",
                                       database=trained_home / "moods.duckdb")]
    assert [column for column in columns if column in FEATURES] == list(FEATURES)


def test_a_build_waits_for_a_process_holding_the_warehouse_then_exits_75(home):
    settings.work_database_path().parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('holding', flush=True); "
         "sys.stdin.readline()", str(settings.work_database_path())],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "holding\n"
        result = run_command("moodcast.build", home=home, environment={settings.LOCK_TIMEOUT_VARIABLE: "1"})
    finally:
        holder.communicate("\n", timeout=30)

    assert result.returncode == 75
    assert "retrying for up to 1 s (MOODCAST_LOCK_TIMEOUT)" in result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"error: The warehouse {settings.work_database_path()} is locked")
    assert "Traceback" not in result.stderr


def test_a_reader_of_the_published_warehouse_does_not_hold_up_a_build(trained):
    with duckdb.connect(str(settings.database_path()), read_only=True) as reader:
        assert dbt_build([]) == 0
        assert reader.execute("select count(*) from track_features").fetchall() == [(SEED_TRACKS,)]


def test_the_models_unit_tests_pass(trained, capfd):
    """Nightly builds leave them out (moodcast.build): here is where they run."""
    declared = sum(len(yaml.safe_load(path.read_text()).get("unit_tests", []))
                   for path in (settings.DBT_PROJECT_DIR / "models").rglob("*.yml"))

    exit_code = run_dbt(["test", "--select", "test_type:unit"])

    assert exit_code == 0
    assert declared >= 3
    assert f"PASS={declared} WARN=0 ERROR=0" in capfd.readouterr().out


def test_a_home_whose_path_has_a_quote_builds(tmp_path):
    home = tmp_path / "it's home"
    run_ok("ingest", "files", str(SEED_CSV), home=home)

    run_ok("moodcast.build", home=home)

    assert query("select count(*) from track_features", database=home / "moods.duckdb") == [(SEED_TRACKS,)]
