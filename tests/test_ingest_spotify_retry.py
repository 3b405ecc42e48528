"""The retry policy, with the real spotipy client against the loopback fake Spotify and ReccoBeats."""

import re
from datetime import UTC, datetime

import pytest

from ingest.spotify.client import Credentials, SpotifyCatalog, spotify_client
from ingest.spotify.features import ReccoBeats
from ingest.spotify.retry import Rejected, RetryPolicy, Unavailable
from moodcast.errors import EXIT_UNAVAILABLE, BadInputError, ServiceUnavailableError
from tests.conftest import serving
from tests.fake_spotify import FakeSpotify

SINGLE_TRACK = re.compile(r"^/v1/tracks/[0-9A-Za-z]{22}$")


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def policy(sleeps: list[float]) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps.append, now=lambda: datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


def catalog_for(fake: FakeSpotify, policy: RetryPolicy, **client_options) -> SpotifyCatalog:
    return SpotifyCatalog(spotify_client(Credentials(fake.client_id, fake.client_secret), **client_options), policy)


def test_a_429_within_the_cap_is_waited_out_for_its_retry_after(fake, policy, sleeps):
    track = fake.add_track()
    fake.script("GET", SINGLE_TRACK, status=429, headers={"Retry-After": "7"})
    found, _ = catalog_for(fake, policy).tracks([track.id])
    assert found[track.id]["name"] == track.name
    assert sleeps == [7.0]


def test_a_429_beyond_the_cap_stops_and_says_when_to_retry(fake, policy, sleeps):
    track = fake.add_track()
    fake.script("GET", SINGLE_TRACK, status=429, headers={"Retry-After": "3600"})
    with pytest.raises(ServiceUnavailableError, match=r"wait 3600 s .* Run it again after 2026-03-01T13:00") as error:
        catalog_for(fake, policy).tracks([track.id])
    assert error.value.exit_code == EXIT_UNAVAILABLE
    assert sleeps == []


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_back_off_exponentially_with_jitter(fake, policy, sleeps, status):
    track = fake.add_track()
    fake.script("GET", SINGLE_TRACK, status=status, times=3)
    found, _ = catalog_for(fake, policy).tracks([track.id])
    assert track.id in found
    assert [0.5 <= sleeps[0] <= 1, 1 <= sleeps[1] <= 2, 2 <= sleeps[2] <= 4] == [True, True, True]


def test_a_server_that_keeps_failing_is_given_up_after_a_bounded_number_of_attempts(fake, policy, sleeps):
    track = fake.add_track()
    fake.script("GET", SINGLE_TRACK, status=503, times=None)
    with pytest.raises(ServiceUnavailableError, match="503 Service unavailable, 6 times in a row"):
        catalog_for(fake, policy).tracks([track.id])
    assert len(sleeps) == 5 and fake.count("GET", "/v1/tracks/") == 6


def test_a_timeout_is_retried(fake, policy, sleeps):
    track = fake.add_track()
    fake.script("GET", SINGLE_TRACK, delay=2)
    found, _ = catalog_for(fake, policy, timeout_s=0.2).tracks([track.id])
    assert track.id in found and len(sleeps) == 1


def test_an_expired_token_is_renewed_once(fake, policy, sleeps):
    track = fake.add_track()
    catalog = catalog_for(fake, policy)
    catalog.tracks([track.id])
    fake.expire_tokens()
    found, _ = catalog.tracks([track.id])
    assert track.id in found and fake.tokens_issued == 2 and sleeps == []


def test_a_token_refused_again_after_renewal_is_a_credentials_problem(fake, policy):
    track = fake.add_track()
    fake.script("GET", SINGLE_TRACK, status=401, times=2)
    with pytest.raises(BadInputError, match="freshly issued access token"):
        catalog_for(fake, policy).tracks([track.id])
    assert fake.tokens_issued == 2


def test_wrong_credentials_are_reported_without_the_secret(fake, policy):
    catalog = SpotifyCatalog(spotify_client(Credentials(fake.client_id, "not-the-secret")), policy)
    with pytest.raises(BadInputError, match="refused the app's credentials") as error:
        catalog.album(fake.add_album().id)
    assert "not-the-secret" not in str(error.value)


def test_403_means_unavailable_and_is_asked_once(fake, policy):
    fake.audio_features_forbidden = True
    with pytest.raises(Unavailable):
        catalog_for(fake, policy).audio_features([fake.add_track().id])
    assert fake.count("GET", "/v1/audio-features") == 1


def test_an_unknown_track_is_a_reject_not_an_error(fake, policy):
    track, unknown = fake.add_track(), fake.new_id()
    found, refused = catalog_for(fake, policy).tracks([track.id, unknown])
    assert list(found) == [track.id]
    assert refused == {unknown: "404 Resource not found"}


def test_a_batch_spotify_refuses_is_split_until_the_bad_id_is_alone(monkeypatch):
    with serving(monkeypatch, dev_mode=False) as fake:
        tracks = [fake.add_track().id for _ in range(8)]
        fake.invalid_ids.add(tracks[5])
        catalog = catalog_for(fake, RetryPolicy(sleep=pytest.fail))
        found, refused = catalog.tracks(tracks)
    assert sorted(found) == sorted(tracks[:5] + tracks[6:])
    assert refused == {tracks[5]: "400 invalid base62 id"}
    assert fake.count("GET", "/v1/tracks") == 1 + 2 + 2 + 2  # 8 → 4+4 → 2+2 → 1+1


def test_without_the_batch_endpoint_tracks_are_fetched_one_by_one(fake, policy):
    tracks = [fake.add_track().id for _ in range(3)]
    catalog = catalog_for(fake, policy)
    assert sorted(catalog.tracks(tracks)[0]) == sorted(tracks)
    assert catalog.batch_tracks_available is False
    paths = [request.path for request in fake.calls("GET", "/v1/tracks")]
    assert paths == ["/v1/tracks", *(f"/v1/tracks/{track_id}" for track_id in tracks)]


def test_a_playlist_falls_back_to_the_legacy_tracks_path_when_items_is_refused(monkeypatch, policy):
    with serving(monkeypatch, legacy_playlist_tracks=True) as fake:
        playlist = fake.add_playlist(tracks=3)
        fake.script("GET", f"/v1/playlists/{playlist.id}/items", status=404)
        page = catalog_for(fake, policy).playlist_page(playlist.id, None)
    assert [row["track"]["id"] for row in page["items"]] == [track.id for track in playlist.tracks]


def test_reccobeats_429_is_waited_out_too(fake, policy, sleeps):
    track = fake.add_track()
    fake.script("GET", "/v1/audio-features", status=429, headers={"Retry-After": "5"}, server="reccobeats")
    features = ReccoBeats(policy).audio_features([track.id])
    assert features[track.id]["energy"] == track.features["energy"]
    assert sleeps == [5.0]


def test_a_reccobeats_batch_it_refuses_is_a_rejected_request(fake, policy):
    fake.script("GET", "/v1/audio-features", status=400, server="reccobeats")
    with pytest.raises(Rejected):
        ReccoBeats(policy).audio_features([fake.add_track().id])
