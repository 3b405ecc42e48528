"""`python -m train reproduce`: the article's protocol on its own 800-row file."""

from train import reproduce
from train.config import TrainConfig


def test_the_article_protocol_runs_on_its_file_and_reports_next_to_its_figures():
    path = reproduce.DATASETS["article's file (800 rows, 100 twins)"]

    result = reproduce.reproduce("article", path, TrainConfig(epochs=2, cv_folds=2))
    table = reproduce.reproduction_table([result])

    assert result.rows == 800 and len(result.cv_accuracies) == 2
    assert 0 <= result.holdout_accuracy <= 1
    assert "| the article's reported figures | 800 | 72.75 % | 76 % |" in table
    assert f"| article, reproduced | 800 | {100 * result.cv_accuracies.mean():.2f} %" in table
