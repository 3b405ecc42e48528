"""Incremental scoring: only new tracks, changed features and other model versions are scored again."""

import logging
import shutil
from datetime import UTC, datetime, timedelta

import duckdb
import polars as pl
import pytest

from ingest.files import ingest_file
from moodcast import settings, warehouse
from moodcast.build import BUILD_INPUTS, dbt_build
from moodcast.contract import FEATURES, PROBABILITY_COLUMNS
from moodcast.model import registry
from score.catalog import Outcome, score_catalog
from score.catalog_file import file_catalog
from tests import conftest
from tests.conftest import SEED_CSV, SEED_TRACKS

START = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def score(run: int = 0, model: registry.ModelVersion | None = None, **options) -> Outcome:
    """Score the warehouse's catalog as run number `run` (each run has its own scored_at)."""
    with warehouse.connect() as connection:
        return score_catalog(connection, model or registry.current(), START + timedelta(hours=run), **options)


def query(sql: str, *parameters) -> list[tuple]:
    """From the work file: scoring in-process publishes nothing."""
    return conftest.query(sql, *parameters, database=settings.work_database_path())


def change(*statements: str) -> None:
    """Change track_features by hand, not by a build: like any dbt run but a whole build, that leaves no record of
    the build the warehouse is (moodcast.build), so the next run looks at the whole catalog (score.changes)."""
    with duckdb.connect(str(settings.work_database_path())) as connection:
        for sql in statements:
            connection.execute(sql)
        connection.execute(f"drop table if exists {BUILD_INPUTS}")


def runs_per_track() -> dict[int, int]:
    """How many tracks each run (by its scored_at) last scored."""
    return {(scored_at - START) // timedelta(hours=1): tracks for scored_at, tracks in
            query("select scored_at, count(*) from predictions group by scored_at")}


def test_a_second_run_with_nothing_new_scores_nothing(trained):
    first = score(0)

    second = score(1)

    assert (first.scored, first.skipped) == (SEED_TRACKS, 0)
    assert (second.scored, second.skipped, second.removed) == (0, SEED_TRACKS, 0)
    assert runs_per_track() == {0: SEED_TRACKS}


def test_every_run_that_writes_is_recorded_in_scoring_runs(trained):
    score(0)
    score(1)  # nothing to do: nothing written
    change("delete from track_features where track_id in (select track_id from track_features order by track_id"
           " limit 2)", "update track_features set tempo = tempo + 1"
           " where track_id in (select track_id from track_features order by track_id limit 3)")
    score(2)

    version = registry.current().version
    assert query("select run_id, model_version, scored_at, catalog, engine, scored, skipped, removed "
                 "from scoring_runs order by run_id") == [
        (1, version, START, "track_features", "native kernel", SEED_TRACKS, 0, 0),
        (2, version, START + timedelta(hours=2), "track_features", "native kernel", 3, 681, 2),
    ]
    assert runs_per_track() == {0: 681, 2: 3}


def test_only_new_tracks_are_scored(trained):
    score(0)
    change("insert into track_features select 'new' || track_id[4:], * exclude (track_id) from track_features"
           " order by track_id limit 10")

    outcome = score(1)

    assert (outcome.scored, outcome.skipped) == (10, SEED_TRACKS)
    assert runs_per_track() == {0: SEED_TRACKS, 1: 10}
    assert query("select count(*) from predictions where scored_at > ? and track_id not like 'new%'", START) == [(0,)]


def test_tracks_whose_features_changed_are_scored_again(trained):
    score(0)
    before = dict(query("select track_id, p_calm from predictions"))
    change("update track_features set acousticness = 1 - acousticness, energy = 1 - energy"
           " where track_id in (select track_id from track_features order by track_id limit 7)")

    outcome = score(1)

    assert (outcome.scored, outcome.skipped) == (7, 679)
    changed = dict(query("select track_id, p_calm from predictions where scored_at > ?", START))
    assert changed.keys() == {row[0] for row in query("select track_id from track_features order by track_id limit 7")}
    assert all(changed[track] != before[track] for track in changed)


def test_a_new_model_version_scores_every_track_again(trained):
    score(0)
    current = registry.current()
    shutil.copytree(current.path, current.path.with_name("29991231-000000"))  # the same network, another version
    newer = registry.get("29991231-000000")

    outcome = score(1, newer)

    assert (outcome.scored, outcome.skipped) == (SEED_TRACKS, 0)
    assert query("select distinct model_version from predictions") == [("29991231-000000",)]
    assert score(2, newer).scored == 0


def test_tracks_gone_from_the_catalog_lose_their_prediction(trained):
    score(0)
    change("delete from track_features where track_id in (select track_id from track_features limit 5)")

    outcome = score(1)

    assert (outcome.scored, outcome.removed) == (0, 5)
    assert query("select count(*) from predictions anti join track_features using (track_id)") == [(0,)]
    assert query("select count(*) from predictions") == [(681,)]


def test_full_refresh_rescores_every_track(trained):
    score(0)

    outcome = score(1, full_refresh=True)

    assert (outcome.scored, outcome.skipped) == (SEED_TRACKS, 0)
    assert runs_per_track() == {1: SEED_TRACKS}


def test_history_keeps_one_row_per_track_model_version_and_features(trained):
    score(0, history=True)
    change("update track_features set tempo = tempo + 1"
           " where track_id in (select track_id from track_features limit 3)")
    score(1, history=True)
    score(2, history=True, full_refresh=True)  # the same predictions again: nothing new for the history

    assert query("select count(*), count(distinct (track_id, features_hash)) from prediction_history") == [(689, 689)]
    assert query("select count(*) from predictions") == [(SEED_TRACKS,)]


def seed_rows(count: int) -> pl.DataFrame:
    return pl.read_csv(SEED_CSV).head(count).rename({"length": "duration_ms"})  # spelled as ingest accepts


def score_file(path, run: int) -> Outcome:
    with warehouse.connect() as connection:
        return score_catalog(connection, registry.current(), START + timedelta(hours=run),
                             file_catalog(path, list(FEATURES)))


def test_a_catalog_file_is_checked_like_an_ingested_one(trained, tmp_path, caplog):
    score(0)
    catalog = tmp_path / "catalog.csv"
    rows = seed_rows(4).with_columns(pl.col("energy").cast(pl.String))
    rows.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("loud")).otherwise("energy").alias("energy")
                      ).write_csv(catalog)

    outcome = score_file(catalog, 1)

    assert (outcome.scored, outcome.skipped) == (0, 3)  # the warehouse's tracks, features and model: nothing to do
    assert "1 of 4 rows of" in caplog.text and "row 4: energy is not a number: 'loud'" in caplog.text


def test_tracks_only_in_a_catalog_file_are_added_and_kept_by_the_warehouse_run(trained, tmp_path):
    score(0)
    catalog = tmp_path / "catalog.parquet"
    seed_rows(1).with_columns(pl.lit("0" * 22).alias("id")).write_parquet(catalog)

    outcome = score_file(catalog, 1)
    again = score(2)

    assert (outcome.scored, again.scored, again.removed) == (1, 0, 0)
    assert query("select catalog from predictions where track_id = ?", "0" * 22) == [(str(catalog),)]


@pytest.mark.parametrize(("engine", "other"), [("keras", "kernel"), ("kernel", "keras")])
def test_every_engine_writes_the_same_predictions(trained, engine, other):
    score(0, engine=engine)

    rows = query(f"select mood, {', '.join(PROBABILITY_COLUMNS)} from predictions order by track_id")
    score(1, engine=other, full_refresh=True)
    others = query(f"select mood, {', '.join(PROBABILITY_COLUMNS)} from predictions order by track_id")

    assert [row[0] for row in rows] == [row[0] for row in others]
    assert max(abs(a - b) for row, other in zip(rows, others, strict=True)
               for a, b in zip(row[1:], other[1:], strict=True)) < 1e-5


def test_after_a_build_only_the_tracks_it_changed_are_looked_at(trained, tmp_path, caplog):
    assert dbt_build([]) == 0  # the copied landing zone is at another path: rebuilt whole, once, in this home
    score(0)
    drop = tmp_path / "drop.csv"
    rows = pl.read_csv(SEED_CSV).head(3)  # two known tracks with a new tempo, and a new track
    rows.with_columns(pl.col("tempo") + 1, pl.Series("id", [*rows["id"][:2], rows["id"][2][::-1]])).write_csv(drop)
    ingest_file(drop, datetime.now(UTC))  # after the seed: its sightings are the latest
    assert dbt_build([]) == 0
    caplog.set_level(logging.INFO, logger="score")

    after_build = score(1)
    planned_after_build = caplog.text
    caplog.clear()
    nothing_since = score(2)

    assert "planning from the tracks the last build changed" in planned_after_build
    assert (after_build.scored, after_build.skipped, after_build.removed) == (3, 684, 0)
    assert "no build since the last run" in caplog.text
    assert (nothing_since.scored, nothing_since.skipped) == (0, 687)
    assert query("select count(*) from predictions p join track_features f using (track_id) "
                 f"where p.features_hash = hash({', '.join(FEATURES)})") == [(687,)]
