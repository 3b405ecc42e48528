"""`python -m ingest spotify`: its command line, and one run: plan, fetch each unit, land it, summarise.

References keep their order, and `--mood` labels the option just before it, so that
`--playlist A --mood Calm --playlist B --mood Sad` says what it means.

Killed at any point, the same command continues from its checkpoint; run again once finished, it
fetches everything anew and replaces what it landed before, so nothing is ever landed twice.
"""

import argparse
import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa

from ingest.spotify.client import SpotifyCatalog, connect
from ingest.spotify.features import SOURCES, FeatureFetcher, ReccoBeats
from ingest.spotify.fetch import fetch_unit
from ingest.spotify.plan import RunCheckpoint, Unit, make_plan, plan_from_json, plan_to_json, run_key
from ingest.spotify.records import reject_row
from ingest.spotify.references import (
    LineReject,
    Reference,
    parse_reference_of_kind,
    read_labels,
    read_reference_file,
    with_mood,
)
from ingest.spotify.retry import RetryPolicy
from moodcast import settings
from moodcast.contract import canonical_mood
from moodcast.errors import BadInputError, ServiceUnavailableError
from moodcast.landing import (
    SPOTIFY_REJECTS_SCHEMA,
    SPOTIFY_TRACKS_SCHEMA,
    ensure_landing_zone,
    source_dir,
    write_atomically,
)
from moodcast.progress import Progress, progress_display
from moodcast.secrets import scrub

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
    catalog = connect(policy)
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


REFERENCE_OPTIONS = {"--playlist": "playlist", "--album": "album", "--artist": "artist", "--track": "track"}
REFERENCE_HELP = {
    "--playlist": "a playlist's tracks",
    "--album": "an album's tracks",
    "--artist": "the tracks of all an artist's albums, singles and compilations",
    "--track": "one track",
}
DESCRIPTION = """\
Land tracks, their Spotify metadata and their audio features under landing/spotify/, labelled
with a mood or not. Name what to land with any mix of the options below, each repeatable; an ID,
a spotify: URI or an open.spotify.com URL all work. Rows that cannot be used (removed tracks,
local files, unknown IDs) go to landing/spotify_rejects/ with the reason.

Credentials come from SPOTIPY_CLIENT_ID and SPOTIPY_CLIENT_SECRET, in the environment or in a
.env file in the working directory. Killed or rate-limited, the same command continues where it
stopped; run again once finished, it replaces what it landed before.
"""


class _Named(argparse.Action):
    """Append (option, value, mood) to `named`, in command-line order."""

    def __call__(self, parser, namespace, value, option_string=None):
        namespace.named = [*(namespace.named or []), [option_string, value, None]]


class _Mood(argparse.Action):
    """Give the option just before it a mood."""

    def __call__(self, parser, namespace, value, option_string=None):
        if not namespace.named:
            raise argparse.ArgumentError(self, "it labels the option before it: put it after a --playlist, "
                                               "--album, --artist, --track or --from-file")
        last = namespace.named[-1]
        if last[0] == "--labels":
            raise argparse.ArgumentError(self, "a --labels file gives its playlists their moods itself")
        if last[2] is not None:
            raise argparse.ArgumentError(self, f"{last[0]} {last[1]} already has the mood {last[2]}")
        try:
            last[2] = canonical_mood(value)
        except BadInputError as error:
            raise argparse.ArgumentError(self, str(error)) from error


def add_spotify_arguments(parser: argparse.ArgumentParser) -> None:
    """`python -m ingest spotify`'s description and options, on its parser."""
    parser.description = DESCRIPTION
    named = parser.add_argument_group("what to land (repeatable, in any mix)")
    for option, help_text in REFERENCE_HELP.items():
        named.add_argument(option, action=_Named, dest="named", metavar="REF", help=help_text)
    named.add_argument("--from-file", action=_Named, dest="named", metavar="FILE",
                       help="one reference per line; bare IDs are tracks; lines starting with # are skipped")
    named.add_argument("--labels", action=_Named, dest="named", metavar="TOML",
                       help="a labels file: mood = [playlists] (see data/moods.example.toml)")
    named.add_argument("--mood", action=_Mood, dest="named", metavar="MOOD",
                       help="label the tracks of the option just before it: Calm, Energetic, Happy or Sad")
    add_fetch_options(parser, "; longer: save progress and exit 69")
    parser.add_argument("--quiet", action="store_true", help="log warnings and errors only")


def add_fetch_options(parser: argparse.ArgumentParser, on_longer_wait: str = "") -> None:
    """--features and --max-retry-after, as every command that fetches from Spotify takes them."""
    parser.add_argument("--features", choices=SOURCES, default="auto",
                        help="where audio features come from; auto: Spotify, then ReccoBeats once Spotify "
                             "answers 403 (default: %(default)s)")
    parser.add_argument("--max-retry-after", type=float, default=settings.DEFAULT_MAX_RETRY_AFTER_S,
                        metavar="SECONDS", help=f"wait out a rate limit's Retry-After up to this long{on_longer_wait} "
                                                "(default: %(default)s)")


def spotify_request(args: argparse.Namespace) -> SpotifyIngest:
    references, line_rejects = [], []
    for option, value, mood in args.named or []:
        if option == "--from-file":
            found, rejected = read_reference_file(Path(value))
            references += with_mood(found, mood)
            line_rejects += rejected
        elif option == "--labels":
            references += read_labels(Path(value))
        else:
            try:
                references += with_mood([parse_reference_of_kind(value, REFERENCE_OPTIONS[option])], mood)
            except BadInputError as error:
                raise BadInputError(f"{option}: {error}") from error
    return SpotifyIngest(references, line_rejects, args.features)


def run_spotify(args: argparse.Namespace) -> None:
    request = spotify_request(args)
    with progress_display(args.quiet, log_steps=True) as progress:
        summary = ingest_spotify(request, RetryPolicy(max_retry_after_s=args.max_retry_after), progress)
    print(scrub(format_summary(summary)))  # its failures quote servers' error text
    if summary.failures:
        raise BadInputError(f"{len(summary.failures)} playlist(s), album(s) or artist(s) could not be landed: "
                            "see 'failed' above")
