"""`python -m score track`: one track's mood with the current model, from the warehouse or fetched."""

import csv

import duckdb
import pytest

from ingest.spotify.retry import RetryPolicy
from moodcast import settings
from moodcast.contract import CLASSES
from moodcast.errors import BadInputError
from moodcast.model import registry
from score.track import score_track
from tests.conftest import SEED_CSV, run_ok

NO_WAITING = RetryPolicy(sleep=lambda seconds: None)


@pytest.fixture
def seed_track() -> dict:
    with SEED_CSV.open() as stream:
        return next(csv.DictReader(stream))


def probabilities(output: str) -> dict[str, float]:
    rows = [line.split() for line in output.splitlines()[1:5]]
    return {mood: float(probability) for mood, probability in rows}


def test_a_track_in_the_warehouse_is_predicted_without_asking_spotify(trained, fake, seed_track, monkeypatch):
    monkeypatch.delenv("SPOTIPY_CLIENT_SECRET")  # not needed: nothing is fetched
    output = score_track(seed_track["id"], "auto", NO_WAITING, registry.current())
    predicted = probabilities(output)
    best = max(predicted, key=predicted.get)
    assert output.splitlines()[0] == f"{seed_track['name']} — {seed_track['artist']}: {best} ({predicted[best]:.2f})"
    assert list(predicted) == list(CLASSES) and sum(predicted.values()) == pytest.approx(1, abs=0.02)
    assert "features from the warehouse (track_features" in output
    assert fake.requests == []


def test_a_track_the_warehouse_lacks_is_fetched_from_spotify_and_reccobeats(trained, fake):
    fake.audio_features_forbidden = True
    track = fake.add_track("Blinding Lights", artists=["The Weeknd"], energy=0.73)
    output = score_track(track.id, "auto", NO_WAITING, registry.current())
    assert output.startswith("Blinding Lights — The Weeknd: ")
    assert "features from reccobeats (fetched now)" in output
    assert fake.count("GET", f"/v1/tracks/{track.id}") == 1


def test_a_track_without_features_cannot_be_predicted(trained, fake):
    track = fake.add_track("Silence", has_features=False)
    with pytest.raises(BadInputError, match=r"cannot predict the mood of 'Silence' .*no complete audio features"):
        score_track(track.id, "auto", NO_WAITING, registry.current())


def test_an_unknown_track_is_a_clear_error(trained, fake):
    unknown = fake.new_id()
    with pytest.raises(BadInputError, match=f"Spotify has no track {unknown} \\(404"):
        score_track(unknown, "auto", NO_WAITING, registry.current())


def test_the_command_reads_the_warehouse_while_another_reader_holds_it(trained, seed_track):
    url = f"https://open.spotify.com/intl-de/track/{seed_track['id']}?si=abc123"
    with duckdb.connect(str(settings.database_path()), read_only=True):
        result = run_ok("score", "track", url, home=trained)
    assert result.stdout.startswith(f"{seed_track['name']} — {seed_track['artist']}: ")
