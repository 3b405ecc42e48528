"""Run a child process that stops with its parent: cron's `timeout` signals moodcast, not dbt.

An orphaned dbt would keep the warehouse lock and write the warehouse after its parent was stopped.
SIGTERM, SIGINT and SIGHUP sent to this process are passed on to the child, and on Linux the child is
also told to stop (SIGTERM) when this process dies without a chance to pass anything on (kill -9).
"""

import ctypes
import signal
import subprocess
import sys

FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def run_child(command: list[str], **options) -> int:
    """The child's exit status, or 128 + N when signal N stopped it (as a shell reports it)."""
    child = subprocess.Popen(command, preexec_fn=_die_with_parent if sys.platform == "linux" else None, **options)

    def forward(signum: int, frame: object) -> None:
        child.send_signal(signum)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED_SIGNALS}
    try:
        returncode = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 128 - returncode if returncode < 0 else returncode


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
