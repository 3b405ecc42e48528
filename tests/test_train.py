"""Training: the exported model, its metadata, model_runs, reproducibility and clear refusals."""

import argparse
import json
import os
import subprocess
import sys
from dataclasses import replace

import duckdb
import keras
import numpy as np
import pytest

from moodcast import settings
from moodcast.contract import CLASSES, FEATURES
from moodcast.errors import BadInputError
from moodcast.model import registry
from tests.conftest import QUICK_TRAINING, SEED_TRACKS, run_command, run_ok
from train.config import PRESETS, TrainConfig, add_arguments, from_arguments
from train.data import Examples, check_enough, read_examples
from train.model import build_model
from train.training import train_and_evaluate

QUICK = TrainConfig(epochs=5, cv_folds=2)


def examples_from(trained_home) -> Examples:
    with duckdb.connect(str(trained_home / "moods.duckdb"), read_only=True) as connection:
        return read_examples(connection)


def raw_features(rows: int, seed: int = 0) -> np.ndarray:
    """Raw features in contract order, on Spotify's scales (length in ms, loudness in dB, tempo in BPM)."""
    rng = np.random.default_rng(seed)
    low = [1e5, 0, 0, 0, 0, 0, 0, -60, 0, 0]
    high = [6e5, 1, 1, 1, 1, 1, 1, 0, 1, 220]
    return rng.uniform(low, high, size=(rows, len(FEATURES))).astype(np.float32)


def test_the_article_preset_scales_raw_features_onto_the_training_range():
    training = raw_features(50)
    model = build_model(replace(PRESETS["article"], epochs=5, cv_folds=2), training)

    scaled = np.asarray(model.classifier.get_layer("min_max_scaling")(training))

    np.testing.assert_allclose(scaled.min(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(scaled.max(axis=0), 1, atol=1e-6)


def test_the_article_preset_is_the_articles_network_unregularised():
    model = build_model(PRESETS["article"], raw_features(50))

    dense = [layer for layer in model.classifier.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [8, len(CLASSES)]
    assert all(layer.kernel_regularizer is None for layer in dense)
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in model.classifier.layers)


def test_the_default_logs_skewed_features_and_standardises_them_on_the_training_rows():
    training = raw_features(200)
    model = build_model(QUICK, training)

    logged = np.asarray(model.classifier.get_layer("log_features")(training))
    standardised = np.asarray(model.classifier.get_layer("standardize")(logged))

    np.testing.assert_allclose(logged[:, 0], np.log(training[:, 0] + 1.0), rtol=1e-6)  # length, log-scaled
    np.testing.assert_array_equal(logged[:, 1], training[:, 1])  # danceability, as it was
    np.testing.assert_allclose(standardised.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(standardised.std(axis=0), 1, atol=1e-3)


def test_the_exported_classifier_averages_the_members_the_trainer_fits():
    training = raw_features(100)
    model = build_model(QUICK, training)

    members = np.asarray(model.trainer(training))

    assert members.shape == (100, QUICK.members, len(CLASSES))
    np.testing.assert_allclose(np.asarray(model.classifier(training)), members.mean(axis=1), atol=1e-6)


def test_a_saved_model_loads_and_predicts_exactly_as_before(tmp_path):
    training = raw_features(100)
    model = build_model(QUICK, training)
    model.classifier.save(tmp_path / "model.keras")

    loaded = keras.saving.load_model(tmp_path / "model.keras")

    np.testing.assert_array_equal(np.asarray(loaded(training)), np.asarray(model.classifier(training)))


def test_a_preset_gives_its_knobs_and_options_override_them(home):
    parser = argparse.ArgumentParser()
    add_arguments(parser)

    config = from_arguments(parser.parse_args(["--preset", "article", "--epochs", "7"]))

    assert config == replace(PRESETS["article"], epochs=7)
    assert (config.preprocessing, config.members, config.hidden_units) == ("min_max", 1, 8)


def test_training_exports_a_complete_version_and_records_the_run(trained_home, home):
    version_dirs = [d for d in (trained_home / "models").iterdir() if d.is_dir()]
    assert len(version_dirs) == 1
    version = version_dirs[0]
    assert {p.name for p in version.iterdir()} == {
        "model.keras", "kernel.npz", "metadata.json", "report.md", "confusion_matrix.png", "training_curve.png",
        "reliability.png", "feature_importance.png",
    }

    metadata = json.loads((version / "metadata.json").read_text())
    assert metadata["features"] == list(FEATURES) and metadata["classes"] == list(CLASSES)
    assert metadata["data"]["fingerprint"] == examples_from(trained_home).fingerprint()
    assert metadata["data"]["n_train"] + metadata["data"]["n_holdout"] == SEED_TRACKS
    assert set(metadata["versions"]) >= {"keras", "tensorflow-cpu", "scikit-learn"}
    assert set(metadata["data"]["profile"]) == set(FEATURES)  # what scoring measures drift against

    with duckdb.connect(str(trained_home / "moods.duckdb"), read_only=True) as connection:
        runs = connection.execute(
            "select model_version, n_train, cv_folds, holdout_accuracy, data_fingerprint from model_runs"
        ).fetchall()
    assert runs == [(version.name, metadata["data"]["n_train"], 2, metadata["metrics"]["holdout_accuracy"],
                     metadata["data"]["fingerprint"])]


def test_the_exported_model_takes_raw_features_and_gives_probabilities(trained_home):
    model = keras.saving.load_model(next((trained_home / "models").glob("2*")) / "model.keras")
    raw = examples_from(trained_home).features[:20]

    probabilities = np.asarray(model(raw))

    assert probabilities.shape == (20, len(CLASSES))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)


def test_the_same_data_and_seed_give_the_same_metrics(trained_home):
    examples = examples_from(trained_home)

    small = TrainConfig(epochs=2, cv_folds=2, members=2)  # determinism needs no more

    first, second = (train_and_evaluate(examples, small) for _ in range(2))

    np.testing.assert_array_equal(first.cv.fold_accuracies, second.cv.fold_accuracies)
    assert first.cv.out_of_fold.ece == second.cv.out_of_fold.ece
    assert first.holdout.accuracy == second.holdout.accuracy
    np.testing.assert_array_equal(first.holdout.confusion, second.holdout.confusion)


def test_the_fingerprint_ignores_row_order_but_not_content(trained_home):
    examples = examples_from(trained_home)
    shuffled = np.random.default_rng(1).permutation(len(examples))
    relabelled = examples.labels.copy()
    relabelled[0] = (relabelled[0] + 1) % len(CLASSES)

    same = Examples(examples.track_ids[shuffled], examples.features[shuffled], examples.labels[shuffled])
    changed = Examples(examples.track_ids, examples.features, relabelled)

    assert same.fingerprint() == examples.fingerprint() != changed.fingerprint()


def test_too_few_examples_of_a_mood_is_refused_with_the_counts():
    examples = Examples(np.array(["a", "b", "c", "d"]), np.zeros((4, 10), np.float32), np.array([0, 1, 2, 3]))

    with pytest.raises(BadInputError, match=r"\(Calm: 1, Energetic: 1, Happy: 1, Sad: 1\).*at least 10"):
        check_enough(examples, cv_folds=10)


def test_training_before_a_build_says_to_build_first(home):
    result = run_command("train", *QUICK_TRAINING, home=home)

    assert result.returncode == 3
    assert "run `make build` first" in result.stderr
    assert not (home / "models").exists()


def test_bad_knobs_are_refused_before_any_work(home):
    result = run_command("train", "--cv-folds", "1", "--holdout-fraction", "1.5", home=home)

    assert result.returncode == 2
    assert "--holdout-fraction must be between 0 and 1; --cv-folds must be at least 2" in result.stderr


def test_a_second_training_becomes_the_current_model(trained):
    first = registry.current()

    run_ok("train", *QUICK_TRAINING, "--seed", "7", home=trained)

    assert [v.version for v in registry.versions()] == [first.version, registry.current().version]
    assert registry.current().metadata()["params"]["seed"] == 7
    with duckdb.connect(str(settings.database_path()), read_only=True) as connection:
        assert connection.execute("select count(*) from model_runs").fetchall() == [(2,)]


def test_evaluation_tables_hold_every_mood_and_every_hold_out_track(trained_home):
    with duckdb.connect(str(trained_home / "moods.duckdb"), read_only=True) as connection:
        metrics = connection.execute(
            "select evaluated_on, count(*), sum(support) from model_metrics group by 1 order by 1"
        ).fetchall()
        confusion = connection.execute(
            "select evaluated_on, count(*), sum(tracks) from model_confusion group by 1 order by 1"
        ).fetchall()
        n_holdout, macro_f1, ece = connection.execute("select n_holdout, macro_f1, ece from model_runs").fetchall()[0]
    assert metrics == [("cross_validation", 4, SEED_TRACKS), ("holdout", 4, n_holdout)]
    assert confusion == [("cross_validation", 16, SEED_TRACKS), ("holdout", 16, n_holdout)]
    assert 0 <= ece <= 1 and 0 <= macro_f1 <= 1


def test_list_marks_the_current_version_and_promote_switches_it(two_versions):
    first, second = [version.version for version in registry.versions()]  # the second trained with --no-promote
    assert registry.current().version == first

    promoted = run_ok("train", "promote", second, home=two_versions)
    listed = run_ok("train", "list", home=two_versions)

    assert f"{second} is now the current model" in promoted.stdout
    assert registry.current().version == second
    marked = [line.split()[1] for line in listed.stdout.splitlines() if line.startswith("*")]
    assert marked == [second]


def test_promoting_an_unknown_version_names_the_known_ones(trained):
    result = run_command("train", "promote", "19990101-000000", home=trained)

    assert result.returncode == 2
    assert "no model version '19990101-000000'" in result.stderr
    assert registry.current().version in result.stderr


def test_a_version_whose_run_cannot_be_recorded_is_not_left_behind(trained):
    """The warehouse held by another process past the lock timeout: no version folder without its rows."""
    before = [model.version for model in registry.versions()]
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('holding', flush=True); time.sleep(120)", str(settings.work_database_path())],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        result = subprocess.run([sys.executable, "-m", "train", *QUICK_TRAINING], capture_output=True, text=True,
                                env=os.environ | {settings.LOCK_TIMEOUT_VARIABLE: "1"}, cwd=settings.REPO_ROOT,
                                timeout=600)
    finally:
        holder.kill()
        holder.wait()

    assert result.returncode == 75, result.stderr
    assert [model.version for model in registry.versions()] == before
    with duckdb.connect(str(settings.work_database_path()), read_only=True) as connection:
        recorded = {version for (version,) in connection.execute("select model_version from model_runs").fetchall()}
    assert recorded == set(before)
