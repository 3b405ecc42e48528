"""`python -m ingest spotify` as cron runs it: a subprocess against the fake, killed, resumed, built by dbt."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl

from moodcast import settings
from moodcast.errors import EXIT_BAD_INPUT, EXIT_UNAVAILABLE
from tests.conftest import run_command, run_ok


def steps_saved(home: Path) -> int:
    return len(list((home / "checkpoints" / "spotify").glob("*/*/*.tracks.parquet")))


def test_killed_mid_run_the_same_command_continues_and_lands_every_track_once(fake, home):
    source = fake.add_playlist(tracks=300)
    items = f"/v1/playlists/{source.id}/items"
    fake.script("GET", items, delay=0.3, times=None)  # slow pages: the kill lands mid-run
    command = [sys.executable, "-m", "ingest", "spotify", "--playlist", source.uri, "--mood", "Happy"]
    environment = os.environ | {settings.HOME_VARIABLE: str(home)}
    running = subprocess.Popen(command, env=environment, cwd=settings.REPO_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while steps_saved(home) < 2 and time.monotonic() < deadline and running.poll() is None:
        time.sleep(0.05)
    running.send_signal(signal.SIGKILL)
    running.wait()
    assert not (home / "landing" / "spotify" / f"playlist-{source.id}.parquet").exists()

    fake.clear_scripts()
    result = run_ok(*command[2:], home=home)

    assert "continued an interrupted run" in result.stdout
    landed = pl.read_parquet(home / "landing" / "spotify" / "*.parquet")
    assert landed["track_id"].to_list() == [track.id for track in source.tracks]
    assert [r.query.get("offset") for r in fake.calls("GET", items)].count("0") == 1


def test_labelled_playlists_flow_through_dbt_into_training_examples(fake, home, tmp_path):
    fake.audio_features_forbidden = True
    calm = fake.add_playlist(tracks=4, null_rows=1)
    sad = fake.add_playlist(tracks=[fake.add_track(), fake.add_track(has_features=False)])
    labels = tmp_path / "moods.toml"
    labels.write_text(f'Calm = ["{calm.uri}"]\nSad = ["https://open.spotify.com/playlist/{sad.id}?si=x"]\n')

    ingested = run_ok("ingest", "spotify", "--labels", str(labels), home=home)
    run_ok("moodcast.build", home=home)

    assert ingested.stderr.count("no access to that endpoint") == 1
    assert "audio features from: reccobeats 5" in ingested.stdout
    with duckdb.connect(str(home / "moods.duckdb"), read_only=True) as connection:
        examples = dict(connection.execute("select track_id, mood from training_examples").fetchall())
        features = {row[0] for row in connection.execute("select track_id from track_features").fetchall()}
        rejects = connection.execute("select source_name, reason from ingest_rejects").fetchall()
    assert examples == {**{track.id: "Calm" for track in calm.tracks}, sad.tracks[0].id: "Sad"}
    assert features == set(examples)  # the track without features is landed, but not a catalog row
    assert rejects == [(calm.uri, "the playlist row has no track (removed from Spotify, or unavailable)")]


def test_a_long_rate_limit_exits_69_saying_when_to_retry(fake, home):
    source = fake.add_playlist(tracks=2)
    fake.script("GET", f"/v1/playlists/{source.id}/items", status=429, headers={"Retry-After": "3600"})
    result = run_command("ingest", "spotify", "--playlist", source.id, home=home)
    assert result.returncode == EXIT_UNAVAILABLE
    assert "Run it again after" in result.stderr and "the same command continues from there" in result.stderr


def test_missing_credentials_exit_2_naming_the_variable(fake, home, tmp_path, monkeypatch):
    monkeypatch.delenv("SPOTIPY_CLIENT_ID")
    result = run_command("ingest", "spotify", "--track", fake.add_track().id, home=home, cwd=tmp_path)
    assert result.returncode == EXIT_BAD_INPUT
    assert result.stderr.startswith("error: SPOTIPY_CLIENT_ID is not set")


def test_a_playlist_that_cannot_be_landed_exits_2_after_landing_the_rest(fake, home):
    fine = fake.add_playlist(tracks=2)
    result = run_command("ingest", "spotify", "--playlist", fake.new_id(), "--playlist", fine.id, home=home)
    assert result.returncode == EXIT_BAD_INPUT
    assert "failed: Spotify has no playlist" in result.stdout
    assert (home / "landing" / "spotify" / f"playlist-{fine.id}.parquet").exists()


def test_a_server_error_that_echoes_the_secret_is_printed_and_logged_scrubbed(fake, home):
    echoed = f"client secret {fake.client_secret} is not valid; sent Bearer BQsecretToken123"
    fake.script("POST", "/api/token", status=400, body={"error": "invalid_client", "error_description": echoed},
                times=None)
    fake.script("GET", "/v1/", status=500, body=echoed, times=None)

    result = run_command("ingest", "spotify", "--track", fake.add_track().id, home=home)

    assert result.returncode == EXIT_BAD_INPUT
    assert "client secret *** is not valid; sent Bearer ***" in result.stderr
    assert fake.client_secret not in result.stdout + result.stderr
    assert "BQsecretToken123" not in result.stdout + result.stderr


def test_a_playlist_failure_that_echoes_the_secret_is_summarised_scrubbed(fake, home):
    source = fake.add_playlist(tracks=2)
    fake.script("GET", f"/v1/playlists/{source.id}", status=404, times=None,
                body={"error": {"status": 404, "message": f"no playlist for secret {fake.client_secret}"}})

    result = run_command("ingest", "spotify", "--playlist", source.id, home=home)

    assert result.returncode == EXIT_BAD_INPUT
    assert "failed:" in result.stdout and "***" in result.stdout
    assert fake.client_secret not in result.stdout + result.stderr
