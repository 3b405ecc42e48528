"""What an interrupted `python -m ingest spotify` already did, so that the same command continues there.

Under `$MOODCAST_HOME/checkpoints/spotify/<run key>/` (the run key digests the command's references):
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
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.spotify.references import Reference
from moodcast import settings
from moodcast.atomic import replacing
from moodcast.landing import SPOTIFY_REJECTS_SCHEMA, SPOTIFY_TRACKS_SCHEMA, write_atomically

CURSOR_METADATA_KEY = b"moodcast.cursor"


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
