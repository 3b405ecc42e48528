"""Calibration and metrics on hand-made predictions, where the right answer is known."""

import numpy as np
import pytest

from train.evaluate import calibration, evaluate


def test_a_model_right_as_often_as_it_is_confident_has_no_calibration_error():
    labels = np.array([0] * 10)
    probabilities = np.tile([0.8, 0.1, 0.05, 0.05], (10, 1))
    probabilities[:2] = [0.1, 0.8, 0.05, 0.05]  # 8 of 10 right at confidence 0.8

    ece, bins = calibration(labels, probabilities)

    assert ece == pytest.approx(0.0)
    assert bins == [{"low": pytest.approx(0.7), "high": pytest.approx(0.8), "count": 10,
                     "confidence": pytest.approx(0.8), "accuracy": pytest.approx(0.8)}]


def test_an_overconfident_model_has_the_gap_as_its_calibration_error():
    labels = np.array([0, 0, 1, 1])
    probabilities = np.array([[0.95, 0.05, 0, 0], [0.05, 0.95, 0, 0], [0.95, 0.05, 0, 0], [0.05, 0.95, 0, 0]])

    ece, _ = calibration(labels, probabilities)

    assert ece == pytest.approx(0.95 - 0.5)


def test_evaluate_counts_per_mood_and_in_the_confusion_matrix():
    labels = np.array([0, 1, 2, 3, 3])
    probabilities = np.eye(4)[[0, 1, 2, 3, 2]]

    evaluation = evaluate(labels, probabilities)

    assert evaluation.accuracy == pytest.approx(0.8)
    assert evaluation.per_class["Sad"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert evaluation.confusion[3].tolist() == [0, 0, 1, 1]
