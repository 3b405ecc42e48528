"""The loopback fake Spotify / ReccoBeats server, exercised with the REAL spotipy client."""
from __future__ import annotations

import re
import time
import uuid

import pytest
import requests
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.exceptions import SpotifyException, SpotifyOauthError
from spotipy.oauth2 import SpotifyClientCredentials

from tests.fake_spotify import EPISODE, LOCAL, FakeSpotify, Req, spotipy_client

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def fake():
    with FakeSpotify() as f:
        yield f
    assert f.server_errors == []


@pytest.fixture
def sp(fake, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return spotipy_client(fake)


def _token(fake: FakeSpotify) -> str:
    r = requests.post(fake.token_url, data={"grant_type": "client_credentials"},
                      auth=(fake.client_id, fake.client_secret), timeout=5)
    r.raise_for_status()
    return r.json()["access_token"]


# --------------------------------------------------------------------------- basics
def test_urls_and_env(fake):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1/", fake.api_url)
    assert fake.token_url == fake.api_url[:-4] + "/api/token"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1/", fake.reccobeats_url)
    assert fake.reccobeats_url != fake.api_url
    env = fake.env()
    assert env["MOODCAST_SPOTIFY_API_URL"] == fake.api_url
    assert env["SPOTIPY_CLIENT_SECRET"] == fake.client_secret


def test_token_flow_and_cache(fake, sp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    token = sp.auth_manager.get_access_token(as_dict=False)
    assert token.startswith("BQ") and len(token) > 40
    assert fake.calls("POST", "/api/token") == [Req("POST", "/api/token", {}, "spotify")]
    # the MemoryCacheHandler keeps the token: a second API call fetches no new one
    t = fake.add_track()
    sp.track(t.id)
    sp.track(t.id)
    assert fake.tokens_issued == 1
    assert list(tmp_path.iterdir()) == []  # no .cache file


def test_token_bad_credentials(fake):
    auth = SpotifyClientCredentials("fake-client-id", "wrong", cache_handler=MemoryCacheHandler(),
                                    requests_session=requests.Session())
    auth.OAUTH_TOKEN_URL = fake.token_url
    with pytest.raises(SpotifyOauthError) as ei:
        auth.get_access_token(as_dict=False)
    assert ei.value.error == "invalid_client"
    r = requests.post(fake.token_url, data={"grant_type": "client_credentials"},
                      auth=("x", "y"), timeout=5)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = requests.post(fake.token_url, data={}, auth=(fake.client_id, fake.client_secret),
                      timeout=5)
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


def test_api_requires_bearer_token(fake):
    t = fake.add_track()
    r = requests.get(fake.api_url + f"tracks/{t.id}", timeout=5)
    assert r.status_code == 401
    assert r.json() == {"error": {"status": 401, "message": "No token provided"}}
    r = requests.get(fake.api_url + f"tracks/{t.id}", headers={"Authorization": "Bearer nope"},
                     timeout=5)
    assert r.status_code == 401 and r.json()["error"]["message"] == "Invalid access token"


# --------------------------------------------------------------------------- tracks
def test_track(fake, sp):
    t = fake.add_track("Hello", artists=["Adele"], duration_ms=295_000)
    got = sp.track(t.id)
    assert got["id"] == t.id and got["name"] == "Hello"
    assert got["artists"][0]["name"] == "Adele" and got["artists"][0]["id"] == t.artists[0].id
    assert got["album"]["id"] == t.album.id and got["album"]["release_date"] == t.album.release_date
    assert got["duration_ms"] == 295_000 == t.features["duration_ms"]
    assert got["uri"] == f"spotify:track:{t.id}"
    assert got["external_urls"]["spotify"] == f"https://open.spotify.com/track/{t.id}"
    assert got["type"] == "track" and got["is_local"] is False
    assert "popularity" not in got  # dev mode 2026: removed field
    # URI and URL forms go to the same path
    assert sp.track(t.uri)["id"] == t.id
    assert sp.track(f"https://open.spotify.com/intl-de/track/{t.id}?si=abc")["id"] == t.id
    assert fake.count("GET", f"/v1/tracks/{t.id}") == 3


def test_track_errors(fake, sp):
    with pytest.raises(SpotifyException) as ei:
        sp.track("abc123")  # base-62 but not 22 characters: spotipy sends it
    assert ei.value.http_status == 400 and "invalid id" in ei.value.msg
    with pytest.raises(SpotifyException) as ei:
        sp.track(fake.new_id())
    assert ei.value.http_status == 404


def test_batch_tracks_removed_in_dev_mode(fake, sp):
    a, b = fake.add_track(), fake.add_track()
    with pytest.raises(SpotifyException) as ei:
        sp.tracks([a.id, b.id])
    assert ei.value.http_status == 403
    assert fake.calls("GET", "/v1/tracks")[-1] == Req(
        "GET", "/v1/tracks", {"ids": f"{a.id},{b.id}"}, "spotify")


def test_batch_tracks_when_served():
    with FakeSpotify(batch_tracks=True) as fake:
        sp = spotipy_client(fake)
        a, b = fake.add_track(), fake.add_track()
        missing = fake.new_id()
        got = sp.tracks([a.id, missing, b.uri])["tracks"]
        assert [g and g["id"] for g in got] == [a.id, None, b.id]
        with pytest.raises(SpotifyException) as ei:
            sp.tracks([a.id] * 51)
        assert ei.value.http_status == 400


def test_extended_mode_fields():
    with FakeSpotify(dev_mode=False) as fake:
        sp = spotipy_client(fake)
        t = fake.add_track(popularity=77)
        assert sp.track(t.id)["popularity"] == 77
        p = fake.add_playlist(tracks=3)
        assert sp.playlist(p.id)["tracks"]["total"] == 3
        page = sp._get(f"playlists/{p.id}/tracks")  # legacy path served in extended mode
        assert [r["track"]["id"] for r in page["items"]] == [x.id for x in p.tracks]


# --------------------------------------------------------------------------- audio features
def test_audio_features_positional_with_null(fake, sp):
    a = fake.add_track(energy=0.91, tempo=0.0)
    b = fake.add_track(has_features=False)
    c = fake.add_track()
    unknown = fake.new_id()
    feats = sp.audio_features([a.id, b.uri, unknown, c.id])
    assert len(feats) == 4 and feats[1] is None and feats[2] is None
    assert feats[0]["id"] == a.id and feats[0]["energy"] == 0.91 and feats[0]["tempo"] == 0.0
    assert feats[3]["id"] == c.id
    for f in (feats[0], feats[3]):
        for k in ("danceability", "acousticness", "energy", "instrumentalness", "liveness",
                  "valence", "speechiness"):
            assert 0.0 <= f[k] <= 1.0
        assert -60.0 <= f["loudness"] <= 0.0
        assert f["key"] in range(12) and f["mode"] in (0, 1) and f["time_signature"] in range(3, 8)
        assert f["type"] == "audio_features" and f["duration_ms"] > 0
    assert 50 <= feats[3]["tempo"] <= 200
    req = fake.calls("GET", "/v1/audio-features")[-1]
    assert req.query == {"ids": f"{a.id},{b.id},{unknown},{c.id}"}
    with pytest.raises(SpotifyException) as ei:
        sp.audio_features([a.id] * 101)
    assert ei.value.http_status == 400


def test_audio_features_single(fake):
    a, b = fake.add_track(), fake.add_track(has_features=False)
    h = {"Authorization": f"Bearer {_token(fake)}"}
    r = requests.get(fake.api_url + f"audio-features/{a.id}", headers=h, timeout=5)
    assert r.status_code == 200 and r.json()["valence"] == a.features["valence"]
    r = requests.get(fake.api_url + f"audio-features/{b.id}", headers=h, timeout=5)
    assert r.status_code == 404


def test_audio_features_forbidden(fake, sp):
    t = fake.add_track()
    fake.audio_features_forbidden = True
    with pytest.raises(SpotifyException) as ei:
        sp.audio_features([t.id])
    assert ei.value.http_status == 403
    r = requests.get(fake.api_url + f"audio-features/{t.id}",
                     headers={"Authorization": f"Bearer {_token(fake)}"}, timeout=5)
    assert r.status_code == 403
    assert r.json() == {"error": {"status": 403, "message": "Forbidden"}}
    assert fake.count("GET", "/v1/audio-features") == 2  # no retry by spotipy


# --------------------------------------------------------------------------- playlists
def test_playlist_items_pages(fake, sp):
    p = fake.add_playlist("Calm evening", tracks=118, null_rows=2, local_rows=1, episode_rows=1)
    assert len(p.rows) == 122
    meta = sp.playlist(p.id)
    assert meta["name"] == "Calm evening" and meta["owner"]["id"] == "fakeuser"
    assert meta["items"]["total"] == 122 and "tracks" not in meta

    page = sp.playlist_items(p.id, limit=50)
    rows = list(page["items"])
    nexts = []
    while page["next"]:
        assert page["next"].startswith(fake.api_url)  # absolute next URL
        nexts.append(page["next"])
        page = sp.next(page)
        rows.extend(page["items"])
    assert len(nexts) == 2 and "offset=100" in nexts[-1] and "limit=50" in nexts[-1]
    assert "additional_types=track,episode" in nexts[0]  # extra parameters kept
    assert page["previous"] is not None and page["total"] == 122 and page["offset"] == 100
    assert len(rows) == 122
    assert all(r["item"] is r["track"] or r["item"] == r["track"] for r in rows)
    assert sum(r["item"] is None for r in rows) == 2
    local = [r for r in rows if r["is_local"]]
    assert len(local) == 1 and local[0]["item"]["id"] is None
    assert local[0]["item"]["uri"].startswith("spotify:local:")
    episodes = [r for r in rows if r["item"] and r["item"]["type"] == "episode"]
    assert len(episodes) == 1 and episodes[0]["item"]["uri"].startswith("spotify:episode:")
    real = [r["item"]["id"] for r in rows
            if r["item"] and r["item"]["type"] == "track" and not r["is_local"]]
    assert real == [t.id for t in p.tracks]
    assert fake.count("GET", f"/v1/playlists/{p.id}/items") == 3


def test_playlist_limits_and_legacy_path(fake, sp):
    p = fake.add_playlist(tracks=3)
    with pytest.raises(SpotifyException) as ei:
        sp.playlist_items(p.id, limit=100)
    assert ei.value.http_status == 400
    with pytest.raises(SpotifyException) as ei:
        sp._get(f"playlists/{p.id}/tracks")
    assert ei.value.http_status == 403
    # spotipy 2.26's deprecated playlist_tracks() already calls /items
    with pytest.warns(DeprecationWarning):
        page = sp.playlist_tracks(p.id)
    assert page["total"] == 3
    assert fake.calls("GET", f"/v1/playlists/{p.id}")[-1].path.endswith("/items")


def test_playlist_not_owned_is_forbidden(fake, sp):
    p = fake.add_playlist(tracks=2, accessible=False)
    assert sp.playlist(p.id)["id"] == p.id
    with pytest.raises(SpotifyException) as ei:
        sp.playlist_items(p.id)
    assert ei.value.http_status == 403


def test_playlist_with_explicit_rows(fake, sp):
    a, b = fake.add_track(), fake.add_track()
    p = fake.add_playlist(tracks=[a, None, LOCAL, b, EPISODE])
    items = sp.playlist_items(p.id, additional_types=("track",))["items"]
    assert [r["item"] and r["item"]["id"] for r in items][:2] == [a.id, None]
    assert items[4]["item"]["type"] == "track" and items[4]["item"]["episode"] is True
    assert p.tracks == [a, b]


# --------------------------------------------------------------------------- albums, artists
def test_album_and_album_tracks_paging(fake, sp):
    al = fake.add_album("Blue", artists=["Joni"], tracks=23, release_date="1971-06-22")
    got = sp.album(al.id)
    assert got["name"] == "Blue" and got["total_tracks"] == 23
    assert got["tracks"]["total"] == 23 and len(got["tracks"]["items"]) == 23
    page = sp.album_tracks(al.id, limit=10)
    items = list(page["items"])
    while page["next"]:
        page = sp.next(page)
        items.extend(page["items"])
    assert [t["id"] for t in items] == [t.id for t in al.tracks]
    assert [t["track_number"] for t in items] == list(range(1, 24))
    assert all("album" not in t for t in items)
    assert fake.count("GET", f"/v1/albums/{al.id}/tracks") == 3
    with pytest.raises(SpotifyException) as ei:
        sp.album_tracks(al.id, limit=51)
    assert ei.value.http_status == 400


def test_artist_albums_paging(fake, sp):
    ar = fake.add_artist("Röyksopp", albums=23, tracks_per_album=1,
                         album_types=("album", "single", "compilation"))
    other = fake.add_album(artists=["Someone Else"], tracks=[{"artists": [ar]}])
    assert sp.artist(ar.id)["name"] == "Röyksopp"
    page = sp.artist_albums(ar.id, include_groups="album,single", limit=10)
    got = list(page["items"])
    while page["next"]:
        assert "include_groups=album,single" in page["next"]
        page = sp.next(page)
        got.extend(page["items"])
    assert len(got) == 16 and page["total"] == 16
    assert {g["album_group"] for g in got} == {"album", "single"}
    groups = [g["album_group"] for g in got]
    assert groups == sorted(groups, key=("album", "single").index)
    appears = sp.artist_albums(ar.id, include_groups="appears_on", limit=10)["items"]
    assert [a["id"] for a in appears] == [other.id]
    # dev mode: more than 10 per page is refused (spotipy's default limit is 20!)
    with pytest.raises(SpotifyException) as ei:
        sp.artist_albums(ar.id)
    assert ei.value.http_status == 400


# --------------------------------------------------------------------------- faults
def test_429_surfaces_with_retry_after_without_sleeping(fake, sp):
    t = fake.add_track()
    rule = fake.script("GET", "/v1/audio-features", status=429, headers={"Retry-After": "7"},
                       times=1, server="spotify")
    t0 = time.monotonic()
    with pytest.raises(SpotifyException) as ei:
        sp.audio_features([t.id])
    assert time.monotonic() - t0 < 1.0
    e = ei.value
    assert e.http_status == 429 and e.headers["Retry-After"] == "7"
    assert e.headers.get("retry-after") == "7"  # requests' case-insensitive dict
    assert "API rate limit exceeded" in e.msg
    assert fake.count("GET", "/v1/audio-features") == 1 and rule.hits == 1
    assert sp.audio_features([t.id])[0]["id"] == t.id  # the rule was used up


def test_default_spotipy_session_hides_retry_after(fake):
    """The pitfall: spotipy's own session (urllib3 Retry) turns a 429 into 'Max Retries'."""
    t = fake.add_track()
    sp = spotipy_client(fake)
    sp.retries = sp.status_retries = 0
    sp._build_session()  # what requests_session=True does
    fake.script("GET", "/v1/tracks/", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(SpotifyException) as ei:
        sp.track(t.id)
    assert ei.value.http_status == 429 and "Max Retries" in ei.value.msg
    assert ei.value.headers == {}
    # ... and reports a 503 as "429 Max Retries" too
    fake.script("GET", "/v1/tracks/", status=503)
    with pytest.raises(SpotifyException) as ei:
        sp.track(t.id)
    assert ei.value.http_status == 429 and "Max Retries" in ei.value.msg
    assert fake.count("GET", "/v1/tracks/") == 2


def test_token_endpoint_faults(fake):
    t = fake.add_track()
    fake.script("POST", "/api/token", status=429, headers={"Retry-After": "4"})
    sp = spotipy_client(fake)
    with pytest.raises(SpotifyOauthError) as ei:
        sp.track(t.id)
    # spotipy keeps neither status nor headers; the HTTPError is the implicit context
    resp = ei.value.__context__.response
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "4"
    fake.script("POST", "/api/token", delay=30)
    sp = spotipy_client(fake, requests_timeout=0.2)
    with pytest.raises(requests.exceptions.ReadTimeout):
        sp.track(t.id)
    assert fake.count("GET") == 0


@pytest.mark.parametrize("status", [400, 403, 404, 500, 503])
def test_scripted_statuses(fake, sp, status):
    t = fake.add_track()
    fake.script("GET", re.compile(r"^/v1/tracks/[0-9A-Za-z]{22}$"), status=status, times=2)
    for _ in range(2):
        with pytest.raises(SpotifyException) as ei:
            sp.track(t.id)
        assert ei.value.http_status == status
        assert ei.value.msg.startswith(f"{fake.api_url}tracks/{t.id}:")
    assert sp.track(t.id)["id"] == t.id
    assert fake.count("GET", "/v1/tracks/") == 3  # no hidden retries


def test_script_matching(fake, sp):
    t = fake.add_track()
    fake.script("POST", "/v1/tracks", status=500, times=None)  # other method: no effect
    fake.script("GET", "/v1/audio-features", status=503, server="reccobeats")  # other server
    assert sp.track(t.id)["id"] == t.id
    assert sp.audio_features([t.id])[0] is not None
    r = requests.get(fake.reccobeats_url + "audio-features", params={"ids": t.id}, timeout=5)
    assert r.status_code == 503
    fake.script(None, "/v1/", status=502, body="<html>bad gateway</html>")
    with pytest.raises(SpotifyException) as ei:
        sp.track(t.id)
    assert ei.value.http_status == 502 and "<html>bad gateway</html>" in ei.value.msg


def test_expired_token_gives_401_and_spotipy_does_not_refresh(fake, sp):
    t = fake.add_track()
    assert sp.track(t.id)["id"] == t.id
    fake.expire_tokens()
    with pytest.raises(SpotifyException) as ei:
        sp.track(t.id)
    assert ei.value.http_status == 401 and "The access token expired" in ei.value.msg
    assert "invalid_token" in ei.value.headers["WWW-Authenticate"]
    with pytest.raises(SpotifyException):
        sp.track(t.id)  # spotipy keeps using the cached token
    assert fake.tokens_issued == 1
    # the caller must force a new token
    sp.auth_manager.get_access_token(as_dict=False, check_cache=False)
    assert sp.track(t.id)["id"] == t.id
    assert fake.tokens_issued == 2


def test_hang_makes_client_time_out(fake):
    t = fake.add_track()
    sp = spotipy_client(fake, requests_timeout=0.3)
    fake.script("GET", "/v1/tracks/", delay=30)
    t0 = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):  # not wrapped by spotipy
        sp.track(t.id)
    assert time.monotonic() - t0 < 2
    assert sp.track(t.id)["id"] == t.id  # delay rule used up


def test_delay_then_serve(fake, sp):
    t = fake.add_track()
    fake.script("GET", "/v1/tracks/", delay=0.2)
    t0 = time.monotonic()
    assert sp.track(t.id)["id"] == t.id
    assert time.monotonic() - t0 >= 0.2


# --------------------------------------------------------------------------- ReccoBeats
def test_reccobeats(fake):
    a = fake.add_track(energy=0.42)
    b = fake.add_track(in_reccobeats=False)
    c = fake.add_track(has_features=False)
    d = fake.add_track(reccobeats_features={"valence": 0.123})
    unknown = fake.new_id()
    r = requests.get(fake.reccobeats_url + "audio-features",
                     params={"ids": ",".join([a.id, b.id, c.id, unknown, d.id])}, timeout=5)
    assert r.status_code == 200
    content = r.json()["content"]
    assert [x["href"] for x in content] == [a.url, d.url]
    x = content[0]
    assert uuid.UUID(x["id"]).version == 4 and x["id"] == a.reccobeats_id
    assert x["energy"] == 0.42 and x["tempo"] == a.features["tempo"]
    assert "duration_ms" not in x and "time_signature" not in x
    assert content[1]["valence"] == 0.123
    assert fake.calls(server="reccobeats")[-1] == Req(
        "GET", "/v1/audio-features", {"ids": f"{a.id},{b.id},{c.id},{unknown},{d.id}"},
        "reccobeats")
    # repeated parameter form and ReccoBeats ids
    r = requests.get(fake.reccobeats_url + "audio-features",
                     params=[("ids", a.reccobeats_id), ("ids", d.id)], timeout=5)
    assert [x["href"] for x in r.json()["content"]] == [a.url, d.url]
    # more than 40 ids
    ids = [fake.add_track().id for _ in range(41)]
    r = requests.get(fake.reccobeats_url + "audio-features", params={"ids": ",".join(ids)},
                     timeout=5)
    assert r.status_code == 400
    r = requests.get(fake.reccobeats_url + "audio-features",
                     params={"ids": ",".join(ids[:40])}, timeout=5)
    assert len(r.json()["content"]) == 40


def test_reccobeats_429(fake):
    t = fake.add_track()
    fake.script("GET", "/v1/audio-features", status=429, headers={"Retry-After": "5"},
                server="reccobeats")
    r = requests.get(fake.reccobeats_url + "audio-features", params={"ids": t.id}, timeout=5)
    assert r.status_code == 429 and r.headers["Retry-After"] == "5"
    r = requests.get(fake.reccobeats_url + "audio-features", params={"ids": t.id}, timeout=5)
    assert r.status_code == 200 and len(r.json()["content"]) == 1


# --------------------------------------------------------------------------- catalog builder
def test_catalog_is_deterministic_and_ids_valid():
    def build():
        f = FakeSpotify(seed=7)
        ts = [f.add_track() for _ in range(5)]
        ar = f.add_artist(albums=2)
        p = f.add_playlist(tracks=4, null_rows=1)
        return f, ts, ar, p

    f1, ts1, ar1, p1 = build()
    f2, ts2, ar2, p2 = build()
    assert [t.id for t in ts1] == [t.id for t in ts2]
    assert [t.features for t in ts1] == [t.features for t in ts2]
    assert [t.name for t in ts1] == [t.name for t in ts2]
    assert ar1.id == ar2.id and p1.id == p2.id
    assert all(re.fullmatch(r"[0-9A-Za-z]{22}", i) for i in
               list(f1.tracks) + list(f1.albums) + list(f1.artists) + list(f1.playlists))
    assert FakeSpotify(seed=8).add_track().id != ts1[0].id
    with pytest.raises(TypeError):
        f1.add_track(energyy=0.3)
    with pytest.raises(ValueError):
        f1.add_track(id="short")


def test_request_log_shape(fake, sp):
    t = fake.add_track()
    sp.track(t.id)
    method, path, query, server = fake.requests[-1]
    assert (method, path, query, server) == ("GET", f"/v1/tracks/{t.id}", {}, "spotify")
    fake.clear_requests()
    assert fake.requests == []
