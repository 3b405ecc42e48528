"""A read-only MOODCAST_HOME or a full disk: one line naming the path and the cause, exit 74, no traceback.

Each command runs in a mount namespace of its own (`unshare -m`), where the home is remounted
read-only or copied onto a small tmpfs that is then filled up: real file systems refusing real writes.
"""

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from moodcast import settings
from moodcast.errors import EXIT_CANNOT_WRITE
from tests.conftest import CONFLICTS_CSV, SEED_CSV


def can_mount() -> bool:
    try:
        probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs tmpfs /mnt"], capture_output=True)
    except FileNotFoundError:
        return False
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or not can_mount(),
                                reason="needs a mount namespace (root, unshare)")


def run_in_namespace(setup: str, home: Path, *command: str) -> subprocess.CompletedProcess:
    moodcast = " ".join(shlex.quote(part) for part in [sys.executable, "-m", *command])
    script = f"set -e; {setup}; MOODCAST_HOME={shlex.quote(str(home))} exec {moodcast}"
    return subprocess.run(["unshare", "-m", "sh", "-c", script], cwd=settings.REPO_ROOT,
                          capture_output=True, text=True, timeout=600)


def read_only(home: Path, *command: str) -> subprocess.CompletedProcess:
    quoted = shlex.quote(str(home))
    return run_in_namespace(f"mount --bind {quoted} {quoted}; mount -o remount,bind,ro {quoted}", home, *command)


def on_a_full_disk(home: Path, disk: Path, *command: str) -> subprocess.CompletedProcess:
    """The command against a copy of `home` on a tmpfs with 16 KB left: enough to start, not to write."""
    disk.mkdir()
    setup = (f"mount -t tmpfs -o size=64m tmpfs {disk}; cp -a {home} {disk}/home; "
             f"head -c $(( ($(df -k --output=avail {disk} | tail -1) - 16) * 1024 )) /dev/zero > {disk}/filler || true")
    return run_in_namespace(setup, disk / "home", *command)


def assert_one_line_exit_74(result: subprocess.CompletedProcess, cause: str) -> None:
    assert result.returncode == EXIT_CANNOT_WRITE, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors and all(cause in line for line in errors[:-1] or errors), result.stderr


@pytest.mark.parametrize("command", [("ingest", "files", str(CONFLICTS_CSV), str(SEED_CSV)), ("moodcast.build",),
                                     ("score",)])
def test_a_read_only_home_is_named_with_its_cause(trained, command):
    result = read_only(trained, *command)

    assert_one_line_exit_74(result, "Read-only file system")
    assert str(trained) in result.stderr


def test_a_full_disk_stops_scoring_with_one_line_and_changes_nothing(trained, tmp_path):
    result = on_a_full_disk(trained, tmp_path / "disk", "score", "--full-refresh")

    assert_one_line_exit_74(result, "No space left on device")


def test_a_full_disk_during_ingest_names_the_file_and_goes_on_with_the_others(trained, tmp_path):
    result = on_a_full_disk(trained, tmp_path / "disk", "ingest", "files", str(CONFLICTS_CSV), str(SEED_CSV))

    assert_one_line_exit_74(result, "No space left on device")
    assert f"cannot write {CONFLICTS_CSV}'s landing under {tmp_path / 'disk' / 'home' / 'landing'}" in result.stderr
    assert f"{SEED_CSV}: unchanged" in result.stdout  # the other file is still seen to


def test_a_full_disk_during_the_build_exits_74(trained, tmp_path):
    result = on_a_full_disk(trained, tmp_path / "disk", "moodcast.build", "--full-refresh")

    assert_one_line_exit_74(result, "No space left on device")
