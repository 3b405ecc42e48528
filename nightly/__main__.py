"""`python -m nightly [PATH…]`: the nightly run in one command, as cron runs it.

Lands PATH… (as `python -m ingest files`; none: nothing to land, e.g. after `python -m ingest spotify`), builds
(as `python -m moodcast.build`) and scores what changed (as `python -m score`), in one process: each stage keeps
its locks, its guarantees and its exit codes, and the run stops at the first stage that fails, with that stage's
exit code.

Readers see the night whole: moods.duckdb is published once, when scoring succeeds, with the night's
track_features and their predictions together (a build run alone publishes its tables at once). A night that
fails leaves readers the last night's snapshot; the next run that succeeds publishes what this one built.
Publishing once also writes a snapshot less: at 10 M tracks the build's is 0.9 GB (docs/performance.md).
"""

import argparse
import logging
import resource
import sys
import time
from pathlib import Path

from ingest.__main__ import ingest_files
from moodcast import cli
from moodcast.build import dbt_build
from moodcast.model import registry
from score.__main__ import parse_args as parse_score_args
from score.__main__ import score

log = logging.getLogger("nightly")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m nightly", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="CSV or Parquet files of tracks to land first, as `python -m ingest files` lands them")
    parser.add_argument("--mapping", type=Path, metavar="TOML",
                        help="the mapping file for PATH… in another schema, as `python -m ingest files --mapping`")
    parser.add_argument("--history", action="store_true",
                        help="also keep the night's predictions in prediction_history, as `python -m score --history`")
    parser.add_argument("--report", action="store_true",
                        help="write the scoring run's HTML report, as `python -m score --report`")
    parser.add_argument("--quiet", action="store_true", help="log warnings and errors only")
    args = parser.parse_args()
    if args.mapping and not args.paths:
        parser.error("--mapping describes the files to land: name them (PATH…)")
    return args


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> int:
    return resource.getrusage(who).ru_maxrss // 1024


def main() -> None:
    args = parse_args()
    cli.configure_logging(args.quiet)
    started = time.monotonic()
    if args.paths:
        ingest_files(args.paths, args.mapping)
    ingested, ingested_rss_mb = time.monotonic(), peak_rss_mb()
    if exit_code := dbt_build([], publish_after=False, quiet=args.quiet):
        sys.exit(exit_code)
    built = time.monotonic()
    scoring = [option for option, given in (("--history", args.history), ("--report", args.report),
                                            ("--quiet", args.quiet)) if given]
    score(parse_score_args(scoring), registry.current())
    done = time.monotonic()
    log.info("nightly run done in %.2f s: ingest %.2f s, build %.2f s, score %.2f s; peak RSS %d MB after ingest, "
             "%d MB in all, dbt's %d MB", done - started, ingested - started, built - ingested, done - built,
             ingested_rss_mb, peak_rss_mb(), peak_rss_mb(resource.RUSAGE_CHILDREN))


if __name__ == "__main__":
    cli.run(main)
