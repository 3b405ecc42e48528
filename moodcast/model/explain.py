"""Why a track got its mood: exact Shapley values of each feature, against the training mean.

With 10 features there are 2^10 = 1,024 coalitions: each is a copy of the track whose features outside
the coalition are replaced by the training mean (the version's profile, moodcast.model.profile). The
model scores all 1,024 copies in one batch, and each feature's Shapley value is a fixed weighted sum of
those 1,024 predictions (the weights depend on the coalitions' sizes only). Exact, not sampled: the
contributions sum to the prediction minus the baseline's prediction, for every mood.

`predict` is whatever computes the model on a batch: scoring passes its native kernel, training Keras.
"""

from collections.abc import Callable
from math import factorial

import numpy as np

Predict = Callable[[np.ndarray], np.ndarray]  # (rows, features) float32 -> (rows, classes) probabilities
TRACKS_PER_BATCH = 64  # 64 x 1,024 coalitions per call to predict: large batches, bounded memory

# How a listener says a value is below or above the training mean; "low X" / "high X" for the others.
WORDS = {"length": ("short", "long"), "tempo": ("slow", "fast"), "loudness": ("quiet", "loud")}


def coalitions(features: int) -> np.ndarray:
    """(2^features, features) bool: row c holds the features of coalition c (bit i of c: feature i)."""
    return (np.arange(2 ** features)[:, None] >> np.arange(features)) & 1 == 1


def shapley_weights(members: np.ndarray) -> np.ndarray:
    """(coalitions, features): feature i's Shapley value is predictions @ weights[:, i].

    A coalition S with i in it enters i's value with +|S-1|!(n-|S|)!/n!, one without i with -|S|!(n-|S|-1)!/n!."""
    n = members.shape[1]
    size = members.sum(axis=1)
    weight = np.array([factorial(k) * factorial(n - k - 1) / factorial(n) for k in range(n)] + [0.0])
    return np.where(members, weight[np.maximum(size - 1, 0)][:, None], -weight[size][:, None])


def shapley_values(predict: Predict, tracks: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """(tracks, features, classes): each feature's contribution to each class's probability."""
    tracks = np.atleast_2d(np.asarray(tracks, dtype=np.float64))
    members = coalitions(tracks.shape[1])
    weights = shapley_weights(members)
    values = []
    for start in range(0, len(tracks), TRACKS_PER_BATCH):
        chunk = tracks[start:start + TRACKS_PER_BATCH]
        rows = np.where(members[None, :, :], chunk[:, None, :], baseline[None, None, :])
        predicted = np.asarray(predict(rows.reshape(-1, tracks.shape[1]).astype(np.float32)), dtype=np.float64)
        predicted = predicted.reshape(len(chunk), len(members), -1)
        values.append(np.einsum("tcm,cf->tfm", predicted, weights))
    return np.concatenate(values)


def global_importance(predict: Predict, tracks: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """(features,): the mean absolute contribution of each feature to the probability of each track's predicted
    mood."""
    contributions = shapley_values(predict, tracks, baseline)
    predicted = np.asarray(predict(np.asarray(tracks, dtype=np.float32))).argmax(axis=1)
    return np.abs(contributions[np.arange(len(tracks)), :, predicted]).mean(axis=0)


def in_words(feature: str, value: float, mean: float) -> str:
    """'low energy', 'loud', …: the value as a listener would say it, against the training mean."""
    low, high = WORDS.get(feature, (f"low {feature}", f"high {feature}"))
    return high if value > mean else low


def explanation(names: list[str], values: np.ndarray, baseline: np.ndarray, contributions: np.ndarray) -> list[str]:
    """"low energy −0.21" for each feature, the largest contribution (either sign) first (+ 0.0: no "−0.00")."""
    order = np.argsort(-np.abs(contributions), kind="stable")
    return [f"{in_words(names[i], values[i], baseline[i])} {round(contributions[i], 2) + 0.0:+.2f}".replace("-", "−")
            for i in order]
