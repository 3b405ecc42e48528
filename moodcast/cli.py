"""What every moodcast command does the same way: logging, errors and exit codes."""

import gc
import logging
import sys
from collections.abc import Callable

from moodcast.errors import EXIT_INTERNAL, MoodcastError, storage_failure
from moodcast.secrets import ScrubbingFilter, scrub

log = logging.getLogger("moodcast")


def configure_logging(quiet: bool = False) -> None:
    """Timestamped lines on stderr, so cron logs say when each step happened."""
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        stream=sys.stderr,
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(ScrubbingFilter())  # on the handler: records of every logger pass through it


def run(main: Callable[[], None]) -> None:
    """Run a command's main; turn a MoodcastError into its message and exit code."""
    try:
        main()
        # Everything the command made is written and closed; what its libraries leave behind (Polars, DuckDB,
        # numba: some 0.4 s of a night's exit) need not be searched for cycles when the process is about to end.
        gc.freeze()
    except MoodcastError as error:
        print(f"error: {scrub(str(error))}", file=sys.stderr)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as error:
        if (failure := storage_failure(error)) is not None:  # a full or read-only disk is no bug: one line says so
            print(f"error: {scrub(str(failure))}", file=sys.stderr)
            sys.exit(failure.exit_code)
        log.exception("internal error: please report it with the lines above")
        sys.exit(EXIT_INTERNAL)
    sys.exit(0)
