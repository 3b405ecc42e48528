"""The nightly run's stages, in order: what `python -m nightly` runs once dbt's process is on its way."""

import argparse
import logging
import resource
import sys
import time

from ingest.__main__ import ingest_files
from moodcast.build import dbt_build
from moodcast.dbt_process import DbtProcess
from moodcast.errors import MoodcastError
from moodcast.model import registry
from score.__main__ import parse_args as parse_score_args
from score.__main__ import score
from score.engines import engine_for

log = logging.getLogger("nightly")


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> int:
    return resource.getrusage(who).ru_maxrss // 1024


def load_scoring_engine() -> None:
    """Load the current model's scoring engine while dbt builds: numba and the kernel's machine code (0.9 s) stay
    loaded in this process, and scoring finds them there."""
    try:
        engine_for(registry.current())
    except MoodcastError:
        return  # no model to score with, or no telling which: scoring says so, once the build is done


def run(args: argparse.Namespace, dbt: DbtProcess) -> None:
    """The night's stages, timed from here: the process's start and imports are not a stage's."""
    started = time.monotonic()
    if args.paths:
        ingest_files(args.paths, args.mapping)
    ingested, ingested_rss_mb = time.monotonic(), peak_rss_mb()
    if exit_code := dbt_build([], publish_after=False, quiet=args.quiet, dbt=dbt, while_building=load_scoring_engine):
        sys.exit(exit_code)
    built = time.monotonic()
    scoring = [option for option, given in (("--history", args.history), ("--report", args.report),
                                            ("--quiet", args.quiet)) if given]
    score(parse_score_args(scoring), registry.current())
    done = time.monotonic()
    log.info("nightly run done in %.2f s: ingest %.2f s, build %.2f s, score %.2f s; peak RSS %d MB after ingest, "
             "%d MB in all, dbt's %d MB", done - started, ingested - started, built - ingested, done - built,
             ingested_rss_mb, peak_rss_mb(), peak_rss_mb(resource.RUSAGE_CHILDREN))
