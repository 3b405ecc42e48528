"""One `python -m ingest spotify` run: plan, fetch each unit, land it, summarise.

Killed at any point, the same command continues from its checkpoint; run again once finished, it
fetches everything anew and replaces what it landed before, so nothing is ever landed twice.
"""

import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
import pyarrow as pa

from ingest.spotify.checkpoint import RunCheckpoint, run_key
from ingest.spotify.client import SpotifyCatalog, spotify_client
from ingest.spotify.credentials import load_credentials
from ingest.spotify.features import FeatureFetcher
from ingest.spotify.fetch import fetch_unit
from ingest.spotify.plan import Unit, make_plan, plan_from_json, plan_to_json
from ingest.spotify.progress import Progress
from ingest.spotify.reccobeats import ReccoBeats
from ingest.spotify.records import reject_row
from ingest.spotify.references import LineReject, Reference
from ingest.spotify.retry import RetryPolicy
from moodcast.errors import BadInputError, ServiceUnavailableError
from moodcast.landing import (
    SPOTIFY_REJECTS_SCHEMA,
    SPOTIFY_TRACKS_SCHEMA,
    ensure_landing_zone,
    source_dir,
    write_atomically,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpotifyIngest:
    """What the command line asks for."""

    references: list[Reference]
    line_rejects: list[LineReject]  # lines of --from-file files that name nothing
    features: str = "auto"  # features.SOURCES


@dataclass(frozen=True)
class Summary:
    collections: dict[str, int]  # landed units by kind: playlist, album, tracks
    tracks: int
    by_provider: dict[str, int]
    without_features: int  # features_status other than complete
    rejected: int
    failures: list[str]  # whole playlists, albums or artists that could not be landed, with why
    seconds: float
    resumed: bool


def ingest_spotify(request: SpotifyIngest, policy: RetryPolicy, progress: Progress) -> Summary:
    if not request.references:
        unreadable = "".join(f"\n  {line.path} line {line.line}: {line.reason}" for line in request.line_rejects[:5])
        raise BadInputError("nothing to ingest: name at least one --playlist, --album, --artist, --track, "
                            f"--from-file or --labels{unreadable}")
    started = time.monotonic()
    ensure_landing_zone()
    key = run_key(request.references)
    checkpoint = RunCheckpoint(key)
    catalog = SpotifyCatalog(spotify_client(load_credentials()), policy)
    plan = checkpoint.load_plan()
    resumed = plan is not None
    if resumed:
        units = plan_from_json(plan)
        log.info("continuing the interrupted run saved in %s", checkpoint.root)
    else:
        units = plan_run(request, catalog, key, checkpoint)
    fetcher = FeatureFetcher(request.features, catalog, ReccoBeats(policy))
    try:
        for unit in units:
            if not checkpoint.is_landed(unit.key):
                fetch_unit(unit, catalog, fetcher, checkpoint, progress)
                land_unit(unit, checkpoint)
    except ServiceUnavailableError as error:
        raise ServiceUnavailableError(
            f"{error} What was fetched so far is saved in {checkpoint.root}: the same command continues from there."
        ) from error
    summary = summarise(units, key, time.monotonic() - started, resumed)
    checkpoint.remove()
    return summary


def plan_run(request: SpotifyIngest, catalog: SpotifyCatalog, key: str, checkpoint: RunCheckpoint) -> list[Unit]:
    """Make the plan, land the rejects found while making it, and save it for a rerun to continue."""
    now = datetime.now(UTC)
    units, rejects = make_plan(request.references, catalog, now)
    rejects += [
        reject_row(line.reason, line.path, now, reference=line.text.strip(), raw={"line": line.text},
                   source_row=line.line)
        for line in request.line_rejects
    ]
    write_atomically(pa.Table.from_pylist(rejects, SPOTIFY_REJECTS_SCHEMA),
                     source_dir("spotify_rejects") / f"references-{key}.parquet")
    checkpoint.save_plan(plan_to_json(units))
    return units


def land_unit(unit: Unit, checkpoint: RunCheckpoint) -> None:
    """Publish a unit's rows under its own name, replacing what an earlier run landed for it."""
    tracks, rejects = checkpoint.unit_tables(unit.key)
    write_atomically(rejects, source_dir("spotify_rejects") / f"{unit.key}.parquet")
    write_atomically(tracks, source_dir("spotify") / f"{unit.key}.parquet")
    checkpoint.mark_landed(unit.key)


def summarise(units: list[Unit], key: str, seconds: float, resumed: bool) -> Summary:
    tracks = read_landed("spotify", [unit.key for unit in units], SPOTIFY_TRACKS_SCHEMA)
    reject_files = [*(unit.key for unit in units), f"references-{key}"]
    rejects = read_landed("spotify_rejects", reject_files, SPOTIFY_REJECTS_SCHEMA)
    return Summary(
        collections=dict(Counter(unit.kind for unit in units)),
        tracks=tracks.height,
        by_provider=dict(tracks.group_by("features_provider").len().drop_nulls().iter_rows()),
        without_features=tracks.filter(pl.col("features_status") != "complete").height,
        rejected=rejects.height,
        # A reject without a row number is about a whole playlist, album or artist.
        failures=rejects.filter(pl.col("source_row").is_null())["reason"].to_list(),
        seconds=seconds,
        resumed=resumed,
    )


def read_landed(source: str, names: list[str], schema: pa.Schema) -> pl.DataFrame:
    paths = [source_dir(source) / f"{name}.parquet" for name in names]
    return pl.read_parquet(paths) if paths else pl.from_arrow(schema.empty_table())


def format_summary(summary: Summary) -> str:
    names = {"playlist": "playlist", "album": "album", "tracks": "list of named tracks"}
    collections = ", ".join(
        f"{count} {names[kind]}{'' if count == 1 else 's'}" for kind, count in summary.collections.items()
    )
    providers = ", ".join(f"{provider} {count}" for provider, count in sorted(summary.by_provider.items())) or "none"
    lines = [
        f"spotify: {summary.tracks} tracks from {collections or 'nothing'} in {summary.seconds:.1f} s"
        + (" (continued an interrupted run)" if summary.resumed else "") + " → landing/spotify/",
        f"  audio features from: {providers}",
        f"  without complete features: {summary.without_features} (kept, marked in features_status, "
        "left out of track_features)",
        f"  rejected: {summary.rejected} → landing/spotify_rejects/ (the ingest_rejects table after `make build`)",
    ]
    lines += [f"  failed: {failure}" for failure in summary.failures]
    return "\n".join(lines)
