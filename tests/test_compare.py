"""`python -m train compare`: every candidate on the same folds, differences paired with the article's."""

from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from sklearn.linear_model import LogisticRegression

from ingest.mapping import read_mapping
from moodcast.contract import FEATURES
from tests.conftest import SEED_CSV, run_ok
from train import compare
from train.config import TrainConfig
from train.data import Examples, read_examples
from train.labelled_file import read_labelled
from train.training import keras_fit_predict

TINY = TrainConfig(epochs=2, cv_folds=2, members=2)
# Quick stand-ins for the real candidates, whose full training takes minutes: the command's test runs those.
QUICK_CANDIDATES = {
    compare.BASELINE: keras_fit_predict(TINY),
    "logistic regression": compare.sklearn_fit_predict(lambda: LogisticRegression(max_iter=500)),
}


def test_every_candidate_is_scored_on_the_same_folds(trained_home):
    with duckdb.connect(str(trained_home / "moods.duckdb"), read_only=True) as connection:
        examples = read_examples(connection)

    results = compare.compare(examples, TINY, repeats=2, compared=QUICK_CANDIDATES)

    assert [r.name for r in results] == list(QUICK_CANDIDATES)
    for result in results:
        assert len(result.fold_accuracies) == len(result.fold_macro_f1) == 4  # 2 folds × 2 repeats
        assert len(result.repeat_eces) == 2
        assert np.all((0 <= result.fold_accuracies) & (result.fold_accuracies <= 1))
    table = compare.comparison_table(results).splitlines()
    assert len(table) == 2 + len(results)
    assert table[2].startswith(f"| {compare.BASELINE} |") and table[2].split("|")[5].strip() == "—"


def test_every_candidate_is_also_measured_on_each_external_file_and_on_held_out_sources(trained_home, tmp_path):
    with duckdb.connect(str(trained_home / "moods.duckdb"), read_only=True) as connection:
        examples = read_examples(connection)
    external = tmp_path / "other curator.csv"
    pl.read_csv(SEED_CSV.parent / "moodify_1200.csv").tail(40).write_csv(external)
    labelled = read_labelled(external, read_mapping(SEED_CSV.parent / "moodify.mapping.toml"))

    results = compare.compare(examples, TINY, repeats=1, externals=[labelled], compared=QUICK_CANDIDATES)

    for result in results:
        assert list(result.external) == [labelled.name] and result.external[labelled.name].tracks == 40
        assert result.held_out_sources is None  # the seed file is the only source
    header, _, *rows = compare.comparison_table(results).splitlines()
    assert f"| {labelled.name}: accuracy · balanced · ECE · confidence |" in header
    assert all(row.count("|") == header.count("|") for row in rows)


def test_each_source_is_held_out_in_turn_with_its_own_tracks():
    examples = Examples(
        track_ids=np.array(["a", "b", "c", "d", "e"]),
        features=np.zeros((5, len(FEATURES)), np.float32),
        labels=np.array([0, 1, 2, 3, 0]),
        source_names=(("x.csv",), ("x.csv", "y.csv"), ("y.csv",), ("y.csv",), ("z.csv",)),
    )

    splits = [(train.tolist(), test.tolist()) for train, test in compare.held_out_source_splits(examples)]

    # b, labelled by both x and y, is never held out: each source keeps it to fit on.
    assert splits == [([1, 2, 3, 4], [0]), ([0, 1, 4], [2, 3]), ([0, 1, 2, 3], [4])]


def test_held_out_sources_pool_every_source_s_own_tracks():
    examples = Examples(
        track_ids=np.array(["a", "b", "c", "d"]),
        features=np.zeros((4, len(FEATURES)), np.float32),
        labels=np.array([0, 0, 1, 1]),
        source_names=(("x.csv",), ("x.csv",), ("y.csv",), ("y.csv",)),
    )

    def always_calm(_features, _labels, to_predict):
        return np.tile([1.0, 0, 0, 0], (len(to_predict), 1))

    evaluation = compare.held_out_sources(examples, always_calm)

    assert evaluation.tracks == 4 and evaluation.accuracy == 0.5


def test_the_paired_difference_is_fold_by_fold():
    same_mean = np.array([0.7, 0.9, 0.7, 0.9])
    baseline = compare.Comparison(compare.BASELINE, same_mean, same_mean, np.array([0.1]), 1.0, {}, None)
    better = compare.Comparison("better", same_mean + 0.01, same_mean, np.array([0.1]), 1.0, {}, None)

    row = compare.comparison_table([baseline, better]).splitlines()[3]

    assert "| +1.00 ± 0.00 (4/0) |" in row


def test_the_command_prints_the_table_with_a_column_per_external_file(trained, tmp_path: Path):
    external = tmp_path / "theirs.csv"
    pl.read_csv(SEED_CSV).head(30).write_csv(external)

    result = run_ok("train", "--members", "2", "--cv-folds", "2", "compare", "--repeats", "1", "--max-epochs", "1",
                    "--external", str(external), home=trained)

    assert "| model | accuracy (mean ± sd) |" in result.stdout
    assert "| theirs.csv@" in result.stdout and ": accuracy · balanced · ECE · confidence |" in result.stdout
    assert [line.split("|")[1].strip() for line in result.stdout.splitlines()[2:]] == list(compare.candidates(TINY))
