"""Scoring: one well-formed prediction per track, replaced atomically, with clear refusals."""

import re
import shutil
from datetime import UTC, datetime

import duckdb
import numpy as np
import polars as pl

from moodcast import settings
from moodcast.contract import CLASSES, FEATURES, PROBABILITY_COLUMNS
from moodcast.model import registry
from score.catalog import score_catalog
from score.store import DERIVED
from tests.conftest import SEED_CSV, SEED_TRACKS, query, run_command, run_ok


def test_every_track_gets_one_well_formed_prediction(trained):
    result = run_ok("score", home=trained)

    assert query("select count(*), count(distinct track_id) from predictions") == [(SEED_TRACKS, SEED_TRACKS)]
    assert query("select count(*) from predictions anti join track_features using (track_id)") == [(0,)]
    rows = query(f"select mood, confidence, {', '.join(PROBABILITY_COLUMNS)}, model_version from predictions")
    probabilities = np.array([row[2:6] for row in rows])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-6)
    assert [row[0] for row in rows] == [CLASSES[i] for i in probabilities.argmax(axis=1)]
    assert [row[1] for row in rows] == list(probabilities.max(axis=1))
    assert {row[6] for row in rows} == {registry.current().version}
    assert "total" in result.stdout and str(SEED_TRACKS) in result.stdout
    assert query("select data_type from information_schema.columns where table_name = 'predictions' and "
                 "column_name = 'mood'") == [("VARCHAR",)]  # derived from the probabilities, as text for every client


def test_the_view_derives_mood_and_confidence_as_argmax_and_max_do_ties_included():
    ties = [[0.4, 0.4, 0.1, 0.1], [0.1, 0.4, 0.4, 0.1], [0.1, 0.1, 0.4, 0.4], [0.25] * 4, [0.1, 0.2, 0.3, 0.4]]
    probabilities = np.vstack([ties, np.random.default_rng(0).dirichlet(np.ones(4), 2000)]).astype(np.float32)
    with duckdb.connect() as connection:
        connection.register("p", pl.DataFrame(probabilities, schema=list(PROBABILITY_COLUMNS)))
        rows = connection.execute(f"select {DERIVED['mood']}, {DERIVED['confidence']} from p").fetchall()

    assert [mood for mood, _ in rows] == [CLASSES[i] for i in probabilities.argmax(axis=1)]
    assert [mood for mood, _ in rows[:5]] == ["Calm", "Energetic", "Happy", "Calm", "Sad"]
    assert [confidence for _, confidence in rows] == list(probabilities.max(axis=1))


def test_predictions_match_the_exported_keras_model(trained):
    run_ok("score", home=trained)
    rows = query(f"select {', '.join(FEATURES)}, {', '.join(PROBABILITY_COLUMNS)} "
                 "from track_features join predictions using (track_id) order by track_id limit 200")
    features = np.array([row[:10] for row in rows], dtype=np.float32)
    model = registry.current().load()

    expected = model.predict(features, verbose=0)

    np.testing.assert_allclose(np.array([row[10:] for row in rows]), expected, atol=1e-6)


def test_scoring_again_with_nothing_new_says_so_and_keeps_the_predictions(trained):
    first = run_ok("score", home=trained)
    first_scored_at = query("select distinct scored_at from predictions")

    again = run_ok("score", "--quiet", home=trained)

    assert re.fullmatch(rf"scored {SEED_TRACKS} tracks, skipped 0 unchanged in \d+\.\d\d s \([\d,]+ rows/s\) "
                        r"with model \S+ \(native kernel\)", first.stdout.splitlines()[-1])
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} (INFO|WARNING) ", line)
               for line in first.stderr.splitlines())
    assert again.stdout.splitlines()[-1].startswith(
        f"nothing to score: scored 0 tracks, skipped {SEED_TRACKS} unchanged in ")
    assert again.stdout.splitlines()[:-1] == first.stdout.splitlines()[:-1]  # the same mood counts
    assert again.stderr == ""  # --quiet: warnings and errors only
    assert query("select count(*), count(distinct track_id) from predictions") == [(SEED_TRACKS, SEED_TRACKS)]
    assert query("select distinct scored_at from predictions") == first_scored_at


def test_a_catalog_file_is_scored_from_the_command_line(trained, tmp_path):
    catalog = tmp_path / "catalog.csv"
    pl.read_csv(SEED_CSV).head(5).with_columns(pl.col("id").str.replace(r"^.", "Z")).write_csv(catalog)

    result = run_ok("score", "--catalog", str(catalog), home=trained)

    assert result.stdout.splitlines()[-1].startswith("scored 5 tracks, skipped 0 unchanged")
    assert query("select count(*) from predictions where catalog = ?", str(catalog)) == [(5,)]


def test_a_catalog_file_without_the_features_is_refused(trained, tmp_path):
    catalog = tmp_path / "ids.csv"
    catalog.write_text("id,energy\n" + "0" * 22 + ",0.5\n")

    result = run_command("score", "--catalog", str(catalog), home=trained)

    assert result.returncode == 2
    assert f"{catalog}: missing required column(s): length (as length or duration_ms), danceability" in result.stderr


def test_the_mood_counts_sum_to_the_catalog(trained):
    result = run_ok("score", home=trained)

    counts = dict(query("select mood, count(*) from predictions group by mood"))
    for mood, tracks in counts.items():
        assert f"{mood:<10} {tracks:>8}" in result.stdout
    assert sum(counts.values()) == SEED_TRACKS
    assert f"{'total':<10} {SEED_TRACKS:>8}" in result.stdout


def test_without_a_model_scoring_says_to_train_first(trained):
    shutil.rmtree(trained / "models")

    result = run_command("score", home=trained)

    assert result.returncode == 3
    assert "run `make train` first" in result.stderr


def test_a_catalog_missing_a_feature_is_refused_and_predictions_are_kept(trained):
    run_ok("score", home=trained)
    before = query("select * from predictions order by track_id")
    with duckdb.connect(str(settings.work_database_path())) as connection:
        connection.execute("create or replace table track_features as select * exclude (tempo) from track_features")

    result = run_command("score", home=trained)

    assert result.returncode == 2
    assert "track_features lacks feature column(s) the model needs: tempo" in result.stderr
    assert query("select * from predictions order by track_id") == before


def test_an_empty_catalog_is_refused(trained):
    with duckdb.connect(str(settings.work_database_path())) as connection:
        connection.execute("delete from track_features")

    result = run_command("score", home=trained)

    assert result.returncode == 3
    assert "track_features is empty: there is nothing to score" in result.stderr


def test_a_reader_of_the_old_predictions_is_never_shown_a_partial_table(trained):
    run_ok("score", home=trained)
    with duckdb.connect(str(settings.work_database_path())) as connection:
        reader = connection.cursor()
        reader.begin()
        before = reader.execute("select count(*), max(scored_at) from predictions").fetchall()
        score_catalog(connection, registry.current(), datetime.now(UTC), full_refresh=True)

        assert reader.execute("select count(*), max(scored_at) from predictions").fetchall() == before
        reader.commit()
        after = reader.execute("select count(*), max(scored_at) from predictions").fetchall()
    assert after[0][0] == SEED_TRACKS and after[0][1] > before[0][1]


def test_another_version_can_score_and_its_name_is_on_every_prediction(two_versions):
    current = registry.current().version
    candidate = registry.versions()[-1].version  # trained with --no-promote
    assert candidate != current

    run_ok("score", "--model", candidate, home=two_versions)

    assert query("select distinct model_version from predictions") == [(candidate,)]
    assert registry.current().version == current


def test_a_track_with_features_beyond_their_bounds_is_left_out_and_the_run_goes_on(trained):
    # A warehouse built before ingest checked the bounds: a tempo beyond float32, a length of 31,000 years.
    with duckdb.connect(str(settings.work_database_path())) as connection:
        connection.execute("insert into track_features select * replace ('0000000000000000000001' as track_id, "
                           "1e39 as tempo) from track_features limit 1")
        connection.execute("insert into track_features select * replace ('0000000000000000000002' as track_id, "
                           "1000000000000000000 as length) from track_features limit 1")

    result = run_command("score", home=trained)

    assert result.returncode == 0, result.stderr
    assert "2 tracks of track_features have features outside their documented ranges and are not scored " \
           "(e.g. 0000000000000000000001, 0000000000000000000002" in result.stderr
    assert query("select count(*) from predictions") == [(SEED_TRACKS,)]
