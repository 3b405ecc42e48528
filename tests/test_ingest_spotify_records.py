"""The pure parts of the Spotify ingest: API answers → landing values, batch splitting, backoff."""

import random

import pytest

from ingest.spotify.features import track_features
from ingest.spotify.records import playlist_row_problem, track_metadata
from ingest.spotify.retry import Failure, Rejected, RetryPolicy, fetch_splitting

SPOTIFY_ANSWER = {
    "danceability": 0.514, "energy": 0.73, "loudness": -5.934, "speechiness": 0.0598, "acousticness": 0.00146,
    "instrumentalness": 0.0000954, "liveness": 0.0897, "valence": 0.334, "tempo": 171.005, "duration_ms": 200040,
}
RECCOBEATS_ANSWER = {name: value for name, value in SPOTIFY_ANSWER.items() if name != "duration_ms"}


def test_complete_features_keep_the_providers_duration():
    features = track_features(SPOTIFY_ANSWER, "spotify", duration_ms=1)
    assert (features.status, features.values["length"], features.values["tempo"]) == ("complete", 200040, 171.005)


def test_without_a_duration_length_comes_from_the_track_metadata():
    assert track_features(RECCOBEATS_ANSWER, "reccobeats", duration_ms=200040).values["length"] == 200040


def test_no_answer_is_missing_and_a_partial_one_incomplete():
    assert track_features(None, "spotify", 1000).status == "missing"
    partial = track_features({**RECCOBEATS_ANSWER, "valence": None}, "reccobeats", 1000)
    assert (partial.status, partial.values["valence"], partial.values["energy"]) == ("incomplete", None, 0.73)


def test_a_tempo_of_zero_is_valid_but_values_out_of_range_are_not_landed():
    assert track_features({**SPOTIFY_ANSWER, "tempo": 0}, "spotify", None).status == "complete"
    invalid = track_features({**SPOTIFY_ANSWER, "energy": 1.7, "tempo": "fast"}, "spotify", None)
    assert invalid.status == "invalid" and set(invalid.values.values()) == {None}
    assert invalid.problem == "energy is out of range (0 ≤ value ≤ 1): 1.7; tempo is not a number: 'fast'"


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"item": None, "track": None}, "the playlist row has no track"),
        ({"is_local": True, "item": {"id": None, "uri": "spotify:local:a:b:c:1"}}, "a local file"),
        ({"item": {"type": "episode", "id": "x", "uri": "spotify:episode:x"}}, "a podcast episode"),
        ({"track": {"type": "track", "id": "abc", "uri": "spotify:track:abc"}}, None),  # before 2026: no `item`
    ],
)
def test_a_playlist_row_says_why_it_holds_no_track(row, problem):
    found = playlist_row_problem(row)
    assert found == problem if problem is None else found.startswith(problem)


def test_a_simplified_album_track_takes_its_album_from_the_album():
    track = {"id": "t", "name": "Blue", "artists": [{"name": "Joni"}, {"name": "Guest"}], "duration_ms": 1}
    album = {"id": "a", "name": "Blue", "release_date": "1971-06-22"}
    assert track_metadata(track, album) == {
        "track_id": "t", "track_name": "Blue", "artist_name": "Joni, Guest", "album_id": "a",
        "album_name": "Blue", "release_date": "1971-06-22", "duration_ms": 1,
    }


def test_splitting_a_refused_batch_finds_every_bad_id_and_keeps_the_rest():
    bad = {"c", "f"}
    asked = []

    def server(ids: list[str]) -> dict[str, str | None]:
        asked.append(ids)
        if bad & set(ids):
            raise Rejected("a batch", Failure(400, "invalid base62 id"))
        return {track_id: track_id.upper() for track_id in ids}

    found, refused = fetch_splitting(server, list("abcdefgh"))
    assert found == {track_id: track_id.upper() for track_id in "abdegh"}
    assert refused == {"c": "400 invalid base62 id", "f": "400 invalid base62 id"}
    assert len(asked) == 11  # 8 → 4+4 → 2+2+2+2 → 1+1 twice


def test_backoff_doubles_up_to_its_cap_with_jitter_in_the_upper_half():
    policy = RetryPolicy(jitter=random.Random(1), first_backoff_s=1, max_backoff_s=8)
    waits = [policy.backoff(attempt) for attempt in range(1, 7)]
    caps = [1, 2, 4, 8, 8, 8]
    assert all(cap / 2 <= wait <= cap for wait, cap in zip(waits, caps, strict=True))
