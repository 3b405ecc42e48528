"""The training data's profile, kept in a model version's metadata: what scoring compares a catalog with.

Per feature: the mean (also the baseline of the explanations, moodcast.model.explain), the range, and the
deciles with the share of training tracks in each bin. A version carries the profile of exactly the
`training_examples` it was fitted on, so drift is measured against those even after the mart changes.

Bins: a value's bin is the number of edges at or below it (numpy's searchsorted, side "right"); score.drift
counts the catalog the same way in SQL. Features with many equal values (instrumentalness is 0 for most
vocal tracks) have fewer distinct deciles, hence fewer bins.
"""

import numpy as np

BINS = 10  # deciles: the usual population stability index bins


def feature_profile(values: np.ndarray) -> dict:
    values = np.asarray(values, dtype=np.float64)
    edges = np.unique(np.quantile(values, np.arange(1, BINS) / BINS))
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    return {
        "mean": float(values.mean()),
        "min": float(values.min()),
        "max": float(values.max()),
        "edges": edges.tolist(),
        "shares": (counts / len(values)).tolist(),
    }


def training_profile(features: np.ndarray, names: list[str]) -> dict[str, dict]:
    """feature name -> its profile, from the training features (tracks, features) in `names`' order."""
    return {name: feature_profile(features[:, i]) for i, name in enumerate(names)}


def baseline(profile: dict[str, dict], names: list[str]) -> np.ndarray:
    """The training mean of each feature, in `names`' order."""
    return np.array([profile[name]["mean"] for name in names])
