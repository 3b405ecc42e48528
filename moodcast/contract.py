"""The data contract every stage shares: features, their valid ranges, and the classes.

These ranges are the one definition of a sane feature value: ingest rejects a row whose value, as it
would land (length rounded to whole milliseconds), falls outside them, and dbt tests the same ranges
(the feature_ranges var in dbt_project/dbt_project.yml); tests/test_contract.py keeps the two in step.
Every bound is finite, so every accepted value fits the scoring engines' float32 inputs.
"""

from typing import NamedTuple

from moodcast.errors import BadInputError


class Range(NamedTuple):
    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def describe(self) -> str:
        return f"{_number(self.low)} ≤ value ≤ {_number(self.high)}"


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


RATIO = Range(0.0, 1.0)

# The model's inputs, in this order. `length` is the track duration in milliseconds.
FEATURE_RANGES: dict[str, Range] = {
    # At least 1 ms; at most 6 hours (21,600,000 ms): the longest tracks Spotify serves (hour-long mixes,
    # ambient pieces) fit well inside, a value in seconds or microseconds by mistake does not.
    "length": Range(1, 21_600_000),
    "danceability": RATIO,
    "acousticness": RATIO,
    "energy": RATIO,
    "instrumentalness": RATIO,
    "liveness": RATIO,
    "valence": RATIO,
    # Spotify documents -60..0 dB as the typical range; mastered tracks can peak a little above 0,
    # near-silent ones dip below -60.
    "loudness": Range(-70.0, 5.0),
    "speechiness": RATIO,
    # Beats per minute. Spotify reports tempo 0 when it detects no tempo: a valid value. Detected
    # tempos stay under about 250.
    "tempo": Range(0.0, 300.0),
}
FEATURES: tuple[str, ...] = tuple(FEATURE_RANGES)

# The classes, in the order of the probability columns (p_calm, p_energetic, p_happy, p_sad).
CLASSES: tuple[str, ...] = ("Calm", "Energetic", "Happy", "Sad")
PROBABILITY_COLUMNS: tuple[str, ...] = tuple(f"p_{mood.lower()}" for mood in CLASSES)
# How a mood written in any case is recognised: its lower-case spelling → the contract's.
MOOD_SPELLINGS: dict[str, str] = {mood.lower(): mood for mood in CLASSES}


def canonical_mood(text: str) -> str:
    """The contract's spelling of a mood, whatever the case it was written in."""
    mood = MOOD_SPELLINGS.get(text.strip().lower())
    if mood is None:
        raise BadInputError(f"{text!r} is not a mood: expected one of {', '.join(CLASSES)}")
    return mood
