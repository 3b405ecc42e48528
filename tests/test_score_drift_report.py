"""Drift per scoring run (nil on the training data itself, a one-line warning per feature shifted on purpose), and
the run's HTML report."""

import html
import re
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from moodcast.contract import CLASSES
from moodcast.errors import EXIT_BAD_INPUT, EXIT_NOT_READY
from moodcast.model.profile import training_profile
from score import drift
from score.drift import PSI_MODERATE, PSI_SIGNIFICANT, measure
from tests.conftest import SEED_CSV, SEED_TRACKS, run_command, run_ok


def published(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "moods.duckdb"), read_only=True) as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture(scope="module")
def scored(trained_home: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The trained warehouse scored once, with its report: (home, the run's stderr)."""
    path = tmp_path_factory.mktemp("scored") / "home"
    shutil.copytree(trained_home, path)
    return path, run_ok("score", "--report", home=path).stderr


def test_the_training_data_itself_does_not_drift_and_no_warning_fires(scored):
    home, log = scored

    drift = published(home, "select feature, psi, outside_training_range, training_mean - catalog_mean "
                            "from feature_drift where run_id = 1")

    assert len(drift) == 10
    assert all(psi < 1e-9 and outside == 0 and abs(difference) < 1e-6 for _, psi, outside, difference in drift)
    assert "drifted" not in log


def test_the_class_mix_is_recorded_next_to_the_training_mix(scored):
    home, _ = scored

    mix = published(home, "select mood, tracks, share, training_share from class_mix where run_id = 1 order by mood")

    assert [row[0] for row in mix] == list(CLASSES)
    assert sum(row[1] for row in mix) == SEED_TRACKS
    assert sum(row[2] for row in mix) == pytest.approx(1)
    assert sum(row[3] for row in mix) == pytest.approx(1)


def test_a_catalog_shifted_on_purpose_drifts_and_each_shifted_feature_warns_once(trained, tmp_path):
    shifted = tmp_path / "louder_and_less_acoustic.csv"
    pl.read_csv(SEED_CSV).with_columns((pl.col("loudness") + 8).clip(upper_bound=5),
                                       pl.col("acousticness") * 0.3).write_csv(shifted)

    log = run_ok("score", "--catalog", str(shifted), home=trained).stderr

    warnings = [line for line in log.splitlines() if "drifted" in line]
    assert [line.split("score: ")[1].split(" has drifted")[0] for line in warnings] == ["acousticness", "loudness"]
    assert "the catalog's tracks are louder than those model" in warnings[1]
    drift = dict(published(trained, "select feature, psi from feature_drift where run_id = 1"))
    assert drift["loudness"] >= PSI_SIGNIFICANT and drift["acousticness"] >= PSI_SIGNIFICANT
    assert max(psi for feature, psi in drift.items() if feature not in ("loudness", "acousticness")) < PSI_MODERATE


def test_psi_is_measured_in_duckdb_against_the_training_deciles():
    training = pl.read_csv(SEED_CSV).select("energy", "tempo")
    profile = training_profile(training.to_numpy().astype("float32"), ["energy", "tempo"])  # as training reads it
    catalog = training.with_columns(pl.col("energy") * 0.5)  # half the energy, the same tempo

    with duckdb.connect() as connection:
        connection.register("catalog", catalog)
        drift = {d.feature: d for d in measure(connection, "catalog", profile)}

    assert drift["energy"].psi > 1 and drift["energy"].catalog_mean == pytest.approx(training["energy"].mean() / 2)
    assert drift["tempo"].psi < 1e-9
    assert sum(drift["energy"].catalog_shares) == pytest.approx(1)


def test_a_fresh_warehouses_report_has_every_section_and_fetches_nothing(scored):
    home, _ = scored
    report = home / "reports" / "score-run-1.html"

    page = report.read_text()

    assert re.findall(r'<h2 id="(\w+)"', page) == ["mix", "confidence", "drift", "model", "tracks"]
    assert page.count('<img src="data:image/png;base64,') == 4  # mix, confidence, drift, feature importance
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing to fetch: it reads the same offline, mailed
    assert "change (first run of this catalog)" in page and "No feature drifted significantly" in page
    assert "hold-out" in page and "cross-validation" in page
    (most_confident,), = published(home, "select track_name from predictions order by confidence desc, track_id "
                                         "limit 1")
    assert html.escape(most_confident) in page


def test_a_report_on_a_run_that_does_not_exist_says_which_runs_do(scored):
    home, _ = scored

    result = run_command("score", "report", "--run", "7", home=home)

    assert result.returncode == EXIT_BAD_INPUT
    assert result.stderr == "error: there is no scoring run 7: runs are numbered 1 to 1 (scoring_runs.run_id)\n"


def test_a_report_before_any_scoring_run_says_to_score_first(trained):
    result = run_command("score", "report", home=trained)

    assert result.returncode == EXIT_NOT_READY
    assert "run `python -m score` first" in result.stderr


def test_a_large_catalog_is_measured_on_a_sample(monkeypatch):
    training = pl.read_csv(SEED_CSV).select("energy", "tempo")
    profile = training_profile(training.to_numpy().astype("float32"), ["energy", "tempo"])
    catalog = pl.concat([training.with_columns(pl.col("energy") * 0.5)] * 300)  # 205,800 tracks
    monkeypatch.setattr(drift, "SAMPLE_TRACKS", 50_000)

    with duckdb.connect() as connection:
        connection.register("catalog", catalog)
        measured = {d.feature: d for d in drift.measure(connection, "catalog", profile)}

    assert measured["energy"].tracks == 205_800 and 10_000 < measured["energy"].tracks_measured < 150_000
    assert measured["energy"].psi > 1 and measured["tempo"].psi < PSI_MODERATE
