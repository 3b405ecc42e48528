"""spotipy, set up so that moodcast owns the retry policy, and the Spotify calls moodcast makes.

The client gets plain `requests.Session()`s: spotipy's own session mounts a urllib3 Retry that
sleeps out any `Retry-After` (hours) and then hides it behind "Max Retries". Tokens stay in memory
(MemoryCacheHandler), never in spotipy's default `.cache` file. Base URLs come from moodcast.settings.

The app's client id and secret come from the environment, else from `.env` in the working directory.
The secret is only ever handed to spotipy: it is kept out of reprs, logs, error messages and files
(moodcast.secrets masks it wherever a server echoes it).
"""

import logging
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests
import spotipy
from dotenv import dotenv_values
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyClientCredentials

from ingest.spotify.retry import Rejected, RetryPolicy, Unavailable, chunks, fetch_splitting
from moodcast import secrets, settings
from moodcast.errors import BadInputError

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 30  # per request, token included: a hung connection becomes a retryable timeout
# Page and batch sizes: the documented limits (2026 development mode).
PLAYLIST_PAGE = 50  # /playlists/{id}/items
LEGACY_PLAYLIST_PAGE = 100  # /playlists/{id}/tracks, where it still answers
ALBUM_PAGE = 50  # /albums/{id}/tracks
ARTIST_ALBUMS_PAGE = 10  # /artists/{id}/albums
TRACKS_BATCH = 50  # /tracks?ids= (gone in development mode: then /tracks/{id}, one by one)
AUDIO_FEATURES_BATCH = 100  # /audio-features?ids=
ARTIST_ALBUM_GROUPS = "album,single,compilation"  # an artist's own releases, not other artists' "appears_on"
DOTENV_FILE = ".env"
ID_VARIABLE, SECRET_VARIABLE = settings.SPOTIFY_CLIENT_ID_VARIABLE, settings.SPOTIFY_CLIENT_SECRET_VARIABLE


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str = field(repr=False)


def load_credentials(environment: Mapping[str, str] | None = None, directory: Path | None = None) -> Credentials:
    environment = os.environ if environment is None else environment
    dotenv_path = (directory or Path.cwd()) / DOTENV_FILE
    from_file = dotenv_values(dotenv_path) if dotenv_path.is_file() else {}
    values = {
        variable: environment.get(variable) or from_file.get(variable) or ""
        for variable in (ID_VARIABLE, SECRET_VARIABLE)
    }
    missing = [variable for variable, value in values.items() if not value.strip()]
    if missing:
        raise BadInputError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. Set "
            f"{ID_VARIABLE} and {SECRET_VARIABLE} to your Spotify app's client id and secret "
            f"(https://developer.spotify.com/dashboard), in the environment or in {dotenv_path} "
            "(a .env file git ignores)."
        )
    credentials = Credentials(values[ID_VARIABLE].strip(), values[SECRET_VARIABLE].strip())
    secrets.register(credentials.client_secret, credentials.client_id)
    return credentials


def connect(policy: RetryPolicy) -> "SpotifyCatalog":
    """The Spotify Web API, with the app's credentials, through `policy`: how every command reaches it."""
    return SpotifyCatalog(spotify_client(load_credentials()), policy)


def spotify_client(credentials: Credentials, timeout_s: float = REQUEST_TIMEOUT_S) -> spotipy.Spotify:
    auth = SpotifyClientCredentials(
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
        cache_handler=MemoryCacheHandler(),
        requests_session=requests.Session(),
        requests_timeout=timeout_s,
    )
    auth.OAUTH_TOKEN_URL = settings.spotify_token_url()
    client = spotipy.Spotify(
        auth_manager=auth, requests_session=requests.Session(), retries=0, status_retries=0,
        requests_timeout=timeout_s,
    )
    client.prefix = settings.spotify_api_url()
    # spotipy logs every refused request as an ERROR; moodcast reports each one itself, with its context.
    logging.getLogger("spotipy").setLevel(logging.CRITICAL)
    return client


class SpotifyCatalog:
    """The Spotify Web API calls moodcast makes, each through the retry policy."""

    def __init__(self, client: spotipy.Spotify, policy: RetryPolicy):
        self.client = client
        self.policy = policy
        self.batch_tracks_available = True

    def call(self, what: str, request: Callable[[], dict]) -> dict:
        return self.policy.call("Spotify", what, request, self.renew_token)

    def renew_token(self) -> None:
        self.client.auth_manager.get_access_token(as_dict=False, check_cache=False)

    def next_page(self, url: str, what: str) -> dict:
        """The page at a paging object's absolute `next` URL."""
        return self.call(what, lambda: self.client.next({"next": url}))

    def playlist(self, playlist_id: str) -> dict:
        return self.call(f"playlist {playlist_id}", lambda: self.client.playlist(playlist_id, fields="id,name"))

    def playlist_page(self, playlist_id: str, next_url: str | None) -> dict:
        """A page of playlist rows: `/items`, or the older `/tracks` where `/items` is refused."""
        what = f"the tracks of playlist {playlist_id}"
        if next_url:
            return self.next_page(next_url, what)
        try:
            return self.call(what, lambda: self.client.playlist_items(playlist_id, limit=PLAYLIST_PAGE))
        except (Unavailable, Rejected) as items_error:
            log.info("Spotify refused /playlists/%s/items (%s); trying the older /tracks", playlist_id, items_error)
            try:
                # spotipy has no method for the legacy path any more (playlist_tracks calls /items).
                return self.call(what, lambda: self.client._get(
                    f"playlists/{playlist_id}/tracks", limit=LEGACY_PLAYLIST_PAGE, additional_types="track,episode"
                ))
            except (Unavailable, Rejected):
                raise items_error from None

    def album(self, album_id: str) -> dict:
        return self.call(f"album {album_id}", lambda: self.client.album(album_id))

    def album_page(self, album_id: str, next_url: str | None) -> dict:
        what = f"the tracks of album {album_id}"
        if next_url:
            return self.next_page(next_url, what)
        return self.call(what, lambda: self.client.album_tracks(album_id, limit=ALBUM_PAGE))

    def artist(self, artist_id: str) -> dict:
        return self.call(f"artist {artist_id}", lambda: self.client.artist(artist_id))

    def artist_albums(self, artist_id: str) -> list[dict]:
        what = f"the albums of artist {artist_id}"
        page = self.call(what, lambda: self.client.artist_albums(
            artist_id, include_groups=ARTIST_ALBUM_GROUPS, limit=ARTIST_ALBUMS_PAGE
        ))
        albums = list(page["items"])
        while page.get("next"):
            page = self.next_page(page["next"], what)
            albums += page["items"]
        return albums

    def tracks(self, ids: list[str]) -> tuple[dict[str, dict | None], dict[str, str]]:
        """Full track objects by ID (None: Spotify has no such track), and the IDs Spotify refused, with why."""
        found: dict[str, dict | None] = {}
        refused: dict[str, str] = {}
        for batch in chunks(ids, TRACKS_BATCH):
            batch_found, batch_refused = self._tracks_batch(batch)
            found |= batch_found
            refused |= batch_refused
        return found, refused

    def _tracks_batch(self, ids: list[str]) -> tuple[dict[str, dict | None], dict[str, str]]:
        if self.batch_tracks_available and len(ids) > 1:
            try:
                return fetch_splitting(self._several_tracks, ids)
            except Unavailable:
                log.info("GET /tracks?ids= is not available to this app (removed in development mode in 2026): "
                         "fetching tracks one by one")
                self.batch_tracks_available = False
        found: dict[str, dict | None] = {}
        refused: dict[str, str] = {}
        for track_id in ids:
            one_found, one_refused = fetch_splitting(self._one_track, [track_id])
            found |= one_found
            refused |= one_refused
        return found, refused

    def _several_tracks(self, ids: list[str]) -> dict[str, dict | None]:
        answer = self.call(f"{len(ids)} tracks", lambda: self.client.tracks(ids))
        return dict(zip(ids, answer["tracks"], strict=True))

    def _one_track(self, ids: list[str]) -> dict[str, dict | None]:
        (track_id,) = ids
        return {track_id: self.call(f"track {track_id}", lambda: self.client.track(track_id))}

    def audio_features(self, ids: list[str]) -> dict[str, dict | None]:
        """Spotify's audio features by ID (None: it has none for that track). Raises Unavailable on 403."""
        found: dict[str, dict | None] = {}
        for batch in chunks(ids, AUDIO_FEATURES_BATCH):
            answer = self.call(f"the audio features of {len(batch)} tracks",
                               lambda batch=batch: self._audio_features(batch))
            found |= dict(zip(batch, answer, strict=True))
        return found

    def _audio_features(self, ids: list[str]) -> list[dict | None]:
        with warnings.catch_warnings():
            # spotipy flags the endpoint as deprecated; moodcast knows, and falls back to ReccoBeats on 403.
            warnings.simplefilter("ignore", DeprecationWarning)
            return self.client.audio_features(ids)
