"""What `python -m ingest spotify` accepts as references, reference files, labels files and credentials."""

import argparse
from pathlib import Path

import pytest

from ingest.spotify.client import load_credentials
from ingest.spotify.command import add_spotify_arguments, spotify_request
from ingest.spotify.references import (
    Reference,
    parse_reference,
    parse_reference_of_kind,
    read_labels,
    read_reference_file,
)
from moodcast import settings
from moodcast.errors import BadInputError

ID = "2H7PHVdQ3mXqEHXcvclTB0"
OTHER = "37i9dQZF1DX4sWSpwq3LiO"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ID, Reference("playlist", ID)),
        (f"spotify:album:{ID}", Reference("album", ID)),
        (f"https://open.spotify.com/artist/{ID}?si=4f3a9c1b2d", Reference("artist", ID)),
        (f"https://open.spotify.com/intl-de/track/{ID}?si=abc", Reference("track", ID)),
        (f"  spotify:track:{ID}  ", Reference("track", ID)),
    ],
)
def test_a_reference_names_its_kind_and_a_bare_id_takes_the_default(text, expected):
    assert parse_reference(text, "playlist") == expected


@pytest.mark.parametrize("text", ["", ID[:-1], f"spotify:show:{ID}", f"https://example.com/track/{ID}"])
def test_anything_else_is_refused(text):
    with pytest.raises(BadInputError, match="not a Spotify reference"):
        parse_reference(text, "track")


def test_an_option_refuses_a_reference_of_another_kind():
    with pytest.raises(BadInputError, match="names a Spotify album, not a playlist"):
        parse_reference_of_kind(f"spotify:album:{ID}", "playlist")


def test_a_reference_file_skips_comments_and_keeps_bad_lines_as_rejects(tmp_path: Path):
    path = tmp_path / "refs.txt"
    path.write_text(f"# my tracks\n{ID}\n\nspotify:playlist:{OTHER}\nnot an id\n")
    references, rejects = read_reference_file(path)
    assert references == [Reference("track", ID), Reference("playlist", OTHER)]
    assert [(reject.line, reject.text) for reject in rejects] == [(5, "not an id")]


def test_the_example_labels_file_names_a_playlist_per_mood():
    references = read_labels(settings.REPO_ROOT / "data" / "moods.example.toml")
    assert sorted(reference.mood for reference in references) == ["Calm", "Energetic", "Happy", "Sad"]
    assert {reference.kind for reference in references} == {"playlist"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (f'Angry = ["{ID}"]', "key 'Angry': 'Angry' is not a mood"),
        (f'Calm = "{ID}"', "expected a list of playlist references"),
        ("Calm = [", "not valid TOML"),
        ("", "names no playlist"),
    ],
)
def test_a_bad_labels_file_says_where(tmp_path: Path, content, message):
    path = tmp_path / "moods.toml"
    path.write_text(content)
    with pytest.raises(BadInputError, match=message):
        read_labels(path)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_spotify_arguments(parser.add_subparsers(dest="command").add_parser("spotify"))
    return parser.parse_args(["spotify", *argv])


def test_mood_labels_the_option_before_it(tmp_path: Path):
    listing = tmp_path / "sad.txt"
    listing.write_text(f"{ID}\n")
    request = spotify_request(parse("--playlist", OTHER, "--mood", "calm", "--album", OTHER, "--from-file",
                                    str(listing), "--mood", "SAD"))
    assert request.references == [
        Reference("playlist", OTHER, "Calm"), Reference("album", OTHER), Reference("track", ID, "Sad"),
    ]


@pytest.mark.parametrize(
    "argv",
    [["--mood", "Calm"], ["--playlist", ID, "--mood", "Calm", "--mood", "Sad"], ["--playlist", ID, "--mood", "Angry"]],
)
def test_a_misplaced_or_unknown_mood_is_a_usage_error(argv):
    with pytest.raises(SystemExit) as exit_info:
        parse(*argv)
    assert exit_info.value.code == 2


def test_credentials_come_from_the_environment_before_dotenv(tmp_path: Path):
    (tmp_path / ".env").write_text('SPOTIPY_CLIENT_ID=from-file\nSPOTIPY_CLIENT_SECRET="file secret"\n')
    assert load_credentials({}, tmp_path).client_secret == "file secret"
    assert load_credentials({"SPOTIPY_CLIENT_ID": "from-env"}, tmp_path).client_id == "from-env"


def test_a_missing_credential_is_named_and_the_secret_never_shown(tmp_path: Path):
    with pytest.raises(BadInputError, match="^SPOTIPY_CLIENT_SECRET is not set"):
        load_credentials({"SPOTIPY_CLIENT_ID": "id"}, tmp_path)
    credentials = load_credentials({"SPOTIPY_CLIENT_ID": "id", "SPOTIPY_CLIENT_SECRET": "s3cret"}, tmp_path)
    assert "s3cret" not in repr(credentials)
