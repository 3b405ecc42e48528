"""What a user can name: Spotify tracks, albums, artists and playlists, each with an optional mood.

A reference is a 22-character base-62 ID, a `spotify:KIND:ID` URI or an
`https://open.spotify.com/[intl-xx/]KIND/ID[?si=…]` URL. A bare ID says nothing about its kind,
so the place it is written in decides (`--playlist ID`, a line of `--from-file`, a labels file).

A labels file says which mood each playlist stands for, the way the article labelled its tracks.
TOML, one key per mood, each a list of references (bare IDs are playlists)::

    Calm = ["https://open.spotify.com/playlist/…", "spotify:playlist:…"]
    Energetic = ["…"]

See data/moods.example.toml.
"""

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from moodcast.contract import canonical_mood
from moodcast.errors import BadInputError
from moodcast.track_ids import reference_pattern

KINDS = ("track", "album", "artist", "playlist")
_KIND = "|".join(KINDS)
_REFERENCE = re.compile(reference_pattern(f"(?P<uri_kind>{_KIND})", f"(?P<url_kind>{_KIND})"))


@dataclass(frozen=True)
class Reference:
    kind: str
    id: str
    mood: str | None = None

    @property
    def uri(self) -> str:
        return f"spotify:{self.kind}:{self.id}"


@dataclass(frozen=True)
class LineReject:
    """A line of a reference file that names nothing usable."""

    path: str
    line: int
    text: str
    reason: str


def parse_reference(text: str, bare_kind: str) -> Reference:
    """The reference in `text`; a bare ID is a `bare_kind`. Raise BadInputError if there is none."""
    match = _REFERENCE.match(text)
    if match is None:
        raise BadInputError(
            f"{text!r} is not a Spotify reference: expected a 22-character ID, a spotify:{bare_kind}:ID URI "
            f"or an https://open.spotify.com/{bare_kind}/ID URL"
        )
    return Reference(match["uri_kind"] or match["url_kind"] or bare_kind, match["id"])


def parse_reference_of_kind(text: str, kind: str) -> Reference:
    """The reference in `text`, which must name a `kind` (what `--playlist` and friends accept)."""
    reference = parse_reference(text, kind)
    if reference.kind != kind:
        raise BadInputError(f"{text!r} names a Spotify {reference.kind}, not a {kind}")
    return reference


def with_mood(references: list[Reference], mood: str | None) -> list[Reference]:
    return [Reference(reference.kind, reference.id, mood) for reference in references]


def read_reference_file(path: Path) -> tuple[list[Reference], list[LineReject]]:
    """One reference per line (bare IDs are tracks); blank lines and lines starting with `#` are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise BadInputError(f"{path}: cannot read the reference file: {error}") from error
    references, rejects = [], []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            references.append(parse_reference(text, "track"))
        except BadInputError as error:
            rejects.append(LineReject(str(path), number, line, str(error)))
    return references, rejects


def read_labels(path: Path) -> list[Reference]:
    """The playlists a labels file names, each with its mood."""
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
