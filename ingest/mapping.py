"""Mapping files: how a file in another schema spells moodcast's columns and moods.

    # data/moodify.mapping.toml
    [columns]            # moodcast column = the file's column
    track_id = "uri"
    length = "duration (ms)"
    mood = "labels"

    [moods]              # the file's label = moodcast's mood
    0 = "Sad"
    1 = "Happy"

Columns not named here are found by their usual spellings; without [moods] the mood column
must hold the mood names themselves.
"""

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from moodcast.contract import CLASSES, FEATURES, MOOD_SPELLINGS, canonical_mood
from moodcast.errors import BadInputError

MAPPABLE_COLUMNS = ("track_id", *FEATURES, "mood", "track_name", "artist_name", "album_name")


@dataclass(frozen=True)
class ColumnMapping:
    columns: dict[str, str] = field(default_factory=dict)  # moodcast column → the file's column
    mood_codes: dict[str, str] = field(default_factory=dict)  # the file's label → mood
    source: Path | None = None
    fingerprint: str = ""  # changes when the mapping does, so a remapped file lands anew


def read_mapping(path: Path) -> ColumnMapping:
    try:
        text = path.read_bytes()
        document = tomllib.loads(text.decode())
    except OSError as error:
        raise BadInputError(f"{path}: cannot read the mapping file: {error.strerror}") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise BadInputError(f"{path}: not a valid TOML mapping file: {error}") from error
    unknown_sections = set(document) - {"columns", "moods"}
    if unknown_sections:
        raise BadInputError(
            f"{path}: unknown section(s) {sorted(unknown_sections)}; a mapping has [columns] and [moods]"
        )
    columns, moods = document.get("columns", {}), document.get("moods", {})
    if not isinstance(columns, dict) or not all(isinstance(value, str) for value in columns.values()):
        raise BadInputError(f'{path}: [columns] must be a table of moodcast column = "the file\'s column", '
                            f'e.g. track_id = "uri"; found {columns!r}')
    if not isinstance(moods, dict) or not all(isinstance(mood, str) for mood in moods.values()):
        raise BadInputError(f'{path}: [moods] must be a table of code = mood, e.g. 0 = "Sad"; found {moods!r}')
    unknown = [key for key in columns if key not in MAPPABLE_COLUMNS]
    if unknown:
        raise BadInputError(
            f"{path}: [columns] names {', '.join(unknown)}, which moodcast does not have; "
            f"it can map {', '.join(MAPPABLE_COLUMNS)}"
        )
    moods = {str(code): mood for code, mood in moods.items()}
    wrong = {code: mood for code, mood in moods.items() if mood.strip().lower() not in MOOD_SPELLINGS}
    if wrong:
        listed = ", ".join(f"{code} = {mood!r}" for code, mood in wrong.items())
        raise BadInputError(f"{path}: [moods] maps to unknown mood(s): {listed}; moods are {', '.join(CLASSES)}")
    return ColumnMapping(
        columns=columns,
        mood_codes={code: canonical_mood(mood) for code, mood in moods.items()},
        source=path.resolve(),
        fingerprint=hashlib.sha256(text).hexdigest(),
    )
