"""Spotify references: bare IDs, `spotify:KIND:ID` URIs and open.spotify.com URLs."""

import re

from moodcast.errors import BadInputError

ID_PATTERN = r"[0-9A-Za-z]{22}"
BARE_ID_PATTERN = rf"^{ID_PATTERN}$"  # an ID alone, as most files hold them


def reference_pattern(uri_kind: str, url_kind: str) -> str:
    """The grammar of every Spotify reference: a bare ID, a `spotify:KIND:ID` URI or an
    `https://open.spotify.com/[intl-xx/]KIND/ID[?si=…]` URL. The kinds are regex fragments (literal
    or capturing); the ID is the group named `id`, and the first group when the kinds are literal."""
    return (
        rf"^\s*(?:spotify:{uri_kind}:|https?://open\.spotify\.com/(?:intl-[A-Za-z-]+/)?{url_kind}/)?"
        rf"(?P<id>{ID_PATTERN})(?:[?#].*)?\s*$"
    )


TRACK_REFERENCE_PATTERN = reference_pattern("track", "track")
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
    return match["id"]
