"""Which units a command lands, and what an interrupted run of it already did.

One landing file per playlist, per album, and one for the tracks named one by one. A unit's file
is named after what it holds (`playlist-ID`, `album-ID`, `tracks-DIGEST`), so landing the same
playlist again replaces its rows instead of adding to them. An artist stands for its albums; they
are listed once, when the plan is made.

The checkpoint lets the same command continue where an interrupted one stopped. Under
`$MOODCAST_HOME/checkpoints/spotify/<run key>/` (the run key digests the command's references):
- `plan.json`: the units to land, made once (an artist's albums are listed only the first time);
- `<unit>/<step>.rejects.parquet`, then `<unit>/<step>.tracks.parquet`: one step's rows; the tracks
  file records where the next step starts, so it is what marks the step done;
- `<unit>.landed`: the unit's rows are in the landing zone.
Every file is written atomically, so a kill at any point leaves whole files only. The folder is
removed once every unit has landed: the next run of the same command starts afresh.
"""

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.spotify.client import SpotifyCatalog
from ingest.spotify.records import reject_row
from ingest.spotify.references import Reference
from ingest.spotify.retry import Rejected, Unavailable
from moodcast import settings
from moodcast.atomic import replacing
from moodcast.errors import BadInputError
from moodcast.landing import SPOTIFY_REJECTS_SCHEMA, SPOTIFY_TRACKS_SCHEMA, write_atomically

CURSOR_METADATA_KEY = b"moodcast.cursor"


@dataclass(frozen=True)
class Unit:
    kind: str  # playlist | album | tracks
    id: str  # the playlist's or album's ID; for tracks, a digest of their IDs
    mood: str | None  # for tracks: see `tracks`
    requested_as: str  # the reference named (an artist's, for its albums); for tracks, each row names its own
    tracks: tuple[tuple[str, str | None], ...] = ()  # (track ID, mood) of each track named one by one, in order

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.id}"

    @property
    def uri(self) -> str:
        return f"spotify:{self.kind}:{self.id}" if self.kind != "tracks" else f"tracks named one by one ({self.key})"


def track_list_unit(references: list[Reference]) -> Unit:
    moods: dict[str, str | None] = {}
    for reference in references:
        if moods.setdefault(reference.id, reference.mood) != reference.mood:
            raise BadInputError(
                f"track {reference.id} is named with two moods: {moods[reference.id]} and {reference.mood}"
            )
    digest = hashlib.sha256(",".join(sorted(moods)).encode()).hexdigest()[:16]
    return Unit("tracks", digest, None, "", tuple(moods.items()))


def collection_units(reference: Reference, catalog: SpotifyCatalog) -> list[Unit]:
    """The units a playlist, album or artist reference stands for. Raises Rejected or Unavailable."""
    if reference.kind != "artist":
        return [Unit(reference.kind, reference.id, reference.mood, reference.uri)]
    albums = catalog.artist_albums(reference.id)
    return [Unit("album", album["id"], reference.mood, reference.uri) for album in albums]


def without_repeats(units: list[Unit]) -> list[Unit]:
    """Each unit once; the same one named with two moods is an error (it would land with one of them)."""
    by_key: dict[str, Unit] = {}
    for unit in units:
        first = by_key.setdefault(unit.key, unit)
        if first.mood != unit.mood:
            raise BadInputError(
                f"{unit.uri} is named with two moods: {first.mood} (as {first.requested_as}) and "
                f"{unit.mood} (as {unit.requested_as}). Give it one mood."
            )
    return list(by_key.values())


def make_plan(
    references: list[Reference], catalog: SpotifyCatalog, ingested_at: datetime
) -> tuple[list[Unit], list[dict]]:
    """The units to land, in the order named, and a reject row for each artist Spotify would not list."""
    units, rejects = [], []
    for reference in references:
        if reference.kind == "track":
            continue
        try:
            units += collection_units(reference, catalog)
        except (Rejected, Unavailable) as error:
            reason = collection_failure(reference.kind, reference.id, error)
            rejects.append(reject_row(reason, reference.uri, ingested_at))
    tracks = [reference for reference in references if reference.kind == "track"]
    if tracks:
        units.append(track_list_unit(tracks))
    return without_repeats(units), rejects


def collection_failure(kind: str, collection_id: str, error: Rejected | Unavailable) -> str:
    """Why a whole playlist, album or artist could not be landed, and what to do about it."""
    if isinstance(error, Unavailable) and kind == "playlist":
        return (
            f"Spotify refuses to list the tracks of playlist {collection_id} ({error.failure.describe()}): in "
            "development mode an app may read only playlists its user owns or collaborates on. Copy the tracks "
            "into a playlist of your own, or use an app with extended quota."
        )
    if error.failure.status == 404:
        hint = (" Spotify's own editorial and personalised playlists answer 404 to apps created after 2024-11-27."
                if kind == "playlist" else "")
        return f"Spotify has no {kind} {collection_id} ({error.failure.describe()}): check the reference.{hint}"
    return f"Spotify refused {kind} {collection_id} ({error.failure.describe()})"


def plan_to_json(units: list[Unit]) -> dict:
    return {"units": [asdict(unit) for unit in units]}


def plan_from_json(plan: dict) -> list[Unit]:
    return [
        Unit(**{**unit, "tracks": tuple((track_id, mood) for track_id, mood in unit["tracks"])})
        for unit in plan["units"]
    ]


def run_key(references: list[Reference]) -> str:
    """The same references, in any order, give the same key: that is what "the same command" means."""
    named = sorted({f"{reference.uri} {reference.mood or ''}" for reference in references})
    return hashlib.sha256("\n".join(named).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ResumePoint:
    step: int  # the number of the next step
    cursor: dict | None  # where it starts; None: at the beginning
    complete: bool  # every step is done


class RunCheckpoint:
    def __init__(self, key: str):
        self.root = settings.checkpoints_dir() / "spotify" / key

    def load_plan(self) -> dict | None:
        path = self.root / "plan.json"
        return json.loads(path.read_text()) if path.exists() else None

    def save_plan(self, plan: dict) -> None:
        with replacing(self.root / "plan.json") as temporary:
            temporary.write_text(json.dumps(plan, indent=1))

    def step_files(self, unit_key: str) -> list[Path]:
        return sorted((self.root / unit_key).glob("*.tracks.parquet"))

    def resume_point(self, unit_key: str) -> ResumePoint:
        done = self.step_files(unit_key)
        if not done:
            return ResumePoint(0, None, False)
        cursor = json.loads(pq.read_schema(done[-1]).metadata[CURSOR_METADATA_KEY])
        return ResumePoint(len(done), cursor, cursor is None)

    def save_step(self, unit_key: str, step: int, tracks: list[dict], rejects: list[dict], cursor: dict | None) -> None:
        """One step's rows; `cursor` says where the next step starts (None: there is none)."""
        folder = self.root / unit_key
        write_atomically(pa.Table.from_pylist(rejects, SPOTIFY_REJECTS_SCHEMA), folder / f"{step:06d}.rejects.parquet")
        metadata = {CURSOR_METADATA_KEY: json.dumps(cursor).encode()}
        table = pa.Table.from_pylist(tracks, SPOTIFY_TRACKS_SCHEMA).replace_schema_metadata(metadata)
        write_atomically(table, folder / f"{step:06d}.tracks.parquet")

    def unit_tables(self, unit_key: str) -> tuple[pa.Table, pa.Table]:
        """Every step's tracks and rejects, in order."""
        tracks = self.step_files(unit_key)
        rejects = [path.with_name(path.name.replace(".tracks.", ".rejects.")) for path in tracks]
        return read_tables(tracks, SPOTIFY_TRACKS_SCHEMA), read_tables(rejects, SPOTIFY_REJECTS_SCHEMA)

    def is_landed(self, unit_key: str) -> bool:
        return (self.root / f"{unit_key}.landed").exists()

    def mark_landed(self, unit_key: str) -> None:
        (self.root / f"{unit_key}.landed").touch()
        shutil.rmtree(self.root / unit_key, ignore_errors=True)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def read_tables(paths: list[Path], schema: pa.Schema) -> pa.Table:
    """The files' rows, in order, under `schema` (without the steps' cursors)."""
    return pa.concat_tables([schema.empty_table(), *(pq.read_table(path, schema=schema) for path in paths)])
