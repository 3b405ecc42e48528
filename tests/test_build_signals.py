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
from moodcast.child_process import shell_status
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


def wait_until(condition, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout_s} s in vain"
        time.sleep(0.05)


def is_gone(pid: int, timeout_s: float = 5) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = process_state(pid)
        if state is None or state[1] in "ZX":  # a zombie is a process that has ended
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
@pytest.mark.parametrize("command", [["moodcast.build"], ["nightly", str(SEED_CSV)]])
@pytest.mark.parametrize("building", [False, True], ids=["dbt-waiting", "dbt-building"])
def test_stopping_the_build_stops_dbt(home, signum, command, building):
    """dbt's process starts before the build's command line is known (moodcast.dbt_process): whether it is still
    waiting for it or building, it stops with its parent."""
    run_ok("ingest", "files", str(SEED_CSV), home=home)
    environment = os.environ | {settings.HOME_VARIABLE: str(home)}
    build = subprocess.Popen([sys.executable, "-m", *command], env=environment, cwd=settings.REPO_ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dbt = child_of(build.pid)
    if building:
        dbt_log = settings.dbt_dir() / "logs" / "dbt.log"  # dbt writes it once it has its command line
        wait_until(dbt_log.exists, timeout_s=60)
        time.sleep(0.5)  # dbt is starting up the build: the moment cron's timeout would pick

    build.send_signal(signum)

    assert shell_status(build.wait(timeout=30)) == 128 + signum
    assert is_gone(dbt), "dbt outlived the build that started it"
