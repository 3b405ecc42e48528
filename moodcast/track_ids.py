"""Spotify track references: bare IDs, `spotify:track:` URIs and open.spotify.com URLs."""

import re

from moodcast.errors import BadInputError

# One pattern for every accepted spelling; group 1 is the 22-character base-62 ID.
TRACK_REFERENCE_PATTERN = (
    r"^\s*(?:spotify:track:|https?://open\.spotify\.com/(?:intl-[A-Za-z-]+/)?track/)?"
    r"([0-9A-Za-z]{22})(?:[?#].*)?\s*$"
)
_TRACK_REFERENCE = re.compile(TRACK_REFERENCE_PATTERN)

ACCEPTED_SPELLINGS = (
    "a 22-character base-62 ID, a spotify:track:ID URI or an "
    "https://open.spotify.com/track/ID URL"
)


def parse_track_id(reference: str) -> str:
    """Return the 22-character ID inside a track reference, or raise BadInputError."""
    match = _TRACK_REFERENCE.match(reference)
    if match is None:
        raise BadInputError(f"{reference!r} is not a Spotify track: expected {ACCEPTED_SPELLINGS}")
    return match.group(1)
