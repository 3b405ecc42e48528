"""Every command answers --help, and the README documents it."""

import pytest

from moodcast import settings
from tests.conftest import run_command

COMMANDS = [
    ("ingest",),
    ("ingest", "files"),
    ("ingest", "spotify"),
    ("train",),
    ("train", "list"),
    ("train", "promote"),
    ("train", "reproduce"),
    ("score",),
    ("score", "track"),
    ("score", "report"),
    ("score", "spark"),
]
README = (settings.REPO_ROOT / "README.md").read_text()


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command, home):
    result = run_command(*command, "--help", home=home)

    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: python -m {' '.join(command)}")


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_is_in_the_readme(command):
    assert f"python -m {' '.join(command)}" in README


@pytest.mark.parametrize("target", ["run", "test", "ingest", "build", "train", "score", "docs", "bench",
                                    "test-spark", "bench-spark"])
def test_every_make_target_is_in_the_readme(target):
    assert f"make {target}" in README
