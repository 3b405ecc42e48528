"""Which units a command lands: one landing file per playlist, per album, and one for the tracks named one by one.

A unit's file is named after what it holds (`playlist-ID`, `album-ID`, `tracks-DIGEST`), so landing
the same playlist again replaces its rows instead of adding to them. An artist stands for its
albums; they are listed once, when the plan is made.
"""

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime

from ingest.spotify.client import SpotifyCatalog
from ingest.spotify.records import reject_row
from ingest.spotify.references import Reference
from ingest.spotify.retry import Rejected, Unavailable
from moodcast.errors import BadInputError


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
