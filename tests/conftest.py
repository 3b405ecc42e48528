"""Shared fixtures: every test gets its own MOODCAST_HOME, real DuckDB, real dbt, real Keras."""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from moodcast import settings
from tests.fake_spotify import FakeSpotify

SEED_CSV = settings.REPO_ROOT / "data" / "data_moods.csv"
SEED_TRACKS = 686  # rows of SEED_CSV, one per track
CONFLICTS_CSV = settings.REPO_ROOT / "data" / "data_moods_800.csv"
# Small enough to train in seconds; real enough to exercise every code path.
QUICK_TRAINING = ["--epochs", "5", "--cv-folds", "2"]


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty MOODCAST_HOME: no test ever touches the repository's warehouse/."""
    path = tmp_path / "home"
    monkeypatch.setenv(settings.HOME_VARIABLE, str(path))
    return path


def query(sql: str, *parameters, database: Path | None = None) -> list[tuple]:
    """What `sql` returns from the published moods.duckdb (or `database`), opened read-only as readers open it."""
    with duckdb.connect(str(database or settings.database_path()), read_only=True) as connection:
        return connection.execute(sql, list(parameters)).fetchall()


def run_command(*args: str, home: Path, cwd: Path | None = None,
                environment: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `python -m …` as a user would, against the given MOODCAST_HOME, with these environment variables."""
    return subprocess.run(
        [sys.executable, "-m", *args], env=os.environ | (environment or {}) | {settings.HOME_VARIABLE: str(home)},
        cwd=cwd or settings.REPO_ROOT,
        capture_output=True, text=True, timeout=600,
    )


def run_ok(*args: str, home: Path) -> subprocess.CompletedProcess:
    result = run_command(*args, home=home)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with the seed data ingested, built and a quick model trained (built once per session)."""
    path = tmp_path_factory.mktemp("trained") / "home"
    run_ok("ingest", "files", str(SEED_CSV), home=path)
    run_ok("moodcast.build", home=path)
    run_ok("train", *QUICK_TRAINING, home=path)
    return path


@pytest.fixture
def trained(trained_home: Path, home: Path) -> Path:
    """This test's own copy of the trained warehouse, so it may change it freely."""
    shutil.copytree(trained_home, home)
    return home


@pytest.fixture(scope="session")
def two_versions_home(trained_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """trained_home with a second model version trained (--seed 7) and not promoted: the first stays current."""
    path = tmp_path_factory.mktemp("two_versions") / "home"
    shutil.copytree(trained_home, path)
    run_ok("train", *QUICK_TRAINING, "--seed", "7", "--no-promote", home=path)
    return path


@pytest.fixture
def two_versions(two_versions_home: Path, home: Path) -> Path:
    """This test's own copy of the warehouse with two model versions."""
    shutil.copytree(two_versions_home, home)
    return home


@contextmanager
def serving(monkeypatch: pytest.MonkeyPatch, **options) -> Iterator[FakeSpotify]:
    """A fake Spotify + ReccoBeats on 127.0.0.1, with the environment pointing moodcast (and any
    subprocess it starts) at it; the fake must have hit no bug of its own."""
    with FakeSpotify(**options) as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        yield server
    assert server.server_errors == []


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeSpotify]:
    """The fake server, run from an empty working directory (no .env to read, a .cache would show)."""
    monkeypatch.chdir(tmp_path)
    with serving(monkeypatch, client_secret="fake-secret-9f8e7d") as server:
        yield server
