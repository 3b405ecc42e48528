"""Why a track got its mood: exact Shapley values, on the scoring kernel, and the version's global importance."""

import re

import duckdb
import numpy as np
import pytest

from moodcast import settings
from moodcast.contract import FEATURES
from moodcast.model import registry
from moodcast.model.explain import explanation, shapley_values
from moodcast.model.profile import baseline
from score.engines import engine_for
from tests.conftest import run_ok


def catalog_tracks(limit: int) -> np.ndarray:
    with duckdb.connect(str(settings.work_database_path()), read_only=True) as connection:
        return np.array(connection.execute(f"select {', '.join(FEATURES)} from track_features order by track_id "
                                           f"limit {limit}").fetchall())


def test_contributions_sum_to_the_prediction_minus_the_baselines_for_every_mood(trained):
    version = registry.current()
    engine = engine_for(version)

    def predict(rows: np.ndarray) -> np.ndarray:
        return engine.compute([np.ascontiguousarray(rows[:, i]) for i in range(rows.shape[1])]).T

    mean = baseline(version.metadata()["data"]["profile"], list(FEATURES))
    tracks = catalog_tracks(100)  # two batches of coalitions

    contributions = shapley_values(predict, tracks, mean)

    expected = predict(tracks.astype(np.float32)) - predict(mean[None, :].astype(np.float32))
    np.testing.assert_allclose(contributions.sum(axis=1), expected, atol=1e-5)


def test_a_linear_models_shapley_values_are_its_weights_times_the_distance_from_the_baseline():
    rng = np.random.default_rng(3)
    weights, tracks, mean = rng.normal(size=(10, 4)), rng.normal(size=(5, 10)), rng.normal(size=10)

    contributions = shapley_values(lambda rows: rows.astype(np.float64) @ weights, tracks, mean)

    np.testing.assert_allclose(contributions, (tracks - mean)[:, :, None] * weights[None], atol=1e-5)


def test_contributions_are_said_in_words_largest_first():
    words = explanation(["energy", "acousticness", "loudness"], np.array([0.1, 0.9, -30.0]),
                        np.array([0.5, 0.4, -10.0]), np.array([-0.21, 0.15, 0.001]))

    assert words == ["low energy −0.21", "high acousticness +0.15", "quiet +0.00"]


def test_score_track_explain_lists_every_feature_once(trained):
    with duckdb.connect(str(settings.work_database_path()), read_only=True) as connection:
        (track_id,), = connection.execute("select track_id from track_features order by track_id limit 1").fetchall()

    output = run_ok("score", "track", track_id, "--explain", home=trained).stdout

    why, contributions = output.splitlines()[-2:]
    probability, at_baseline = map(float, re.match(r"why \w+ \(([\d.]+), against ([\d.]+) for", why).groups())
    values = [float(v.replace("−", "-")) for v in re.findall(r"[+−]\d\.\d\d", contributions)]
    assert len(values) == 10 and len(contributions.split(", ")) == 10
    assert abs(sum(values) - (probability - at_baseline)) <= 0.06  # each figure rounded to 0.005, and the two


def test_training_records_each_features_importance_on_the_hold_out(trained):
    with duckdb.connect(str(settings.work_database_path()), read_only=True) as connection:
        rows = connection.execute("select feature, mean_abs_contribution, rank from model_feature_importance "
                                  "where model_version = ? order by rank", [registry.current().version]).fetchall()

    assert sorted(feature for feature, _, _ in rows) == sorted(FEATURES)
    assert [rank for _, _, rank in rows] == list(range(1, 11))
    assert all(a[1] >= b[1] > 0 for a, b in zip(rows, rows[1:], strict=False))
    assert (registry.current().path / "feature_importance.png").stat().st_size > 0


@pytest.mark.parametrize("tracks", [1, 65])
def test_one_track_or_many_get_one_row_of_contributions_each(tracks):
    rng = np.random.default_rng(tracks)

    contributions = shapley_values(lambda rows: np.tanh(rows[:, :4]), rng.normal(size=(tracks, 10)), np.zeros(10))

    assert contributions.shape == (tracks, 10, 4)
    np.testing.assert_allclose(contributions[:, 4:], 0, atol=1e-12)  # features the model ignores contribute nothing
