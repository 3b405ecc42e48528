"""`python -m train evaluate --labels FILE`: a model version measured on someone else's labels."""

import polars as pl
import pytest

from tests.conftest import SEED_CSV, query, run_command, run_ok

MOODIFY_CSV = SEED_CSV.parent / "moodify_1200.csv"
MOODIFY_MAPPING = SEED_CSV.parent / "moodify.mapping.toml"
MEASURED = 60  # labelled tracks the tests' files hold


@pytest.fixture
def labels_file(tmp_path):
    """60 labelled tracks in moodcast's schema, then two rows ingest rejects, one without a mood and a
    track labelled two ways."""
    good = pl.read_csv(MOODIFY_CSV).tail(MEASURED).select(
        pl.col("uri").str.replace("spotify:track:", "").alias("id"),
        pl.col("duration (ms)").alias("length"),
        "danceability", "acousticness", "energy", "instrumentalness", "liveness", "valence", "loudness",
        "speechiness", "tempo",
        pl.col("labels").replace_strict({0: "Sad", 1: "Happy", 2: "Energetic", 3: "Calm"}).alias("mood"),
    )
    text = good.write_csv()
    features = "200000,0.5,0.5,0.5,0.1,0.1,0.5,-8,0.05,120"
    text += f"not-a-track-id,{features},Happy\n"
    text += f"0000000000000000000001,{features.replace('0.5,0.5,0.5', '0.5,lots,0.5')},Sad\n"
    text += f"0000000000000000000002,{features},\n"
    text += f"0000000000000000000003,{features},Happy\n0000000000000000000003,{features},Sad\n"
    path = tmp_path / "their playlists.csv"
    path.write_text(text)
    return path


def test_evaluate_reports_the_figures_and_records_them_under_the_file_and_its_fingerprint(trained, labels_file):
    result = run_ok("train", "evaluate", "--labels", str(labels_file), home=trained)

    evaluated_on = next(line for line in result.stdout.splitlines() if "evaluated_on = " in line).split("'")[1]
    assert evaluated_on.startswith("their playlists.csv@") and len(evaluated_on.split("@")[1]) == 12
    [(tracks, left_out, accuracy, balanced, ece, confidence, labels_path)] = query(
        "select tracks, rows_left_out, accuracy, balanced_accuracy, ece, mean_confidence, labels_file "
        "from model_evaluations where evaluated_on = ?", evaluated_on)
    assert (tracks, left_out, labels_path) == (MEASURED, 5, str(labels_file))
    [(right, total)] = query("select sum(tracks) filter (where true_mood = predicted_mood), sum(tracks) "
                             "from model_confusion where evaluated_on = ?", evaluated_on)
    assert total == MEASURED and accuracy == pytest.approx(right / total)
    recalls = [recall for (recall,) in query(
        "select recall from model_metrics where evaluated_on = ? and support > 0", evaluated_on)]
    assert balanced == pytest.approx(sum(recalls) / len(recalls))
    assert 0 <= ece <= 1 and 0.25 <= confidence <= 1
    assert f"accuracy {100 * accuracy:.1f}%   balanced accuracy {100 * balanced:.1f}%" in result.stdout
    assert "left out 5 of 65 rows (rejected by ingest's checks: 2, no mood: 1, track labelled with different " \
           "moods: 2)" in result.stdout
    assert "track 0000000000000000000003: labelled Happy/Sad" in result.stdout
    picture = result.stdout.split("reliability plot: ")[1].splitlines()[0]
    assert picture.endswith(".png") and (trained / "reports" / "evaluations").is_dir()
    assert (trained / "reports" / "evaluations" / picture.rsplit("/", 1)[1]).stat().st_size > 0


def test_evaluating_again_on_the_same_file_replaces_the_rows(trained, labels_file):
    run_ok("train", "evaluate", "--labels", str(labels_file), home=trained)
    run_ok("train", "evaluate", "--labels", str(labels_file), home=trained)

    counts = query("select count(*) from model_evaluations where labels_file is not null "
                   "union all select count(*) from model_confusion where evaluated_on like 'their playlists.csv@%'")
    assert counts == [(1,), (16,)]


def test_a_file_in_another_schema_is_read_through_a_mapping(trained, tmp_path):
    path = tmp_path / "moodify_part.csv"
    pl.read_csv(MOODIFY_CSV).tail(MEASURED).write_csv(path)

    result = run_ok("train", "evaluate", "--labels", str(path), "--mapping", str(MOODIFY_MAPPING), home=trained)

    assert f"({MEASURED} tracks;" in result.stdout
    assert query("select tracks from model_evaluations where labels_file = ?", str(path)) == [(MEASURED,)]


def test_a_mapping_that_does_not_fit_the_file_is_refused_and_nothing_is_recorded(trained, labels_file, tmp_path):
    mapping = tmp_path / "wrong.toml"
    mapping.write_text('[columns]\nmood = "labels"\n')

    result = run_command("train", "evaluate", "--labels", str(labels_file), "--mapping", str(mapping), home=trained)

    assert result.returncode == 2, result.stderr
    assert "maps mood = 'labels', but" in result.stderr and "Traceback" not in result.stderr
    assert query("select count(*) from model_evaluations where labels_file is not null") == [(0,)]


def test_a_file_without_moods_is_refused_with_what_to_do(trained, tmp_path):
    path = tmp_path / "catalog.csv"
    pl.read_csv(SEED_CSV).head(5).drop("mood").write_csv(path)

    result = run_command("train", "evaluate", "--labels", str(path), home=trained)

    assert result.returncode == 2
    assert "no mood column" in result.stderr and "--mapping" in result.stderr


@pytest.mark.parametrize("rows, message", [
    ("", "the file has no rows"),
    ("bad,1,1,1,1,1,1,1,1,1,1,Calm\n", "none of its 1 rows can be measured (rejected by ingest's checks: 1), e.g."),
])
def test_a_file_with_nothing_to_measure_is_refused_with_why(trained, tmp_path, rows, message):
    path = tmp_path / "labels.csv"
    path.write_text("id,length,danceability,acousticness,energy,instrumentalness,liveness,valence,loudness,"
                    "speechiness,tempo,mood\n" + rows)

    result = run_command("train", "evaluate", "--labels", str(path), home=trained)

    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_an_unknown_model_version_is_refused(trained, labels_file):
    result = run_command("train", "evaluate", "--labels", str(labels_file), "--model", "19990101-000000",
                         home=trained)

    assert result.returncode == 2 and "no model version '19990101-000000'" in result.stderr
