"""`python -m ingest`: bring tracks and their audio features into the landing zone."""

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from ingest.files import IngestResult, ingest_file
from ingest.mapping import ColumnMapping, read_mapping
from moodcast import cli, settings, warehouse
from moodcast.errors import BadInputError, MoodcastError, storage_failure


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    files = commands.add_parser(
        "files",
        help="land CSV or Parquet files of tracks with audio features",
        description="Land CSV or Parquet files of tracks with audio features, labelled (a mood "
        "column) or not (a catalog to score). Unusable rows go to landing/file_rejects with the reason.",
    )
    files.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    files.add_argument(
        "--mapping", type=Path, metavar="TOML",
        help="a mapping file for files in another schema: which column holds what, and what label codes mean "
        "(see data/moodify.mapping.toml)",
    )
    files.add_argument("--quiet", action="store_true", help="log warnings and errors only")
    spotify = commands.add_parser(
        "spotify", help="land tracks and audio features from Spotify playlists, albums, artists or track IDs",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # Its options, and Spotify's client with them, only when it is named: the nightly `ingest files` does without
    # them (a quarter of its 1 s when nothing is new).
    if "spotify" in sys.argv[1:]:
        from ingest.spotify.command import add_spotify_arguments

        add_spotify_arguments(spotify)
    return parser.parse_args()


def ingest_files(paths: list[Path], mapping_file: Path | None) -> None:
    mapping = read_mapping(mapping_file) if mapping_file else ColumnMapping()
    failures: list[MoodcastError] = []
    left_alone: dict[Path, IngestResult] = {}
    # One file ingest at a time per MOODCAST_HOME: two would write the same temporary files.
    with warehouse.exclusive("ingest-files", "file ingest"):
        for path in paths:
            try:
                # Each file its own time, so a track in several files takes the later argument's features.
                result = ingest_file(path, datetime.now(UTC), mapping)
            except (MoodcastError, OSError) as error:
                failures.append(error if isinstance(error, MoodcastError) else
                                storage_failure(error, where=f"{path}'s landing under {settings.landing_dir()}")
                                or BadInputError(f"{path}: {error}"))
                print(f"error: {failures[-1]}", file=sys.stderr)
                continue
            if result.unchanged:
                left_alone[path] = result
            else:
                report(path, result)
    if left_alone:
        report_unchanged(left_alone)
    if failures:
        error = max(failures, key=lambda failure: failure.exit_code)
        raise type(error)(f"{len(failures)} of {len(paths)} file(s) could not be ingested; see above")


def report_unchanged(results: dict[Path, IngestResult]) -> None:
    """One line for the files landed before and unchanged since, however many: cron hands the nightly run every
    drop ever delivered, and its log would otherwise grow by a line per past drop every night."""
    accepted = sum(result.accepted for result in results.values())
    rejected = sum(result.rejected for result in results.values())
    if len(results) == 1:
        (path, result), = results.items()
        print(f"{path}: unchanged since it was landed as {result.landed.relative_to(settings.home())} "
              f"({accepted} accepted, {rejected} rejected); nothing to do")
    else:
        print(f"{len(results)} files unchanged since they were landed ({accepted:,} rows accepted, "
              f"{rejected:,} rejected, in all); nothing to do")


def report(path: Path, result: IngestResult) -> None:
    landed = result.landed.relative_to(settings.home())
    print(f"{path}: {result.accepted + result.rejected} rows: {result.accepted} accepted, "
          f"{result.rejected} rejected → {landed}")
    for example in result.reject_examples:
        print(f"  rejected {example}")
    if result.rejected:
        print(f"  all {result.rejected} rejected rows, with reasons, are in landing/file_rejects/"
              f"{result.landed.name} (and the ingest_rejects table after `make build`)")


def main() -> None:
    args = parse_args()
    cli.configure_logging(args.quiet)
    if args.command == "spotify":
        from ingest.spotify.command import run_spotify

        run_spotify(args)
    else:
        ingest_files(args.paths, args.mapping)


if __name__ == "__main__":
    cli.run(main)
