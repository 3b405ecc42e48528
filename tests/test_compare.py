"""`python -m train compare`: every candidate on the same folds, differences paired with the article's."""

import duckdb
import numpy as np

from tests.conftest import run_ok
from train import compare
from train.config import TrainConfig
from train.data import read_examples

TINY = TrainConfig(epochs=2, cv_folds=2, members=2)


def test_every_candidate_is_scored_on_the_same_folds(trained_home):
    with duckdb.connect(str(trained_home / "moods.duckdb"), read_only=True) as connection:
        examples = read_examples(connection)

    results = compare.compare(examples, TINY, repeats=2)

    assert [r.name for r in results] == list(compare.candidates(TINY))
    for result in results:
        assert len(result.fold_accuracies) == len(result.fold_macro_f1) == 4  # 2 folds × 2 repeats
        assert len(result.repeat_eces) == 2
        assert np.all((0 <= result.fold_accuracies) & (result.fold_accuracies <= 1))
    table = compare.comparison_table(results).splitlines()
    assert len(table) == 2 + len(results)
    assert table[2].startswith(f"| {compare.BASELINE} |") and table[2].split("|")[5].strip() == "—"


def test_the_paired_difference_is_fold_by_fold():
    same_mean = np.array([0.7, 0.9, 0.7, 0.9])
    baseline = compare.Comparison(compare.BASELINE, same_mean, same_mean, np.array([0.1]), 1.0)
    better = compare.Comparison("better", same_mean + 0.01, same_mean, np.array([0.1]), 1.0)

    row = compare.comparison_table([baseline, better]).splitlines()[3]

    assert "| +1.00 ± 0.00 (4/0) |" in row


def test_the_command_prints_the_table(trained):
    result = run_ok("train", "--epochs", "1", "--members", "2", "--cv-folds", "2", "compare", "--repeats", "1",
                    home=trained)

    assert "| model | accuracy (mean ± sd) |" in result.stdout
    assert "| gradient boosting |" in result.stdout
