"""The data contract every stage shares: features, their valid ranges, and the classes.

The ranges are Spotify's documented ones. dbt tests the same ranges on the marts
(dbt_project/models/marts/_marts.yml); tests/test_contract.py keeps the two in step.
"""

from typing import NamedTuple


class Range(NamedTuple):
    low: float | None
    high: float | None
    low_inclusive: bool = True

    def describe(self) -> str:
        low = "" if self.low is None else f"{self.low} {'≤' if self.low_inclusive else '<'} "
        high = "" if self.high is None else f" ≤ {self.high}"
        return f"{low}value{high}"


RATIO = Range(0.0, 1.0)

# The model's inputs, in this order. `length` is the track duration in milliseconds.
FEATURE_RANGES: dict[str, Range] = {
    "length": Range(0, None, low_inclusive=False),
    "danceability": RATIO,
    "acousticness": RATIO,
    "energy": RATIO,
    "instrumentalness": RATIO,
    "liveness": RATIO,
    "valence": RATIO,
    # Spotify documents -60..0 dB as the typical range; mastered tracks can peak a little above 0.
    "loudness": Range(None, 5.0),
    "speechiness": RATIO,
    # Spotify reports tempo 0 when it detects no tempo: a valid value.
    "tempo": Range(0.0, None),
}
FEATURES: tuple[str, ...] = tuple(FEATURE_RANGES)

# The classes, in the order of the probability columns (p_calm, p_energetic, p_happy, p_sad).
CLASSES: tuple[str, ...] = ("Calm", "Energetic", "Happy", "Sad")
PROBABILITY_COLUMNS: tuple[str, ...] = tuple(f"p_{mood.lower()}" for mood in CLASSES)
