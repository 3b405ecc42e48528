"""The stages meet through the warehouse and the exported model (moodcast.model), never through each other's
code: train and score import nothing of one another, the shared floor (moodcast) imports no stage, and only the
nightly run, which runs the stages, imports them together."""

import ast
import os
import re
import subprocess
import sys

import pytest

from moodcast import settings
from tests.conftest import SEED_CSV, run_ok

STAGES = ("ingest", "train", "score")
FORBIDDEN = {"ingest": {"nightly"}, "train": {"score", "nightly"}, "score": {"train", "nightly"},
             "moodcast": {*STAGES, "nightly"}}


def imported_packages(package: str) -> dict[str, set[str]]:
    """file -> the top-level packages it imports, at module level or inside functions."""
    found = {}
    for path in sorted((settings.REPO_ROOT / package).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(settings.REPO_ROOT))] = names
    return found


@pytest.mark.parametrize("package", FORBIDDEN)
def test_no_stage_imports_what_it_must_not(package):
    crossings = {path: names & FORBIDDEN[package] for path, names in imported_packages(package).items()
                 if names & FORBIDDEN[package]}

    assert crossings == {}


def test_training_does_not_load_the_scoring_kernel():
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "train", "--help"], cwd=settings.REPO_ROOT,
                            capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stderr[-3000:]
    assert not re.search(r"\|\s+(numba|score)(\.|$)", result.stderr, re.MULTILINE)


def test_a_scoring_run_with_nothing_to_compute_loads_no_model(trained):
    run_ok("score", home=trained)

    again = subprocess.run([sys.executable, "-X", "importtime", "-m", "score"], cwd=settings.REPO_ROOT,
                           env=os.environ | {settings.HOME_VARIABLE: str(trained)}, capture_output=True, text=True,
                           timeout=300)

    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.splitlines()[-1].startswith("nothing to score: ")
    assert again.stdout.splitlines()[-1].endswith("(no model loaded)")
    assert not re.search(r"\|\s+(numba|keras|tensorflow)(\.|$)", again.stderr, re.MULTILINE)


def test_ingesting_files_does_not_load_spotifys_client(home):
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "ingest", "files", str(SEED_CSV)],
                            cwd=settings.REPO_ROOT, env=os.environ | {settings.HOME_VARIABLE: str(home)},
                            capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stderr[-3000:]
    assert not re.search(r"\|\s+(spotipy|ingest\.spotify)(\.|$)", result.stderr, re.MULTILINE)
