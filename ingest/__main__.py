"""`python -m ingest`: bring tracks and their audio features into the landing zone."""

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from ingest.files import ingest_file
from ingest.mapping import ColumnMapping, read_mapping
from ingest.spotify.arguments import add_spotify_parser, run_spotify
from moodcast import cli, settings
from moodcast.errors import BadInputError, MoodcastError


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
    add_spotify_parser(commands)
    return parser.parse_args()


def ingest_files(paths: list[Path], mapping_file: Path | None) -> None:
    ingested_at = datetime.now(UTC)
    mapping = read_mapping(mapping_file) if mapping_file else ColumnMapping()
    failures = []
    for path in paths:
        try:
            result = ingest_file(path, ingested_at, mapping)
        except MoodcastError as error:
            print(f"error: {error}", file=sys.stderr)
            failures.append(path)
            continue
        landed = result.landed.relative_to(settings.home())
        if result.unchanged:
            print(f"{path}: unchanged since it was landed as {landed} "
                  f"({result.accepted} accepted, {result.rejected} rejected); nothing to do")
            continue
        print(f"{path}: {result.accepted + result.rejected} rows: {result.accepted} accepted, "
              f"{result.rejected} rejected → {landed}")
        for example in result.reject_examples:
            print(f"  rejected {example}")
        if result.rejected:
            print(f"  all {result.rejected} rejected rows, with reasons, are in landing/file_rejects/"
                  f"{result.landed.name} (and the ingest_rejects table after `make build`)")
    if failures:
        raise BadInputError(f"{len(failures)} of {len(paths)} file(s) could not be ingested; see above")


def main() -> None:
    args = parse_args()
    cli.configure_logging(args.quiet)
    if args.command == "spotify":
        run_spotify(args)
    else:
        ingest_files(args.paths, args.mapping)


if __name__ == "__main__":
    cli.run(main)
