"""ReccoBeats: Spotify-compatible audio features without a key, for apps Spotify refuses them to.

`GET /v1/audio-features?ids=<up to 40 Spotify IDs>` answers `{"content": [...]}`, one entry per
track it knows (unknown ones are left out), each naming its Spotify track in `href`. It has no
`duration_ms`: the track's duration comes from Spotify's metadata.
"""

import requests

from ingest.spotify.batches import chunks
from ingest.spotify.client import REQUEST_TIMEOUT_S
from ingest.spotify.references import parse_reference
from ingest.spotify.retry import RetryPolicy
from moodcast import settings
from moodcast.errors import BadInputError

BATCH = 40  # IDs per request, ReccoBeats's limit


def spotify_id_of(entry: dict) -> str | None:
    try:
        return parse_reference(entry.get("href") or "", "track").id
    except BadInputError:
        return None


class ReccoBeats:
    def __init__(self, policy: RetryPolicy, timeout_s: float = REQUEST_TIMEOUT_S):
        self.policy = policy
        self.timeout_s = timeout_s
        self.session = requests.Session()
        self.base_url = settings.reccobeats_api_url()

    def audio_features(self, ids: list[str]) -> dict[str, dict | None]:
        """Audio features by Spotify ID (None: ReccoBeats does not know the track)."""
        found: dict[str, dict] = {}
        for batch in chunks(ids, BATCH):
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
