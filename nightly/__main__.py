"""`python -m nightly [PATH…]`: the nightly run in one command, as cron runs it.

Lands PATH… (as `python -m ingest files`; none: nothing to land, e.g. after `python -m ingest spotify`), builds
(as `python -m moodcast.build`) and scores what changed (as `python -m score`), in one process: each stage keeps
its locks, its guarantees and its exit codes, and the run stops at the first stage that fails, with that stage's
exit code.

Readers see the night whole: moods.duckdb is published once, when scoring succeeds, with the night's
track_features and their predictions together (a build run alone publishes its tables at once). A night that
fails leaves readers the last night's snapshot; the next run that succeeds publishes what this one built.
Publishing once also writes a snapshot less: at 10 M tracks the build's is 0.9 GB (docs/performance.md).

What does not depend on the night's data overlaps what does: dbt's process starts first and imports dbt (2 s) while
this one imports the stages and lands the files, and the scoring engine loads while dbt builds.
"""

import argparse
from pathlib import Path

from moodcast import cli
from moodcast.dbt_process import DbtProcess


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


def main() -> None:
    args = parse_args()
    cli.configure_logging(args.quiet)
    with DbtProcess() as dbt:  # dbt imports itself (2 s) while this process imports the stages and lands the files
        from nightly import night  # the stages: imported once dbt's process is on its way

        night.run(args, dbt)


if __name__ == "__main__":
    cli.run(main)
