"""`python -m ingest spotify`, run in-process with the real spotipy client against the loopback fake."""

import base64
import logging
import re
from pathlib import Path

import polars as pl
import pytest

from ingest.spotify.command import SpotifyIngest, Summary, ingest_spotify
from ingest.spotify.references import LineReject, Reference
from ingest.spotify.retry import RetryPolicy
from moodcast.errors import BadInputError, ServiceUnavailableError
from moodcast.progress import Progress


def ingest(*references: Reference, features: str = "auto", line_rejects: tuple[LineReject, ...] = ()) -> Summary:
    policy = RetryPolicy(sleep=lambda seconds: None)
    request = SpotifyIngest(list(references), list(line_rejects), features)
    return ingest_spotify(request, policy, Progress(log_steps=True))


def landed(home: Path, source: str = "spotify") -> pl.DataFrame:
    return pl.read_parquet(home / "landing" / source / "*.parquet")


def playlist(fake_playlist, mood: str | None = None) -> Reference:
    return Reference("playlist", fake_playlist.id, mood)


def test_a_playlist_lands_every_row_across_pages(fake, home):
    source = fake.add_playlist("Calm evening", tracks=118, null_rows=1, local_rows=1, episode_rows=1)
    summary = ingest(playlist(source, "Calm"))
    tracks, rejects = landed(home), landed(home, "spotify_rejects")
    assert tracks["track_id"].to_list() == [track.id for track in source.tracks]
    assert set(tracks["mood"]) == {"Calm"} and set(tracks["collection_name"]) == {"Calm evening"}
    assert sorted(tracks["collection_position"].to_list() + rejects["source_row"].to_list()) == list(range(1, 122))
    assert set(rejects["reason"]) == {
        "the playlist row has no track (removed from Spotify, or unavailable)",
        "a local file, not a Spotify track",
        "a podcast episode, not a track",
    }
    pages = fake.calls("GET", f"/v1/playlists/{source.id}/items")
    assert [request.query.get("offset", "0") for request in pages] == ["0", "50", "100"]
    assert (summary.tracks, summary.rejected, summary.by_provider) == (118, 3, {"spotify": 118})


def test_an_album_and_the_albums_of_an_artist_land_with_their_lineage(fake, home):
    album = fake.add_album("Blue", tracks=3, release_date="1971-06-22")
    artist = fake.add_artist("Röyksopp", albums=12, tracks_per_album=2)
    ingest(Reference("album", album.id), Reference("artist", artist.id, "Energetic"))
    tracks = landed(home)
    blue = tracks.filter(pl.col("collection_id") == album.id)
    assert blue.select("album_name", "release_date", "requested_as").unique().rows() == [
        ("Blue", "1971-06-22", f"spotify:album:{album.id}")]
    by_artist = tracks.filter(pl.col("requested_as") == artist.uri)
    assert by_artist.height == 24 and set(by_artist["mood"]) == {"Energetic"}
    assert set(by_artist["artist_name"]) == {"Röyksopp"}
    assert fake.count("GET", f"/v1/artists/{artist.id}/albums") == 2  # 10 per page in development mode


def test_a_track_without_features_lands_marked_missing(fake, home):
    without = fake.add_track(has_features=False)
    summary = ingest(Reference("track", without.id), Reference("track", fake.add_track().id))
    row = landed(home).filter(pl.col("track_id") == without.id).row(0, named=True)
    assert (row["features_status"], row["features_provider"], row["energy"]) == ("missing", None, None)
    assert row["duration_ms"] == without.duration_ms
    assert summary.without_features == 1


def test_auto_says_once_that_spotify_refuses_audio_features_and_uses_reccobeats(fake, home, caplog):
    fake.audio_features_forbidden = True
    source = fake.add_playlist(tracks=120)
    with caplog.at_level(logging.WARNING):
        summary = ingest(playlist(source))
    tracks = landed(home)
    assert summary.by_provider == {"reccobeats": 120}
    assert tracks["length"].to_list() == [track.duration_ms for track in source.tracks]  # ReccoBeats has no duration
    assert fake.count("GET", "/v1/audio-features", server="spotify") == 1
    assert len([r for r in caplog.records if "no access to that endpoint" in r.getMessage()]) == 1


def test_spotify_features_refused_stop_the_run_saying_what_to_do(fake):
    fake.audio_features_forbidden = True
    with pytest.raises(BadInputError, match="no access to that endpoint.*--features reccobeats"):
        ingest(playlist(fake.add_playlist(tracks=2)), features="spotify")


def test_reccobeats_features_never_ask_spotify(fake, home):
    summary = ingest(playlist(fake.add_playlist(tracks=3)), features="reccobeats")
    assert summary.by_provider == {"reccobeats": 3}
    assert fake.count("GET", "/v1/audio-features", server="spotify") == 0


def test_unknown_and_invalid_track_ids_are_rejected_and_the_rest_lands(fake, home):
    good, unknown, invalid = fake.add_track(), fake.new_id(), fake.new_id()
    fake.invalid_ids.add(invalid)
    ingest(*(Reference("track", track_id) for track_id in (good.id, unknown, invalid)))
    assert landed(home)["track_id"].to_list() == [good.id]
    reasons = dict(landed(home, "spotify_rejects").select("track_reference", "reason").iter_rows())
    assert reasons == {
        f"spotify:track:{unknown}": f"Spotify has no track {unknown} (404 Resource not found)",
        f"spotify:track:{invalid}": f"Spotify has no track {invalid} (400 invalid base62 id)",
    }


def test_a_playlist_spotify_refuses_is_reported_and_the_others_land(fake, home):
    refused, missing, fine = fake.add_playlist(tracks=2, accessible=False), fake.new_id(), fake.add_playlist(tracks=2)
    summary = ingest(playlist(refused), Reference("playlist", missing), playlist(fine))
    assert landed(home)["collection_id"].unique().to_list() == [fine.id]
    assert len(summary.failures) == 2
    assert "only playlists its user owns or collaborates on" in summary.failures[0]
    assert summary.failures[1].startswith(f"Spotify has no playlist {missing} (404")


def test_the_same_playlist_with_two_moods_is_refused_before_fetching(fake):
    source = fake.add_playlist(tracks=1)
    with pytest.raises(BadInputError, match="named with two moods: Calm .* and Sad"):
        ingest(playlist(source, "Calm"), playlist(source, "Sad"))
    assert fake.count("GET", "/v1/playlists") == 0


def test_repeating_a_finished_ingest_replaces_instead_of_adding(fake, home):
    source = fake.add_playlist(tracks=60)
    ingest(playlist(source, "Happy"))
    first = landed(home)
    ingest(playlist(source, "Happy"))
    again = landed(home)
    assert again.height == first.height == 60
    assert again["ingested_at"].min() > first["ingested_at"].max()


def test_a_rate_limited_run_stops_and_the_same_command_continues(fake, home):
    source = fake.add_playlist(tracks=150)
    items = f"/v1/playlists/{source.id}/items"
    fake.script("GET", items, delay=0.01)  # the first page is served …
    fake.script("GET", items, status=429, headers={"Retry-After": "7200"})  # … the second is refused for 2 hours
    with pytest.raises(ServiceUnavailableError, match=r"wait 7200 s .* the same command continues from there"):
        ingest(playlist(source))
    assert not (home / "landing" / "spotify" / f"playlist-{source.id}.parquet").exists()
    summary = ingest(playlist(source))
    assert summary.resumed
    assert landed(home)["track_id"].to_list() == [track.id for track in source.tracks]
    assert [request.query.get("offset", "0") for request in fake.calls("GET", items)] == ["0", "50", "50", "100"]
    assert not any((home / "checkpoints" / "spotify").iterdir())


def test_a_bad_line_of_a_reference_file_lands_as_a_reject(fake, home):
    line = LineReject("refs.txt", 3, "no such thing", "'no such thing' is not a Spotify reference")
    summary = ingest(Reference("track", fake.add_track().id), line_rejects=(line,))
    reject = landed(home, "spotify_rejects").row(0, named=True)
    assert (reject["source_name"], reject["source_row"], reject["track_reference"]) == ("refs.txt", 3, "no such thing")
    assert summary.rejected == 1 and summary.failures == []


def test_a_missing_credential_is_named(fake, monkeypatch):
    monkeypatch.delenv("SPOTIPY_CLIENT_SECRET")
    with pytest.raises(BadInputError, match="SPOTIPY_CLIENT_SECRET is not set"):
        ingest(Reference("track", fake.add_track().id))


def test_the_secret_is_written_nowhere_and_no_token_cache_file_appears(fake, home, tmp_path, caplog):
    source = fake.add_playlist(tracks=3, null_rows=1)
    with caplog.at_level(logging.DEBUG):
        ingest(playlist(source, "Sad"), Reference("track", fake.new_id()))
    secrets = [fake.client_secret, base64.b64encode(f"{fake.client_id}:{fake.client_secret}".encode()).decode()]
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert written and not [path for path in written for secret in secrets if secret.encode() in path.read_bytes()]
    assert not [secret for secret in secrets if secret in caplog.text]
    assert not re.search(r"\.cache", " ".join(path.name for path in written))
