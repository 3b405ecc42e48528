"""Fetch one unit step by step: a page of a playlist or an album, or a batch of named tracks, with features.

Each step is saved in the run's checkpoint before the next one starts, with a cursor saying
where that one begins (the page's absolute `next` URL, or the index of the next named track).
`fetch_track` fetches one track the same way, for `python -m score track`.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from ingest.spotify.client import SpotifyCatalog, connect
from ingest.spotify.features import NO_VALUES, FeatureFetcher, ReccoBeats, TrackFeatures
from ingest.spotify.plan import RunCheckpoint, Unit, collection_failure
from ingest.spotify.records import (
    Lineage,
    Listed,
    listed_reject,
    playlist_row_item,
    playlist_row_problem,
    reject_row,
    track_metadata,
    track_row,
)
from ingest.spotify.retry import Rejected, RetryPolicy, Unavailable
from moodcast.errors import BadInputError
from moodcast.progress import Progress

TRACKS_PER_STEP = 50  # named tracks per step: in development mode each one is a request of its own
NOT_FETCHED = TrackFeatures(NO_VALUES, "missing", None)


@dataclass(frozen=True)
class Collection:
    """What the rows of a unit share."""

    name: str | None
    total: int | None  # rows, when known before the first page
    album: dict | None = None  # an album's own object: its tracks' pages leave it out


@dataclass(frozen=True)
class Step:
    listed: list[Listed]
    cursor: dict | None  # where the next step starts; None: this was the last
    total: int | None


def open_collection(unit: Unit, catalog: SpotifyCatalog) -> Collection:
    if unit.kind == "playlist":
        return Collection(catalog.playlist(unit.id).get("name"), None)
    if unit.kind == "album":
        album = catalog.album(unit.id)
        return Collection(album.get("name"), album.get("total_tracks"), album)
    return Collection(None, len(unit.tracks))


def next_cursor(page: dict, listed: int) -> dict | None:
    return {"next": page["next"], "listed": listed} if page.get("next") else None


def playlist_step(unit: Unit, collection: Collection, catalog: SpotifyCatalog, cursor: dict | None) -> Step:
    page = catalog.playlist_page(unit.id, cursor and cursor["next"])
    lineage = Lineage("playlist", unit.id, collection.name, unit.requested_as, unit.mood, datetime.now(UTC))
    listed = []
    for position, row in enumerate(page["items"], start=page["offset"] + 1):
        problem = playlist_row_problem(row)
        if problem is None:
            listed.append(Listed(position, lineage, track_metadata(playlist_row_item(row))))
        else:
            item = playlist_row_item(row) or {}
            listed.append(Listed(position, lineage, None, problem, raw=row, reference=item.get("uri")))
    return Step(listed, next_cursor(page, page["offset"] + len(listed)), page["total"])


def album_step(unit: Unit, collection: Collection, catalog: SpotifyCatalog, cursor: dict | None) -> Step:
    page = catalog.album_page(unit.id, cursor and cursor["next"])
    lineage = Lineage("album", unit.id, collection.name, unit.requested_as, unit.mood, datetime.now(UTC))
    listed = [
        Listed(position, lineage, track_metadata(track, collection.album))
        for position, track in enumerate(page["items"], start=page["offset"] + 1)
    ]
    return Step(listed, next_cursor(page, page["offset"] + len(listed)), page["total"])


def tracks_step(unit: Unit, catalog: SpotifyCatalog, cursor: dict | None) -> Step:
    start = cursor["listed"] if cursor else 0
    batch = unit.tracks[start : start + TRACKS_PER_STEP]
    found, refused = catalog.tracks([track_id for track_id, _ in batch])
    ingested_at = datetime.now(UTC)
    listed = []
    for position, (track_id, mood) in enumerate(batch, start=start + 1):
        lineage = Lineage("track", track_id, None, f"spotify:track:{track_id}", mood, ingested_at)
        track = found.get(track_id)
        if track is not None:
            listed.append(Listed(position, lineage, track_metadata(track)))
        else:
            why = refused.get(track_id, "not found")
            listed.append(Listed(position, lineage, None, f"Spotify has no track {track_id} ({why})",
                                 reference=f"spotify:track:{track_id}"))
    end = start + len(batch)
    return Step(listed, {"listed": end} if end < len(unit.tracks) else None, len(unit.tracks))


def next_step(unit: Unit, collection: Collection, catalog: SpotifyCatalog, cursor: dict | None) -> Step:
    if unit.kind == "playlist":
        return playlist_step(unit, collection, catalog, cursor)
    if unit.kind == "album":
        return album_step(unit, collection, catalog, cursor)
    return tracks_step(unit, catalog, cursor)


def step_rows(listed: list[Listed], fetcher: FeatureFetcher) -> tuple[list[dict], list[dict]]:
    """The landing rows of a step: a track row for every listed track, a reject for everything else."""
    tracks = [item for item in listed if item.track is not None]
    durations = {item.track["track_id"]: item.track["duration_ms"] for item in tracks}
    features, refused = fetcher.fetch(durations) if durations else ({}, {})
    track_rows, rejects = [], [listed_reject(item) for item in listed if item.track is None]
    for item in tracks:
        track_id = item.track["track_id"]
        result = features.get(track_id, NOT_FETCHED)
        track_rows.append(track_row(item, result))
        problem = features_problem(track_id, result, refused.get(track_id))
        if problem:
            rejects.append(reject_row(problem, item.lineage.source_name, item.lineage.ingested_at,
                                      reference=f"spotify:track:{track_id}", source_row=item.position))
    return track_rows, rejects


def features_problem(track_id: str, result: TrackFeatures, refusal: str | None) -> str | None:
    """Why a landed track's features deserve a reject row too, if they do."""
    if refusal:
        return f"audio features of track {track_id} were refused: {refusal}"
    if result.status == "invalid":
        return f"audio features of track {track_id} are invalid: {result.problem}"
    return None


def fetch_unit(unit: Unit, catalog: SpotifyCatalog, fetcher: FeatureFetcher, checkpoint: RunCheckpoint,
               progress: Progress) -> None:
    """Fetch what the checkpoint does not hold yet; a refused playlist or album becomes its one reject."""
    resume = checkpoint.resume_point(unit.key)
    if resume.complete:
        return
    step_number, cursor = resume.step, resume.cursor
    try:
        collection = open_collection(unit, catalog)
        with progress.task(describe(unit, collection), collection.total, cursor["listed"] if cursor else 0) as advance:
            while True:
                step = next_step(unit, collection, catalog, cursor)
                tracks, rejects = step_rows(step.listed, fetcher)
                checkpoint.save_step(unit.key, step_number, tracks, rejects, step.cursor)
                advance(len(step.listed), step.total)
                step_number, cursor = step_number + 1, step.cursor
                if cursor is None:
                    return
    except (Rejected, Unavailable) as error:
        reason = collection_failure(unit.kind, unit.id, error)
        checkpoint.save_step(unit.key, step_number, [], [reject_row(reason, unit.uri, datetime.now(UTC))], None)


def describe(unit: Unit, collection: Collection) -> str:
    if unit.kind == "tracks":
        return "named tracks"
    return f"{unit.kind} {collection.name or unit.id}"


def fetch_track(track_id: str, features_source: str, policy: RetryPolicy) -> tuple[dict, TrackFeatures | None]:
    """One track's metadata and audio features (None: the provider refused the track), as a run would land them."""
    catalog = connect(policy)
    found, refused = catalog.tracks([track_id])
    track = found.get(track_id)
    if track is None:
        why = refused.get(track_id, "not found")
        raise BadInputError(f"Spotify has no track {track_id} ({why}): check the reference")
    metadata = track_metadata(track)
    fetcher = FeatureFetcher(features_source, catalog, ReccoBeats(policy))
    features, _ = fetcher.fetch({track_id: metadata["duration_ms"]})
    return metadata, features.get(track_id)
