"""A labels file: which mood each playlist stands for, the way the article labelled its tracks.

TOML, one key per mood, each a list of references (bare IDs are playlists)::

    Calm = ["https://open.spotify.com/playlist/…", "spotify:playlist:…"]
    Energetic = ["…"]

See data/moods.example.toml.
"""

import tomllib
from pathlib import Path

from ingest.spotify.references import Reference, canonical_mood, parse_reference
from moodcast.errors import BadInputError


def read_labels(path: Path) -> list[Reference]:
    try:
        with path.open("rb") as stream:
            document = tomllib.load(stream)
    except OSError as error:
        raise BadInputError(f"{path}: cannot read the labels file: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise BadInputError(f"{path}: not valid TOML: {error}") from error
    references = []
    for key, value in document.items():
        try:
            mood = canonical_mood(key)
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise BadInputError(f"expected a list of playlist references in quotes, got {value!r}")
            references += [
                Reference(reference.kind, reference.id, mood)
                for reference in (parse_reference(item, "playlist") for item in value)
            ]
        except BadInputError as error:
            raise BadInputError(f"{path}, key {key!r}: {error}") from error
    if not references:
        raise BadInputError(f"{path}: names no playlist; see data/moods.example.toml for the format")
    return references
