"""`python -m moodcast.build` (or the nightly run building) stopped by a signal (cron's timeout) or killed stops dbt
with it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from moodcast import settings
from tests.conftest import SEED_CSV, run_ok


def process_state(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) of a live process; None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    state, parent = stat.rsplit(")", 1)[1].split()[:2]
    return int(parent), state


def child_of(pid: int, timeout_s: float = 60) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (found := process_state(int(entry.name))) and found[0] == pid:
                return int(entry.name)
        time.sleep(0.05)
    raise AssertionError(f"process {pid} started no child within {timeout_s} s")


def is_gone(pid: int, timeout_s: float = 5) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = process_state(pid)
        if state is None or state[1] in "ZX":  # a zombie is a process that has ended
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(("signum", "exit_status"), [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGKILL, -9)])
@pytest.mark.parametrize("command", [["moodcast.build"], ["nightly", str(SEED_CSV)]])
def test_stopping_the_build_stops_dbt(home, signum, exit_status, command):
    run_ok("ingest", "files", str(SEED_CSV), home=home)
    environment = os.environ | {settings.HOME_VARIABLE: str(home)}
    build = subprocess.Popen([sys.executable, "-m", *command], env=environment, cwd=settings.REPO_ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dbt = child_of(build.pid)
    time.sleep(1)  # dbt is starting up: the moment cron's timeout would pick

    build.send_signal(signum)

    assert build.wait(timeout=30) == exit_status
    assert is_gone(dbt), "dbt outlived the build that started it"
