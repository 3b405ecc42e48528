"""`python -m nightly`: ingest, build and score in one command, published once, stopping at a failure."""

from pathlib import Path

import polars as pl

from moodcast import settings
from moodcast.errors import EXIT_BAD_INPUT, EXIT_NOT_READY
from tests.conftest import QUICK_TRAINING, SEED_CSV, SEED_TRACKS, query, run_command, run_ok

NEW_TRACKS = 5


def drop_file(tmp_path) -> str:
    """A drop of NEW_TRACKS tracks the seed does not have (the seed's first rows under reversed ids)."""
    path = tmp_path / "drop.csv"
    rows = pl.read_csv(SEED_CSV).head(NEW_TRACKS)
    rows.with_columns(pl.col("id").str.reverse()).write_csv(path)
    return str(path)


def unscored_tracks() -> list[tuple]:
    """What a reader of moods.duckdb sees: track_features' tracks, and those of them without a prediction."""
    return query("select count(*), count(*) filter (where p.track_id is null) "
                 "from track_features f left join predictions p using (track_id)")


def test_a_night_lands_builds_scores_and_publishes_once(trained, tmp_path):
    run_ok("score", home=trained)

    night = run_ok("nightly", drop_file(tmp_path), home=trained)

    assert f"{NEW_TRACKS} accepted" in night.stdout
    assert f"scored {NEW_TRACKS} tracks" in night.stdout.splitlines()[-1]
    assert night.stderr.count(f"published {settings.database_path()} (") == 1  # by scoring: the build left it to it
    assert "nightly run done in" in night.stderr
    assert unscored_tracks() == [(SEED_TRACKS + NEW_TRACKS, 0)]


def test_a_quiet_night_keeps_history_and_writes_the_report_as_scoring_does(trained, tmp_path):
    night = run_ok("nightly", "--quiet", "--history", "--report", drop_file(tmp_path), home=trained)

    assert "Running with dbt" not in night.stdout and " INFO " not in night.stderr  # dbt's lines and ours
    assert query("select count(*) from prediction_history") == [(SEED_TRACKS + NEW_TRACKS,)]
    report = night.stdout.splitlines()[-1].removeprefix("report: ")
    assert report.endswith(".html") and "<html" in Path(report).read_text()


def test_a_night_whose_scoring_fails_leaves_readers_the_night_before(home, tmp_path):
    run_ok("ingest", "files", str(SEED_CSV), home=home)
    run_ok("moodcast.build", home=home)  # publishes: readers see the seed's tracks

    night = run_command("nightly", drop_file(tmp_path), home=home)

    assert night.returncode == EXIT_NOT_READY, night.stderr
    assert "make train" in night.stderr
    assert query("select count(*) from track_features") == [(SEED_TRACKS,)]  # not the night's features alone
    run_ok("train", *QUICK_TRAINING, home=home)
    run_ok("nightly", home=home)  # nothing to land: what the failed night built is scored and published
    assert unscored_tracks() == [(SEED_TRACKS + NEW_TRACKS, 0)]


def test_a_file_that_cannot_be_landed_stops_the_night_before_the_build(trained, tmp_path):
    published = settings.database_path().stat().st_mtime_ns

    night = run_command("nightly", str(tmp_path / "missing.csv"), home=trained)

    assert night.returncode == EXIT_BAD_INPUT
    assert "missing.csv: no such file" in night.stderr
    assert "Running with dbt" not in night.stdout
    assert settings.database_path().stat().st_mtime_ns == published
