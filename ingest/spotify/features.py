"""Where audio features come from, and what a provider's answer means for one track.

`--features spotify` asks Spotify's audio-features endpoint, `reccobeats` asks ReccoBeats, and
`auto` asks Spotify until it answers 403 (closed to apps created after 2024-11-27 and to
development-mode apps without extended access), then ReccoBeats for the rest of the run.

ReccoBeats serves Spotify-compatible audio features without a key: `GET /v1/audio-features?ids=<up
to 40 Spotify IDs>` answers `{"content": [...]}`, one entry per track it knows (unknown ones are left
out), each naming its Spotify track in `href`. It has no `duration_ms`: the track's duration comes
from Spotify's metadata.
"""

import logging
import math
from dataclasses import dataclass

import requests

from ingest.spotify.client import REQUEST_TIMEOUT_S, SpotifyCatalog
from ingest.spotify.references import parse_reference
from ingest.spotify.retry import RetryPolicy, Unavailable, chunks, fetch_splitting
from moodcast import settings
from moodcast.contract import FEATURE_RANGES, FEATURES
from moodcast.errors import BadInputError

log = logging.getLogger(__name__)

SOURCES = ("auto", "spotify", "reccobeats")  # the --features choices
NO_VALUES: dict[str, float | int | None] = dict.fromkeys(FEATURES)
RECCOBEATS_BATCH = 40  # IDs per request, ReccoBeats's limit


@dataclass(frozen=True)
class TrackFeatures:
    values: dict[str, float | int | None]  # the contract's 10 features; `length` is in milliseconds
    status: str  # complete | incomplete (some values missing) | missing (none) | invalid (out of range)
    provider: str | None  # spotify | reccobeats; None when it had nothing
    problem: str | None = None  # why the values are invalid


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def track_features(answer: dict | None, provider: str, duration_ms: int | None) -> TrackFeatures:
    """A provider's answer for one track, checked against the contract; `length` falls back to the metadata."""
    if answer is None:
        return TrackFeatures(NO_VALUES, "missing", None)
    raw = {name: answer.get("duration_ms" if name == "length" else name) for name in FEATURES}
    if raw["length"] is None:
        raw["length"] = duration_ms
    # Checked as they land: `length` rounded to whole milliseconds.
    values = {name: None if not is_number(value) else (round(value) if name == "length" else float(value))
              for name, value in raw.items()}
    problems = [
        f"{name} is not a number: {raw[name]!r}" if value is None
        else f"{name} is out of range ({FEATURE_RANGES[name].describe()}): {raw[name]}"
        for name, value in values.items()
        if raw[name] is not None and (value is None or not FEATURE_RANGES[name].contains(value))
    ]
    if problems:
        return TrackFeatures(NO_VALUES, "invalid", provider, "; ".join(problems))
    status = "complete" if all(value is not None for value in values.values()) else "incomplete"
    return TrackFeatures(values, status, provider)


def spotify_id_of(entry: dict) -> str | None:
    try:
        return parse_reference(entry.get("href") or "", "track").id
    except BadInputError:
        return None


class ReccoBeats:
    """ReccoBeats's audio features, through the retry policy."""

    def __init__(self, policy: RetryPolicy, timeout_s: float = REQUEST_TIMEOUT_S):
        self.policy = policy
        self.timeout_s = timeout_s
        self.session = requests.Session()
        self.base_url = settings.reccobeats_api_url()

    def audio_features(self, ids: list[str]) -> dict[str, dict | None]:
        """Audio features by Spotify ID (None: ReccoBeats does not know the track)."""
        found: dict[str, dict] = {}
        for batch in chunks(ids, RECCOBEATS_BATCH):
            content = self.policy.call("ReccoBeats", f"the audio features of {len(batch)} tracks",
                                       lambda batch=batch: self._get(batch))
            found |= {spotify_id: entry for entry in content if (spotify_id := spotify_id_of(entry))}
        return {track_id: found.get(track_id) for track_id in ids}

    def _get(self, ids: list[str]) -> list[dict]:
        response = self.session.get(
            self.base_url + "audio-features", params={"ids": ",".join(ids)}, timeout=self.timeout_s
        )
        response.raise_for_status()
        return response.json()["content"]


class FeatureFetcher:
    """Audio features for batches of tracks, from the source `--features` names."""

    def __init__(self, source: str, catalog: SpotifyCatalog, reccobeats: ReccoBeats):
        self.source = source
        self.catalog = catalog
        self.reccobeats = reccobeats
        self.ask_spotify = source != "reccobeats"

    def fetch(self, durations: dict[str, int | None]) -> tuple[dict[str, TrackFeatures], dict[str, str]]:
        """Features by track ID, and the IDs refused, with why. `durations`: each track's, from its metadata."""
        ids = list(durations)
        if self.ask_spotify:
            try:
                answers, refused = fetch_splitting(self.catalog.audio_features, ids)
                return self.results(answers, "spotify", durations), refused
            except Unavailable as error:
                self.spotify_refused(error)
        answers, refused = fetch_splitting(self.reccobeats.audio_features, ids)
        return self.results(answers, "reccobeats", durations), refused

    def spotify_refused(self, error: Unavailable) -> None:
        explanation = (
            f"Spotify answered {error.failure.describe()} to audio-features: this app has no access to that "
            "endpoint (Spotify closed it to apps created after 2024-11-27 and to development-mode apps "
            "without extended access)"
        )
        if self.source == "spotify":
            raise BadInputError(f"{explanation}. Use --features reccobeats (or auto) to get them from ReccoBeats.")
        log.warning("%s. Audio features come from ReccoBeats for the rest of this run.", explanation)
        self.ask_spotify = False

    @staticmethod
    def results(
        answers: dict[str, dict | None], provider: str, durations: dict[str, int | None]
    ) -> dict[str, TrackFeatures]:
        return {track_id: track_features(answer, provider, durations[track_id]) for track_id, answer in answers.items()}
