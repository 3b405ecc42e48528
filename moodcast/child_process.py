"""Child processes that stop with their parent: cron's `timeout` signals moodcast, not dbt.

An orphaned dbt would keep the warehouse lock and write the warehouse after its parent was stopped.
While the parent waits on a child, SIGTERM, SIGINT and SIGHUP sent to it are passed on to the child; and on Linux
the child is also told to stop (SIGTERM) when its parent dies without a chance to pass anything on (kill -9, or
a signal arriving before the parent waits for it).
"""

import ctypes
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def start_child(command: list[str], **options) -> subprocess.Popen:
    """Start command (options as subprocess.Popen's) as a child that dies with this process's main thread."""
    return subprocess.Popen(command, preexec_fn=_die_with_parent if sys.platform == "linux" else None, **options)


@contextmanager
def signals_passed_on(child: subprocess.Popen) -> Iterator[None]:
    """Within the block, SIGTERM, SIGINT and SIGHUP sent to this process go to the child instead."""

    def forward(signum: int, frame: object) -> None:
        child.send_signal(signum)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def shell_status(returncode: int) -> int:
    """A child's exit status, or 128 + N when signal N stopped it (as a shell reports it)."""
    return 128 - returncode if returncode < 0 else returncode


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
