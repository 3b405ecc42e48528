"""Spotify API objects → landing rows (moodcast.landing's SPOTIFY_TRACKS_SCHEMA and SPOTIFY_REJECTS_SCHEMA)."""

import json
from dataclasses import dataclass
from datetime import datetime

from ingest.spotify.features import TrackFeatures


@dataclass(frozen=True)
class Lineage:
    """Where a row came from: the collection, the reference the user named, and when."""

    collection_type: str  # playlist | album | track
    collection_id: str
    collection_name: str | None
    requested_as: str  # e.g. spotify:artist:ID for the tracks of an artist's albums
    mood: str | None
    ingested_at: datetime

    @property
    def source_name(self) -> str:
        return f"spotify:{self.collection_type}:{self.collection_id}"


@dataclass(frozen=True)
class Listed:
    """One row of a playlist, an album or a list of requested tracks, before its features are fetched."""

    position: int  # 1-based
    lineage: Lineage
    track: dict | None  # track_metadata(); None when the row holds no usable track
    problem: str | None = None  # why it holds none
    raw: dict | None = None  # what Spotify answered for the row, kept with a reject
    reference: str | None = None  # the track as named, when it has no metadata


def track_metadata(track: dict, album: dict | None = None) -> dict:
    """The metadata columns of a full track object (or of a simplified one, with its album)."""
    album = track.get("album") or album or {}
    artists = ", ".join(artist["name"] for artist in track.get("artists") or [] if artist.get("name"))
    return {
        "track_id": track["id"],
        "track_name": track.get("name"),
        "artist_name": artists or None,
        "album_id": album.get("id"),
        "album_name": album.get("name"),
        "release_date": album.get("release_date"),
        "duration_ms": track.get("duration_ms"),
    }


def playlist_row_item(row: dict) -> dict | None:
    """What a playlist row holds: under `item` since 2026, under the deprecated `track` before."""
    return row["item"] if "item" in row else row.get("track")


def playlist_row_problem(row: dict) -> str | None:
    """Why a playlist row holds no Spotify track, or None when it does."""
    item = playlist_row_item(row)
    if item is None:
        return "the playlist row has no track (removed from Spotify, or unavailable)"
    if row.get("is_local") or item.get("is_local"):
        return "a local file, not a Spotify track"
    if item.get("type") == "episode" or item.get("episode") or str(item.get("uri", "")).startswith("spotify:episode:"):
        return "a podcast episode, not a track"
    if not item.get("id"):
        return "the playlist row's track has no Spotify ID"
    return None


def track_row(listed: Listed, features: TrackFeatures) -> dict:
    lineage = listed.lineage
    return {
        **listed.track,
        **features.values,
        "features_status": features.status,
        "features_provider": features.provider,
        "mood": lineage.mood,
        "collection_type": lineage.collection_type,
        "collection_id": lineage.collection_id,
        "collection_name": lineage.collection_name,
        "collection_position": listed.position,
        "requested_as": lineage.requested_as,
        "ingested_at": lineage.ingested_at,
    }


def reject_row(
    reason: str, source_name: str, ingested_at: datetime, *, reference: str | None = None,
    raw: dict | None = None, source_row: int | None = None,
) -> dict:
    return {
        "track_reference": reference,
        "reason": reason,
        "raw_record": None if raw is None else json.dumps(raw, ensure_ascii=False),
        "source_name": source_name,
        "source_row": source_row,
        "ingested_at": ingested_at,
    }


def listed_reject(listed: Listed) -> dict:
    return reject_row(
        listed.problem, listed.lineage.source_name, listed.lineage.ingested_at,
        reference=listed.reference, raw=listed.raw, source_row=listed.position,
    )
