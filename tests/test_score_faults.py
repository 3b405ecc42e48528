"""Faults and concurrency: kill -9 mid-run, a reader holding the warehouse, two scoring runs at once."""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import duckdb
import pytest

from moodcast import settings, warehouse
from moodcast.build import BUILD_INPUTS
from moodcast.errors import EXIT_BAD_INPUT, WarehouseLockedError
from moodcast.model import registry
from score.catalog import score_catalog
from tests.conftest import SEED_TRACKS, run_command

COPIES = 5000  # the seed tracks this many times: long enough a run (with Keras) to be caught in the act


def checksum() -> list[tuple]:
    with duckdb.connect(str(settings.work_database_path()), read_only=True) as connection:
        return connection.execute(
            "select count(*), sum(hash(track_id, mood, p_calm, p_sad, model_version, scored_at)) from predictions"
        ).fetchall()


def start_scoring(home, *args: str, timeout_s: float = 60) -> subprocess.Popen:
    environment = os.environ | {settings.HOME_VARIABLE: str(home), settings.LOCK_TIMEOUT_VARIABLE: str(timeout_s)}
    return subprocess.Popen([sys.executable, "-m", "score", *args], env=environment, cwd=settings.REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_line(process: subprocess.Popen, text: str, timeout_s: float = 120) -> str:
    """The first line of the process's stderr that contains `text`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if text in line:
            return line
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"no line with {text!r} on stderr; exit code {process.poll()}")


@pytest.fixture
def scored(trained):
    with warehouse.connect() as connection:
        score_catalog(connection, registry.current(), datetime.now(UTC))
    return trained


def test_a_run_killed_while_writing_leaves_the_predictions_as_they_were_and_the_next_completes(scored):
    before = checksum()
    with duckdb.connect(str(settings.work_database_path())) as connection:
        connection.execute(
            "create or replace table track_features as select t.track_id || lpad(copy::varchar, 4, '0') as track_id,"
            " t.* exclude (track_id, tempo), t.tempo + copy / 1000 as tempo"
            f" from track_features t cross join range({COPIES}) copies(copy)"
        )
        connection.execute(f"drop table {BUILD_INPUTS}")  # changed by hand, not by a build: see score.changes
    # Keras computes the catalog in seconds, inside the transaction: the kill lands there.
    run = start_scoring(scored, "--engine", "keras")
    wait_for_line(run, "INFO score: scoring")
    time.sleep(1.0)

    assert run.poll() is None, "the run ended before it could be killed: make the catalog larger"
    run.send_signal(signal.SIGKILL)
    run.wait()

    assert checksum() == before
    again = run_command("score", home=scored)
    assert again.returncode == 0, again.stderr
    assert checksum()[0][0] == SEED_TRACKS * COPIES


def test_scoring_waits_for_a_reader_holding_the_warehouse_then_gives_up(scored, monkeypatch):
    monkeypatch.setenv(settings.LOCK_TIMEOUT_VARIABLE, "1")
    before = checksum()

    with duckdb.connect(str(settings.work_database_path()), read_only=True):
        result = run_command("score", home=scored)

    assert result.returncode == 75
    assert "retrying for up to 1 s (MOODCAST_LOCK_TIMEOUT)" in result.stderr
    message = result.stderr.splitlines()[-1]
    assert message.startswith(f"error: The warehouse {settings.work_database_path()} is locked by another process")
    assert f"(PID {os.getpid()})" in message and "waited 1 s (MOODCAST_LOCK_TIMEOUT)" in message
    assert "close the session that opened it" in message and "Nothing was changed." in message
    assert checksum() == before


def test_scoring_goes_on_once_the_reader_lets_go(scored):
    reader = duckdb.connect(str(settings.work_database_path()), read_only=True)
    run = start_scoring(scored, "--full-refresh", timeout_s=120)
    wait_for_line(run, "is locked by another process; retrying")

    reader.close()
    stdout, _ = run.communicate(timeout=120)

    assert run.returncode == 0
    assert stdout.splitlines()[-1].startswith(f"scored {SEED_TRACKS} tracks")


def test_a_second_scoring_run_waits_for_the_first_then_gives_up(scored, monkeypatch):
    monkeypatch.setenv(settings.LOCK_TIMEOUT_VARIABLE, "1")
    with warehouse.exclusive("score", "scoring run"):
        result = run_command("score", home=scored)

    assert result.returncode == 75
    lock = settings.home() / "score.lock"
    assert f"error: Another scoring run is running (pid {os.getpid()}; it holds {lock}); waited 1 s" in result.stderr


def test_the_scoring_lock_is_taken_as_soon_as_it_is_free(home):
    holding, released = threading.Event(), threading.Event()

    def first_run() -> None:
        with warehouse.exclusive("score", "scoring run"):
            holding.set()
            released.wait(5)

    first = threading.Thread(target=first_run)
    first.start()
    holding.wait(5)
    with pytest.raises(WarehouseLockedError, match="Another scoring run is running"):
        with warehouse.exclusive("score", "scoring run", lock_timeout_s=0.2):
            pass
    threading.Timer(0.3, released.set).start()

    with warehouse.exclusive("score", "scoring run", lock_timeout_s=5):
        # The holder has let go; its thread may not have finished exiting yet, so ask the event, not the thread.
        assert released.is_set()
    first.join(5)


def current_version(home) -> str:
    return (home / "models" / "CURRENT").read_text().strip()


@pytest.mark.parametrize("command", [("score",), ("train", "list")])
def test_a_broken_metadata_file_says_the_model_is_damaged(trained, command):
    version = current_version(trained)
    (trained / "models" / version / "metadata.json").write_text('{"features": [')

    result = run_command(*command, home=trained)

    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    metadata = trained / "models" / version / "metadata.json"
    assert f"error: model {version} is damaged: {metadata} cannot be read" in result.stderr
    assert "Retrain (`make train`) or promote another version" in result.stderr and "Traceback" not in result.stderr


def test_a_truncated_model_file_says_the_model_is_damaged(trained):
    folder = trained / "models" / current_version(trained)
    (folder / "kernel.npz").unlink()
    model = folder / "model.keras"
    model.write_bytes(model.read_bytes()[:1000])

    result = run_command("score", home=trained)

    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    assert f"error: model {folder.name} is damaged: {model} cannot be loaded" in result.stderr


def test_without_current_scoring_never_switches_to_an_unpromoted_model(trained):
    promoted = current_version(trained)
    shutil.copytree(trained / "models" / promoted, trained / "models" / "29990101-000000")  # trained --no-promote
    (trained / "models" / "CURRENT").unlink()

    result = run_command("score", home=trained)

    assert result.returncode == EXIT_BAD_INPUT
    assert "models/CURRENT, which names the current model, is missing" in result.stderr
    assert f"versions: {promoted}, 29990101-000000" in result.stderr
    assert "python -m train promote VERSION" in result.stderr
