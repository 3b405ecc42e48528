"""A loopback fake of the Spotify Web API (2026 development mode) and of ReccoBeats.

The real ``spotipy`` client (and plain ``requests``) can talk to it over HTTP on
127.0.0.1.  It is built on the standard library only (``http.server``): two
``ThreadingHTTPServer`` instances on random free ports, each in a daemon thread.

* the **Spotify** server answers ``POST /api/token`` (client-credentials flow) and
  the Web API under ``/v1/`` (``fake.token_url``, ``fake.api_url``);
* the **ReccoBeats** server answers ``GET /v1/audio-features?ids=`` (``fake.reccobeats_url``).

Usage::

    from tests.fake_spotify import FakeSpotify, spotipy_client

    with FakeSpotify() as fake:                  # or fake.start() / fake.stop()
        t = fake.add_track(name="Hello", artists=["Adele"], energy=0.4)
        sp = spotipy_client(fake)                # spotipy pointed at the fake
        assert sp.track(t.id)["name"] == "Hello"
        fake.script("GET", "/v1/audio-features", status=429,
                    headers={"Retry-After": "7"}, server="spotify")
        ...
        assert fake.count("GET", "/v1/tracks/") == 1

    # as environment for code that reads the contract variables
    monkeypatch.setattr(os, "environ", {**os.environ, **fake.env()})

A pytest fixture (what ``tests/test_fake_spotify.py`` uses; a shared ``conftest.py`` can
copy it verbatim)::

    @pytest.fixture
    def fake_spotify():
        with FakeSpotify() as fake:
            yield fake

Behaviour (what is emulated, and the assumptions made where Spotify does not say):

* Every ``/v1/`` call needs ``Authorization: Bearer <token issued by /api/token>``.
  Missing → 401 "No token provided"; unknown → 401 "Invalid access token";
  revoked by ``fake.expire_tokens()`` → 401 "The access token expired" (with a
  ``WWW-Authenticate`` header, like Spotify).  The token endpoint checks HTTP Basic
  credentials: wrong ones → 401 ``{"error": "invalid_client", ...}``.
* Paths are normalised before routing and logging: a trailing ``/`` is dropped
  (spotipy calls ``tracks/?ids=``, ``audio-features/?ids=``, ``albums/{id}/tracks/``).
* ``dev_mode=True`` (default) emulates a development-mode app after the February/March
  2026 changes: ``GET /v1/tracks?ids=`` and ``GET /v1/playlists/{id}/tracks`` answer
  **403** ``{"error":{"status":403,"message":"Forbidden"}}`` (ASSUMPTION: Spotify's
  reported answer for the removed playlist endpoint; used for the removed batch
  endpoint too); ``/artists/{id}/albums`` allows at most 10 per page (more → 400);
  ``popularity``/``available_markets`` (tracks, albums) and ``followers``/``popularity``
  (artists) are left out; the playlist object carries its first page under ``items``
  (not ``tracks``).  ``dev_mode=False`` is an extended-quota app.  Each switch can
  be set on its own (``batch_tracks``, ``legacy_playlist_tracks``,
  ``artist_albums_max_limit``, attributes of the same names).
* ``fake.audio_features_forbidden = True`` makes ``/v1/audio-features`` (batch and
  single) answer 403, like apps created after 2024-11-27.
* ``fake.invalid_ids``: IDs Spotify answers 400 "invalid base62 id" for, wherever they
  appear (a path or an ``ids`` list), like real IDs of 22 base-62 characters that do not
  decode to a valid Spotify ID.
* Playlist rows carry the track under ``item`` and (deprecated) ``track``; rows may be
  null tracks (deleted/unavailable), local files (``is_local: true``, ``id: null``) or
  podcast episodes.  ``add_playlist(accessible=False)`` makes ``/items`` answer 403
  (dev mode: only playlists the user owns or collaborates on — ASSUMPTION: 403).
  The ``fields`` and ``market`` parameters are accepted and ignored.
* Paging objects have ``href, items, limit, next, offset, previous, total`` with
  absolute URLs on the fake; extra query parameters are kept in ``next``/``previous``.
* ReccoBeats: ``ids`` comma-separated and/or repeated, Spotify IDs or ReccoBeats
  UUIDs, at most 40 (more → 400); unknown tracks are left out; no auth.  Its error
  body (``{"status","error","message"}``) is an ASSUMPTION: ReccoBeats does not
  document one.
* Fault injection: ``fake.script(method, path, status=..., headers=..., body=...,
  times=1, delay=0, server=None)``.  ``path`` is a prefix of the normalised path, or a
  compiled regex (``re.search``).  ``delay`` makes the server wait that many seconds
  first (to test client timeouts); with ``status=None`` the request is then served
  normally.  A 429 without explicit ``headers`` gets ``Retry-After: 1``.
* ``fake.requests``: every request received, as ``Req(method, path, query, server)``
  with ``query`` a ``{name: value}`` dict (repeated parameters joined with ``,``) and
  ``server`` ``"spotify"`` or ``"reccobeats"``.
"""
from __future__ import annotations

import base64
import json
import random
import re
import socket
import string
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, quote, urlencode, urlsplit

__all__ = [
    "FakeSpotify",
    "Track",
    "Album",
    "Artist",
    "Playlist",
    "Req",
    "Rule",
    "LOCAL",
    "EPISODE",
    "spotipy_client",
    "BASE62",
    "ID_RE",
]

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ID_RE = re.compile(r"^[0-9A-Za-z]{22}$")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

#: markers for ``add_playlist(tracks=[...])`` rows
LOCAL = "local"
EPISODE = "episode"

FEATURE_KEYS = (
    "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
    "instrumentalness", "liveness", "valence", "tempo", "duration_ms", "time_signature",
)
RECCOBEATS_KEYS = (
    "acousticness", "danceability", "energy", "instrumentalness", "key", "liveness",
    "loudness", "mode", "speechiness", "tempo", "valence",
)
ALBUM_GROUP_ORDER = ("album", "single", "compilation", "appears_on")

_REASONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 429: "Too Many Requests", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}
_SPOTIFY_MESSAGES = {
    400: "Bad request", 401: "Invalid access token", 403: "Forbidden",
    404: "Resource not found", 405: "Method not allowed", 429: "API rate limit exceeded",
    500: "Server error", 502: "Bad gateway", 503: "Service unavailable",
    504: "Gateway timeout",
}

_ADJ = ("Midnight", "Golden", "Electric", "Quiet", "Broken", "Velvet", "Neon", "Silver",
        "Wild", "Lonely", "Crimson", "Endless", "Paper", "Summer", "Hollow", "Bright")
_NOUN = ("Echoes", "Rain", "Hearts", "Highway", "Dreams", "Fire", "Ocean", "Lights",
         "Shadows", "Garden", "Skyline", "River", "Mirrors", "Thunder", "Letters", "Bloom")
_FIRST = ("Luna", "Marco", "Ada", "Theo", "Nina", "Oscar", "Iris", "Felix", "Maya", "Jonas")
_LAST = ("Vale", "Rivers", "Stone", "Moreau", "Kline", "Okafor", "Lind", "Park", "Reyes")


class Req(NamedTuple):
    """One request received by the fake."""
    method: str
    path: str
    query: dict
    server: str


@dataclass(eq=False)
class Artist:
    id: str
    name: str
    genres: list = field(default_factory=list)
    popularity: int = 50
    followers: int = 1000

    @property
    def uri(self) -> str:
        return f"spotify:artist:{self.id}"


@dataclass(eq=False)
class Album:
    id: str
    name: str
    artists: list
    album_type: str = "album"  # album | single | compilation
    release_date: str = "2020-01-01"
    label: str = "Fake Records"
    popularity: int = 50
    upc: str = "000000000000"
    tracks: list = field(default_factory=list, repr=False)

    @property
    def uri(self) -> str:
        return f"spotify:album:{self.id}"

    @property
    def release_date_precision(self) -> str:
        return {4: "year", 7: "month"}.get(len(self.release_date), "day")


@dataclass(eq=False)
class Track:
    id: str
    name: str
    artists: list
    album: Album = field(repr=False)
    duration_ms: int
    features: dict
    has_features: bool = True
    in_reccobeats: bool = True
    reccobeats_id: str = ""
    reccobeats_features: dict = field(default_factory=dict, repr=False)
    popularity: int = 50
    explicit: bool = False
    isrc: str = "XX0000000000"
    disc_number: int = 1

    @property
    def uri(self) -> str:
        return f"spotify:track:{self.id}"

    @property
    def url(self) -> str:
        return f"https://open.spotify.com/track/{self.id}"

    @property
    def track_number(self) -> int:
        for n, t in enumerate(self.album.tracks, 1):
            if t is self:
                return n
        return 1


@dataclass(eq=False)
class Row:
    """One playlist row: ``kind`` is ``track``, ``null``, ``local`` or ``episode``."""
    kind: str
    track: Track | None = None
    added_at: str = "2024-01-01T00:00:00Z"
    local_name: str = ""
    episode_id: str = ""


@dataclass(eq=False)
class Playlist:
    id: str
    name: str
    rows: list = field(repr=False)
    owner_id: str = "fakeuser"
    owner_name: str = "Fake User"
    description: str = ""
    public: bool = True
    collaborative: bool = False
    accessible: bool = True
    snapshot_id: str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

    @property
    def uri(self) -> str:
        return f"spotify:playlist:{self.id}"

    @property
    def tracks(self) -> list:
        """The real tracks of the playlist, in order (null/local/episode rows left out)."""
        return [r.track for r in self.rows if r.kind == "track"]


class Rule:
    """A scripted answer (see ``FakeSpotify.script``)."""

    def __init__(self, method, path, status, headers, body, times, delay, server):
        self.method = (method or "*").upper()
        self.path = path
        self.status = status
        self.headers = headers
        self.body = body
        self.remaining = times  # None = unlimited
        self.delay = delay
        self.server = server
        self.hits = 0

    def matches(self, method: str, path: str, server: str) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method not in ("*", method):
            return False
        if self.server is not None and self.server != server:
            return False
        if isinstance(self.path, re.Pattern):
            return self.path.search(path) is not None
        return path.startswith(self.path)

    def __repr__(self):
        return (f"Rule({self.method} {self.path!r} status={self.status} "
                f"remaining={self.remaining} hits={self.hits} server={self.server})")


class _ApiError(Exception):
    def __init__(self, status: int, message: str | None = None, headers: dict | None = None):
        super().__init__(status, message)
        self.status = status
        self.message = message or _SPOTIFY_MESSAGES.get(status, "Error")
        self.headers = headers or {}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: FakeSpotify, kind: str):
        self.fake = fake
        self.kind = kind
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeSpotify/1.0"
    timeout = 60  # idle keep-alive connections
    disable_nagle_algorithm = True  # else Nagle + delayed ACK add ~40 ms per response

    def setup(self):
        super().setup()
        self.server.fake._track_conn(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.fake._track_conn(self.connection, False)

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            self.close_connection = True

    def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
        pass

    def _dispatch(self, method: str):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake: FakeSpotify = self.server.fake
        status, headers, payload = fake._handle(
            self.server.kind, method, self.path, self.headers, body)
        if isinstance(payload, (dict, list)):
            data = json.dumps(payload).encode()
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        elif isinstance(payload, str):
            data = payload.encode()
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        elif payload is None:
            data = b""
        else:
            data = bytes(payload)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")


class FakeSpotify:
    """Fake Spotify Web API + ReccoBeats on 127.0.0.1 (see the module docstring).

    Parameters:
        client_id, client_secret: credentials the token endpoint accepts.
        seed: seed of the deterministic catalog builder (ids, names, features).
        dev_mode: emulate a 2026 development-mode app (default) or an extended-quota one.
        batch_tracks: serve ``GET /v1/tracks?ids=`` (max 50); default ``not dev_mode``.
        legacy_playlist_tracks: serve ``GET /v1/playlists/{id}/tracks``; default ``not dev_mode``.
        artist_albums_max_limit: default 10 in dev mode, else 50.
        audio_features_forbidden: 403 on ``/v1/audio-features`` (settable later too).
        token_expires_in: ``expires_in`` of issued tokens (seconds).
    """

    def __init__(
        self,
        client_id: str = "fake-client-id",
        client_secret: str = "fake-client-secret",
        *,
        seed: int = 0,
        dev_mode: bool = True,
        batch_tracks: bool | None = None,
        legacy_playlist_tracks: bool | None = None,
        artist_albums_max_limit: int | None = None,
        audio_features_forbidden: bool = False,
        token_expires_in: int = 3600,
    ):
        self.client_id = client_id
        self.client_secret = client_secret
        self.dev_mode = dev_mode
        self.batch_tracks = (not dev_mode) if batch_tracks is None else batch_tracks
        self.legacy_playlist_tracks = (
            (not dev_mode) if legacy_playlist_tracks is None else legacy_playlist_tracks)
        self.artist_albums_max_limit = artist_albums_max_limit or (10 if dev_mode else 50)
        self.audio_features_forbidden = audio_features_forbidden
        self.invalid_ids: set[str] = set()
        self.token_expires_in = token_expires_in

        self.tracks: dict[str, Track] = {}
        self.albums: dict[str, Album] = {}
        self.artists: dict[str, Artist] = {}
        self.playlists: dict[str, Playlist] = {}
        self._by_reccobeats_id: dict[str, Track] = {}

        self._rng = random.Random(seed)
        self._used_ids: set[str] = set()
        self._n = 0
        self._lock = threading.Lock()
        self._log: list[Req] = []
        self._rules: list[Rule] = []
        self._valid_tokens: set[str] = set()
        self._expired_tokens: set[str] = set()
        self.tokens_issued = 0
        #: tracebacks of unexpected exceptions inside the fake (should stay empty)
        self.server_errors: list[str] = []
        self._stopping = threading.Event()
        self._servers: dict[str, _Server] = {}
        self._threads: list[threading.Thread] = []
        self._conns: set = set()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeSpotify:
        if self._servers:
            return self
        self._stopping.clear()
        for kind in ("spotify", "reccobeats"):
            srv = _Server(self, kind)
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02},
                                 name=f"fake-{kind}", daemon=True)
            t.start()
            self._servers[kind] = srv
            self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes scripted hangs
        stoppers = [threading.Thread(target=srv.shutdown) for srv in self._servers.values()]
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for srv in self._servers.values():
            srv.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    close = stop

    def __enter__(self) -> FakeSpotify:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _track_conn(self, conn, add: bool) -> None:
        with self._lock:
            (self._conns.add if add else self._conns.discard)(conn)

    # ------------------------------------------------------------------ URLs
    def _origin(self, kind: str) -> str:
        if kind not in self._servers:
            raise RuntimeError("FakeSpotify is not started (use start() or a with block)")
        return f"http://127.0.0.1:{self._servers[kind].server_address[1]}"

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:PORT/v1/`` (trailing slash, as ``spotipy.Spotify.prefix`` needs)."""
        return self._origin("spotify") + "/v1/"

    @property
    def token_url(self) -> str:
        return self._origin("spotify") + "/api/token"

    @property
    def reccobeats_url(self) -> str:
        return self._origin("reccobeats") + "/v1/"

    def env(self) -> dict[str, str]:
        """The contract's environment variables pointing at this fake."""
        return {
            "SPOTIPY_CLIENT_ID": self.client_id,
            "SPOTIPY_CLIENT_SECRET": self.client_secret,
            "MOODCAST_SPOTIFY_API_URL": self.api_url,
            "MOODCAST_SPOTIFY_TOKEN_URL": self.token_url,
            "MOODCAST_RECCOBEATS_API_URL": self.reccobeats_url,
        }

    # ------------------------------------------------------------------ control
    def expire_tokens(self) -> None:
        """Revoke every issued token: the next API call answers 401 "The access token expired"."""
        with self._lock:
            self._expired_tokens |= self._valid_tokens
            self._valid_tokens.clear()

    def script(self, method: str | None, path, *, status: int | None = None,
               headers: dict | None = None, body: Any = None, times: int | None = 1,
               delay: float = 0.0, server: str | None = None) -> Rule:
        """Script the next matching request(s).

        ``method``: ``"GET"`` etc., or ``None``/``"*"`` for any.  ``path``: prefix of the
        normalised path (``/v1/audio-features`` matches batch and single) or a compiled
        regex.  ``status``: the status to answer (body Spotify-shaped unless ``body``
        is given: a dict/list → JSON, a str → text, bytes → raw); ``None`` serves the
        request normally (after ``delay``).  ``times``: how many requests it applies to
        (``None``: all).  ``server``: ``"spotify"``, ``"reccobeats"`` or ``None`` (both).
        Rules are tried in the order they were added.
        """
        if status is None and not delay:
            raise ValueError("script() needs a status or a delay")
        if server not in (None, "spotify", "reccobeats"):
            raise ValueError(f"unknown server {server!r}")
        if headers is None:
            headers = {"Retry-After": "1"} if status == 429 else {}
        rule = Rule(method, path, status, dict(headers), body, times, delay, server)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear_scripts(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def requests(self) -> list[Req]:
        """A copy of the request log."""
        with self._lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()

    def calls(self, method: str | None = None, path=None, server: str | None = None) -> list[Req]:
        """Logged requests filtered by method, path (prefix or compiled regex) and server."""
        out = []
        for r in self.requests:
            if method and r.method != method.upper():
                continue
            if server and r.server != server:
                continue
            if path is not None:
                if isinstance(path, re.Pattern):
                    if not path.search(r.path):
                        continue
                elif not r.path.startswith(path):
                    continue
            out.append(r)
        return out

    def count(self, method: str | None = None, path=None, server: str | None = None) -> int:
        return len(self.calls(method, path, server))

    # ------------------------------------------------------------------ catalog builder
    def new_id(self) -> str:
        """A fresh, deterministic 22-character base-62 id."""
        while True:
            i = "".join(self._rng.choice(BASE62) for _ in range(22))
            if i not in self._used_ids:
                self._used_ids.add(i)
                return i

    def _claim_id(self, i: str | None) -> str:
        if i is None:
            return self.new_id()
        if not ID_RE.match(i):
            raise ValueError(f"not a 22-character base-62 id: {i!r}")
        self._used_ids.add(i)
        return i

    def _title(self) -> str:
        self._n += 1
        return f"{self._rng.choice(_ADJ)} {self._rng.choice(_NOUN)}"

    def _date(self) -> str:
        r = self._rng
        return f"{r.randint(1965, 2025):04d}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"

    def random_features(self, duration_ms: int | None = None) -> dict:
        """Plausible Spotify audio features (rounded like Spotify's)."""
        r = self._rng
        energy = round(min(1.0, max(0.0, r.betavariate(2.2, 1.8))), 3)
        acoustic = round(min(1.0, max(0.0, (1 - energy) * r.uniform(0.3, 1.1))), 4)
        return {
            "danceability": round(r.uniform(0.15, 0.95), 3),
            "energy": energy,
            "key": r.randint(0, 11),
            "loudness": round(max(-60.0, min(0.0, -22 + 19 * energy + r.gauss(0, 2.5))), 3),
            "mode": r.randint(0, 1),
            "speechiness": round(0.02 + r.random() ** 3 * 0.45, 4),
            "acousticness": acoustic,
            "instrumentalness": round(r.random() ** 4, 6),
            "liveness": round(0.03 + r.random() ** 2 * 0.6, 4),
            "valence": round(r.uniform(0.03, 0.97), 3),
            "tempo": round(r.uniform(60.0, 190.0), 3),
            "duration_ms": duration_ms if duration_ms is not None else r.randint(95_000, 420_000),
            "time_signature": r.choice((4, 4, 4, 4, 4, 3, 3, 5)),
        }

    def add_artist(self, name: str | None = None, *, id: str | None = None,  # noqa: A002
                   genres: list | None = None, albums: int = 0, tracks_per_album: int = 3,
                   album_types: tuple = ("album", "single"), popularity: int | None = None) -> Artist:
        """Create an artist, optionally with ``albums`` albums (types cycle through ``album_types``)."""
        a = Artist(
            id=self._claim_id(id),
            name=name or f"{self._rng.choice(_FIRST)} {self._rng.choice(_LAST)}",
            genres=list(genres or [self._rng.choice(("pop", "indie", "rock", "ambient", "soul"))]),
            popularity=popularity if popularity is not None else self._rng.randint(5, 95),
            followers=self._rng.randint(10, 5_000_000),
        )
        self.artists[a.id] = a
        for i in range(albums):
            self.add_album(artists=[a], album_type=album_types[i % len(album_types)],
                           tracks=tracks_per_album)
        return a

    def _artist(self, a) -> Artist:
        if isinstance(a, Artist):
            self.artists.setdefault(a.id, a)
            return a
        for existing in self.artists.values():
            if existing.name == a:
                return existing
        return self.add_artist(a)

    def add_album(self, name: str | None = None, *, artists: list | None = None,
                  tracks: int | list = 0, album_type: str = "album",
                  release_date: str | None = None, id: str | None = None,  # noqa: A002
                  label: str | None = None, popularity: int | None = None) -> Album:
        """Create an album; ``tracks`` is a number of new tracks or a list of ``add_track`` kwargs."""
        if album_type not in ("album", "single", "compilation"):
            raise ValueError(album_type)
        arts = [self._artist(a) for a in artists] if artists else [self.add_artist()]
        al = Album(
            id=self._claim_id(id), name=name or self._title(), artists=arts,
            album_type=album_type, release_date=release_date or self._date(),
            label=label or f"{self._rng.choice(_NOUN)} Records",
            popularity=popularity if popularity is not None else self._rng.randint(0, 90),
            upc=f"{self._rng.randrange(10**12):012d}",
        )
        self.albums[al.id] = al
        specs = [{}] * tracks if isinstance(tracks, int) else list(tracks)
        for spec in specs:
            self.add_track(album=al, **spec)
        return al

    def add_track(self, name: str | None = None, *, artists: list | None = None,
                  album: Album | None = None, id: str | None = None,  # noqa: A002
                  duration_ms: int | None = None, features: dict | None = None,
                  has_features: bool = True, in_reccobeats: bool = True,
                  reccobeats_features: dict | None = None, popularity: int | None = None,
                  explicit: bool = False, **feature_overrides) -> Track:
        """Create a track.

        ``artists``: names (found or created) or ``Artist`` objects; default the album's.
        ``album``: default a new single named after the track.  Audio features are random
        but plausible; override any with ``features={...}`` or keywords (``energy=0.9``).
        ``has_features=False``: null in Spotify audio-features, absent from ReccoBeats.
        ``in_reccobeats=False``: absent from ReccoBeats only.  ``reccobeats_features``:
        values ReccoBeats reports instead of Spotify's.
        """
        bad = set(feature_overrides) - set(FEATURE_KEYS)
        if bad:
            raise TypeError(f"unknown track/feature arguments: {sorted(bad)}")
        tid = self._claim_id(id)
        name = name or self._title()
        if artists:
            arts = [self._artist(a) for a in artists]
        elif album is not None:
            arts = list(album.artists)
        else:
            arts = [self.add_artist()]
        feats = self.random_features(duration_ms)
        feats.update(features or {})
        feats.update(feature_overrides)
        if album is None:
            album = Album(id=self.new_id(), name=name, artists=arts, album_type="single",
                          release_date=self._date(), label="Fake Records",
                          popularity=self._rng.randint(0, 90),
                          upc=f"{self._rng.randrange(10**12):012d}")
            self.albums[album.id] = album
        t = Track(
            id=tid, name=name, artists=arts, album=album, duration_ms=feats["duration_ms"],
            features=feats, has_features=has_features, in_reccobeats=in_reccobeats,
            reccobeats_id=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
            reccobeats_features=dict(reccobeats_features or {}),
            popularity=popularity if popularity is not None else self._rng.randint(0, 100),
            explicit=explicit,
            isrc=f"QZ{self._rng.choice(('FK', 'ES', 'GB'))}{self._rng.randrange(10**8):08d}",
        )
        album.tracks.append(t)
        self.tracks[t.id] = t
        self._by_reccobeats_id[t.reccobeats_id] = t
        return t

    def add_playlist(self, name: str | None = None, *, tracks: int | list = 0,
                     null_rows: int = 0, local_rows: int = 0, episode_rows: int = 0,
                     id: str | None = None, owner: str = "fakeuser",  # noqa: A002
                     description: str = "", accessible: bool = True) -> Playlist:
        """Create a playlist.

        ``tracks``: a number of new tracks, or a list whose entries are ``Track`` objects,
        ``None`` (a null-track row), ``LOCAL`` or ``EPISODE``.  ``null_rows``,
        ``local_rows``, ``episode_rows`` add such rows spread evenly among the tracks.
        ``accessible=False``: ``/items`` answers 403 (a playlist the user does not own).
        """
        entries = ([self.add_track() for _ in range(tracks)] if isinstance(tracks, int)
                   else list(tracks))
        extras = [None] * null_rows + [LOCAL] * local_rows + [EPISODE] * episode_rows
        for k, e in enumerate(extras):
            pos = (k + 1) * (len(entries) + 1) // (len(extras) + 1)
            entries.insert(min(pos, len(entries)), e)
        rows = []
        for i, e in enumerate(entries):
            added = f"2024-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}T12:00:00Z"
            if e is None:
                rows.append(Row("null", added_at=added))
            elif e == LOCAL:
                rows.append(Row("local", added_at=added, local_name=f"{self._title()} (demo)"))
            elif e == EPISODE:
                rows.append(Row("episode", added_at=added, episode_id=self.new_id()))
            elif isinstance(e, Track):
                self.tracks.setdefault(e.id, e)
                rows.append(Row("track", track=e, added_at=added))
            else:
                raise TypeError(f"bad playlist entry {e!r}")
        p = Playlist(id=self._claim_id(id), name=name or f"{self._title()} Mix", rows=rows,
                     owner_id=owner, owner_name=owner.title(), description=description,
                     accessible=accessible,
                     snapshot_id="".join(self._rng.choice(BASE62) for _ in range(32)))
        self.playlists[p.id] = p
        return p

    # ------------------------------------------------------------------ request handling
    def _handle(self, kind, method, raw_path, headers, body):
        split = urlsplit(raw_path)
        path = split.path.rstrip("/") or "/"
        query = {k: ",".join(v) for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        with self._lock:
            self._log.append(Req(method, path, query, kind))
            rule = next((r for r in self._rules if r.matches(method, path, kind)), None)
            if rule is not None:
                rule.hits += 1
                if rule.remaining is not None:
                    rule.remaining -= 1
        try:
            if rule is not None:
                if rule.delay:
                    self._stopping.wait(rule.delay)
                if rule.status is not None:
                    payload = rule.body
                    if payload is None and rule.status >= 400:
                        payload = self._error_body(kind, path, rule.status, None)
                    return rule.status, dict(rule.headers), payload
            if kind == "reccobeats":
                return self._reccobeats(method, path, query)
            if path == "/api/token":
                return self._token(method, headers, body)
            if path == "/v1" or path.startswith("/v1/"):
                self._check_auth(headers)
                if method != "GET":
                    raise _ApiError(405)
                return 200, {}, self._api(path, query)
            raise _ApiError(404, "Service not found")
        except _ApiError as e:
            return e.status, dict(e.headers), self._error_body(kind, path, e.status, e.message)
        except Exception:  # a bug in the fake: answer 500 and keep the traceback
            import traceback
            self.server_errors.append(traceback.format_exc())
            return 500, {}, self._error_body(kind, path, 500, "fake server error")

    def _error_body(self, kind, path, status, message):
        if kind == "reccobeats":
            return {"status": status, "error": _REASONS.get(status, "Error"),
                    "message": message or _REASONS.get(status, "Error")}
        if path == "/api/token":
            return {"error": "server_error" if status >= 500 else "invalid_request",
                    "error_description": message or _REASONS.get(status, "Error")}
        return {"error": {"status": status,
                          "message": message or _SPOTIFY_MESSAGES.get(status, "Error")}}

    def _token(self, method, headers, body):
        def oauth_error(status, error, desc):
            return status, {}, {"error": error, "error_description": desc}
        if method != "POST":
            return oauth_error(405, "invalid_request", "Method not allowed")
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        auth = headers.get("Authorization", "")
        cid = secret = None
        if auth.startswith("Basic "):
            try:
                cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                cid = None
        else:  # credentials may also come in the body
            cid, secret = form.get("client_id"), form.get("client_secret")
        if form.get("grant_type") is None:
            return oauth_error(400, "unsupported_grant_type", "grant_type parameter is missing")
        if form["grant_type"] != "client_credentials":
            return oauth_error(400, "unsupported_grant_type",
                               "grant_type parameter is invalid")
        if cid != self.client_id or secret != self.client_secret:
            return oauth_error(401, "invalid_client", "Invalid client")
        token = "BQ" + "".join(random.SystemRandom().choice(BASE62) for _ in range(80))
        with self._lock:
            self._valid_tokens.add(token)
            self.tokens_issued += 1
        return 200, {}, {"access_token": token, "token_type": "Bearer",
                         "expires_in": self.token_expires_in}

    def _check_auth(self, headers):
        auth = headers.get("Authorization") or ""
        if not auth:
            raise _ApiError(401, "No token provided")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        with self._lock:
            if token in self._valid_tokens:
                return
            expired = token in self._expired_tokens
        msg = "The access token expired" if expired else "Invalid access token"
        raise _ApiError(401, msg, {
            "WWW-Authenticate":
                f'Bearer realm="spotify", error="invalid_token", error_description="{msg}"'})

    # ------------------------------------------------------------------ Spotify routes
    def _api(self, path, q):
        parts = path.split("/")[2:]  # after "", "v1"
        n = len(parts)
        head = parts[0] if parts else ""
        if head == "tracks":
            if n == 1:
                return self._batch_tracks(q)
            if n == 2:
                return self._full_track(self._get(self.tracks, parts[1]))
        elif head == "audio-features":
            if self.audio_features_forbidden:
                raise _ApiError(403, "Forbidden")
            if n == 1:
                ids = self._ids(q, 100)
                out = []
                for i in ids:
                    t = self.tracks.get(i)
                    out.append(self._features(t) if t is not None and t.has_features else None)
                return {"audio_features": out}
            if n == 2:
                t = self._get(self.tracks, parts[1])
                if not t.has_features:
                    raise _ApiError(404, "analysis not found")
                return self._features(t)
        elif head == "playlists" and n >= 2:
            p = self._get(self.playlists, parts[1])
            if n == 2:
                return self._playlist(p)
            if n == 3 and parts[2] in ("items", "tracks"):
                legacy = parts[2] == "tracks"
                if legacy and not self.legacy_playlist_tracks:
                    raise _ApiError(403, "Forbidden")
                if not p.accessible:
                    raise _ApiError(403, "Forbidden")
                return self._playlist_page(p, path, q, legacy)
        elif head == "albums" and n >= 2:
            al = self._get(self.albums, parts[1])
            if n == 2:
                return self._full_album(al)
            if n == 3 and parts[2] == "tracks":
                return self._page(al.tracks, path, q, 50, 20, render=self._simple_track)
        elif head == "artists" and n >= 2:
            a = self._get(self.artists, parts[1])
            if n == 2:
                return self._full_artist(a)
            if n == 3 and parts[2] == "albums":
                return self._artist_albums(a, path, q)
        raise _ApiError(404, "Service not found")

    def _get(self, table, i):
        if not ID_RE.match(i):
            raise _ApiError(400, "invalid id")
        if i in self.invalid_ids:
            raise _ApiError(400, "invalid base62 id")
        try:
            return table[i]
        except KeyError:
            raise _ApiError(404, "Resource not found") from None

    def _ids(self, q, maximum):
        raw = q.get("ids")
        if not raw:
            raise _ApiError(400, "Missing required parameter: ids")
        ids = raw.split(",")
        if len(ids) > maximum:
            raise _ApiError(400, "Too many ids requested")
        if not all(ID_RE.match(i) for i in ids):
            raise _ApiError(400, "invalid id")
        if any(i in self.invalid_ids for i in ids):
            raise _ApiError(400, "invalid base62 id")
        return ids

    def _batch_tracks(self, q):
        if not self.batch_tracks:
            raise _ApiError(403, "Forbidden")
        ids = self._ids(q, 50)
        return {"tracks": [self._full_track(self.tracks[i]) if i in self.tracks else None
                           for i in ids]}

    @staticmethod
    def _int_param(q, name, default, lo, hi):
        v = q.get(name)
        if v is None or v == "":
            return default
        try:
            n = int(v)
        except ValueError:
            raise _ApiError(400, f"Invalid {name}") from None
        if n < lo or (hi is not None and n > hi):
            raise _ApiError(400, f"Invalid {name}")
        return n

    def _page(self, items, path, q, max_limit, default_limit, render=None):
        """A paging object over ``items``; ``render`` serialises only the page's slice."""
        limit = self._int_param(q, "limit", min(default_limit, max_limit), 1, max_limit)
        offset = self._int_param(q, "offset", 0, 0, None)
        total = len(items)
        chunk = items[offset:offset + limit]
        base = self._origin("spotify") + path
        extra = {k: v for k, v in q.items() if k not in ("limit", "offset")}

        def url(off):
            return base + "?" + urlencode({"offset": off, "limit": limit, **extra}, safe=",")

        return {
            "href": url(offset),
            "items": [render(x) for x in chunk] if render else chunk,
            "limit": limit,
            "next": url(offset + limit) if offset + limit < total else None,
            "offset": offset,
            "previous": url(max(0, offset - limit)) if offset > 0 else None,
            "total": total,
        }

    def _playlist_page(self, p, path, q, legacy):
        types = set((q.get("additional_types") or "track").split(","))
        episodes = "episode" in types
        return self._page(p.rows, path, q, 100 if legacy else 50, 100 if legacy else 20,
                          render=lambda r: self._row(r, episodes))

    def _artist_albums(self, a, path, q):
        groups = [g for g in (q.get("include_groups") or "").split(",") if g]
        if any(g not in ALBUM_GROUP_ORDER for g in groups):
            raise _ApiError(400, "Invalid include_groups")
        rows = []
        for al in self.albums.values():
            if a in al.artists:
                group = al.album_type
            elif any(a in t.artists for t in al.tracks):
                group = "appears_on"
            else:
                continue
            if groups and group not in groups:
                continue
            rows.append((group, al))
        rows.sort(key=lambda ga: (ALBUM_GROUP_ORDER.index(ga[0]), _neg_date(ga[1].release_date),
                                  ga[1].name))
        return self._page(rows, path, q, self.artist_albums_max_limit,
                          min(20, self.artist_albums_max_limit),
                          render=lambda ga: {**self._simple_album(ga[1]), "album_group": ga[0]})

    # ------------------------------------------------------------------ serialisers
    def _href(self, kind, i):
        return f"{self.api_url}{kind}s/{i}"

    @staticmethod
    def _ext(kind, i):
        return {"spotify": f"https://open.spotify.com/{kind}/{i}"}

    def _images(self, i):
        return [{"url": f"https://i.scdn.co/image/ab67616d0000b273{i[:16].lower()}",
                 "height": h, "width": h} for h in (640, 300, 64)]

    def _simple_artist(self, a: Artist):
        return {"external_urls": self._ext("artist", a.id), "href": self._href("artist", a.id),
                "id": a.id, "name": a.name, "type": "artist", "uri": a.uri}

    def _full_artist(self, a: Artist):
        d = {**self._simple_artist(a), "genres": list(a.genres), "images": self._images(a.id)}
        if not self.dev_mode:
            d["followers"] = {"href": None, "total": a.followers}
            d["popularity"] = a.popularity
        return d

    def _simple_album(self, al: Album):
        d = {
            "album_type": al.album_type, "total_tracks": len(al.tracks),
            "external_urls": self._ext("album", al.id), "href": self._href("album", al.id),
            "id": al.id, "images": self._images(al.id), "name": al.name,
            "release_date": al.release_date, "release_date_precision": al.release_date_precision,
            "type": "album", "uri": al.uri,
            "artists": [self._simple_artist(a) for a in al.artists],
        }
        if not self.dev_mode:
            d["available_markets"] = ["DE", "FR", "GB", "SE", "US"]
        return d

    def _full_album(self, al: Album):
        d = self._simple_album(al)
        d.update({
            "tracks": self._page(al.tracks, f"/v1/albums/{al.id}/tracks", {"limit": "50"},
                                 50, 50, render=self._simple_track),
            "copyrights": [{"text": f"(C) {al.release_date[:4]} {al.label}", "type": "C"}],
            "external_ids": {"upc": al.upc},
            "genres": [],
            "label": al.label,
        })
        if not self.dev_mode:
            d["popularity"] = al.popularity
        return d

    def _simple_track(self, t: Track):
        d = {
            "artists": [self._simple_artist(a) for a in t.artists],
            "disc_number": t.disc_number, "duration_ms": t.duration_ms, "explicit": t.explicit,
            "external_urls": self._ext("track", t.id), "href": self._href("track", t.id),
            "id": t.id, "is_local": False, "name": t.name, "preview_url": None,
            "track_number": t.track_number, "type": "track", "uri": t.uri,
        }
        if not self.dev_mode:
            d["available_markets"] = ["DE", "FR", "GB", "SE", "US"]
        return d

    def _full_track(self, t: Track):
        d = self._simple_track(t)
        d["album"] = self._simple_album(t.album)
        d["external_ids"] = {"isrc": t.isrc}
        if not self.dev_mode:
            d["popularity"] = t.popularity
        return d

    def _features(self, t: Track):
        f = t.features
        return {
            **{k: f[k] for k in FEATURE_KEYS},
            "type": "audio_features", "id": t.id, "uri": t.uri,
            "track_href": self._href("track", t.id),
            "analysis_url": f"{self.api_url}audio-analysis/{t.id}",
        }

    def _user(self, uid, name=None):
        d = {"external_urls": {"spotify": f"https://open.spotify.com/user/{uid}"},
             "href": f"{self.api_url}users/{uid}", "id": uid, "type": "user",
             "uri": f"spotify:user:{uid}"}
        if name is not None:
            d["display_name"] = name
        return d

    def _local_track(self, name):
        artist, album, dur = "Local Artist", "Local Album", 201000
        uri = "spotify:local:{}:{}:{}:{}".format(
            quote(artist, safe="").replace("%20", "+"), quote(album, safe="").replace("%20", "+"),
            quote(name, safe="").replace("%20", "+"), dur // 1000)
        return {
            "album": {"album_type": None, "artists": [], "available_markets": [],
                      "external_urls": {}, "href": None, "id": None, "images": [],
                      "name": album, "release_date": None, "release_date_precision": None,
                      "type": "album", "uri": None},
            "artists": [{"external_urls": {}, "href": None, "id": None, "name": artist,
                         "type": "artist", "uri": None}],
            "available_markets": [], "disc_number": 0, "duration_ms": dur, "explicit": False,
            "external_ids": {}, "external_urls": {}, "href": None, "id": None, "is_local": True,
            "name": name, "popularity": 0, "preview_url": None, "track_number": 0,
            "type": "track", "uri": uri,
        }

    def _episode(self, eid, as_episode):
        show = eid[::-1]
        d = {
            "id": eid, "name": f"Episode {eid[:4]}", "duration_ms": 1_800_000,
            "uri": f"spotify:episode:{eid}", "href": f"{self.api_url}episodes/{eid}",
            "external_urls": self._ext("episode", eid), "explicit": False,
            "release_date": "2024-05-01", "release_date_precision": "day",
            "episode": True, "track": False, "is_local": False,
            "show": {"id": show, "name": "Fake Podcast", "type": "show",
                     "uri": f"spotify:show:{show}"},
        }
        # ASSUMPTION: without additional_types=episode, Spotify returns episodes in a
        # track-like shape (type "track", episode: true); clients must check the uri.
        d["type"] = "episode" if as_episode else "track"
        if not as_episode:
            d["album"] = {"name": "Fake Podcast", "id": show, "type": "show", "artists": []}
            d["artists"] = [{"name": "Fake Podcast", "id": show, "type": "show"}]
        return d

    def _row(self, r: Row, episodes: bool):
        if r.kind == "track":
            obj = self._full_track(r.track)
        elif r.kind == "local":
            obj = self._local_track(r.local_name)
        elif r.kind == "episode":
            obj = self._episode(r.episode_id, episodes)
        else:
            obj = None
        return {"added_at": r.added_at, "added_by": self._user("fakeuser"),
                "is_local": r.kind == "local", "primary_color": None,
                "video_thumbnail": {"url": None}, "item": obj, "track": obj}

    def _playlist(self, p: Playlist):
        key = "items" if self.dev_mode else "tracks"
        limit = 50 if self.dev_mode else 100
        page = self._page(p.rows, f"/v1/playlists/{p.id}/{key}", {"limit": str(limit)},
                          limit, limit, render=lambda r: self._row(r, False))
        d = {
            "collaborative": p.collaborative, "description": p.description,
            "external_urls": self._ext("playlist", p.id), "href": self._href("playlist", p.id),
            "id": p.id, "images": self._images(p.id), "name": p.name,
            "owner": self._user(p.owner_id, p.owner_name), "primary_color": None,
            "public": p.public, "snapshot_id": p.snapshot_id, "type": "playlist", "uri": p.uri,
            key: page,
        }
        if not self.dev_mode:
            d["followers"] = {"href": None, "total": 42}
        return d

    # ------------------------------------------------------------------ ReccoBeats
    def _reccobeats(self, method, path, q):
        if path != "/v1/audio-features":
            raise _ApiError(404, "Not found")
        if method != "GET":
            raise _ApiError(405, "Method not allowed")
        ids = [i.strip() for i in (q.get("ids") or "").split(",") if i.strip()]
        if not ids:
            raise _ApiError(400, "ids is required")
        if len(ids) > 40:
            raise _ApiError(400, "Maximum 40 ids are allowed")
        content, seen = [], set()
        for i in ids:
            if ID_RE.match(i):
                t = self.tracks.get(i)
            elif UUID_RE.match(i):
                t = self._by_reccobeats_id.get(i.lower())
            else:
                t = None
            if t is None or not t.has_features or not t.in_reccobeats or t.id in seen:
                continue
            seen.add(t.id)
            vals = {k: t.features[k] for k in RECCOBEATS_KEYS}
            vals.update({k: v for k, v in t.reccobeats_features.items() if k in RECCOBEATS_KEYS})
            content.append({"id": t.reccobeats_id, "href": t.url, **vals})
        return 200, {}, {"content": content}


def _neg_date(d: str):
    # sort key for "newest first" on ISO dates of any precision
    return tuple(-int(x) for x in d.split("-"))


def spotipy_client(fake: FakeSpotify, *, requests_timeout: float = 5, **kwargs):
    """A real ``spotipy.Spotify`` built the way production should build it, aimed at ``fake``.

    Own ``requests.Session`` objects (no urllib3 Retry adapter: a 429 surfaces at once with
    its ``Retry-After``), ``MemoryCacheHandler`` (no ``.cache`` file), timeouts on both the
    token and the API requests.
    """
    import requests
    import spotipy
    from spotipy.cache_handler import MemoryCacheHandler
    from spotipy.oauth2 import SpotifyClientCredentials

    auth = SpotifyClientCredentials(
        client_id=fake.client_id, client_secret=fake.client_secret,
        cache_handler=MemoryCacheHandler(), requests_session=requests.Session(),
        requests_timeout=requests_timeout)
    auth.OAUTH_TOKEN_URL = fake.token_url  # class attribute, shadowed per instance
    sp = spotipy.Spotify(
        auth_manager=auth, requests_session=requests.Session(), retries=0,
        status_retries=0, requests_timeout=requests_timeout, **kwargs)
    sp.prefix = fake.api_url
    return sp
