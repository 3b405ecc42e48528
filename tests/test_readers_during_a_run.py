"""Readers and the nightly run, as real processes: a reader holding moods.duckdb open never stops a stage,
and a reader opening it at any moment of a run sees a published state, whole, never an error."""

import json
import shutil
import subprocess
import sys
import time

import duckdb
import polars as pl
import pytest

from moodcast import settings
from tests.conftest import QUICK_TRAINING, SEED_CSV, SEED_TRACKS, run_command, run_ok

STATE = ("select (select count(*) from track_features), (select count(*) from predictions), "
         "(select count(*) from model_runs), (select max(scored_at)::varchar from predictions)")

# Opens moods.duckdb read-only, keeps it open until told to stop, then reads it again.
HOLDER = f"""
import json, sys, duckdb
connection = duckdb.connect(sys.argv[1], read_only=True)
print(json.dumps(connection.execute({STATE!r}).fetchall()[0]), flush=True)
sys.stdin.readline()
print(json.dumps(connection.execute({STATE!r}).fetchall()[0]), flush=True)
"""
# Opens moods.duckdb, reads its state and closes it, over and over, until the stop file appears.
POLLER = f"""
import json, os, sys, duckdb
while not os.path.exists(sys.argv[2]):
    try:
        with duckdb.connect(sys.argv[1], read_only=True) as connection:
            print(json.dumps({{"state": connection.execute({STATE!r}).fetchall()[0]}}), flush=True)
    except Exception as error:
        print(json.dumps({{"error": repr(error)}}), flush=True)
"""


def state(home) -> list:
    with duckdb.connect(str(home / "moods.duckdb"), read_only=True) as connection:
        return list(connection.execute(STATE).fetchall()[0])


def reader(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)


@pytest.fixture(scope="module")
def night(trained_home, tmp_path_factory):
    """A scored warehouse, then a whole night on it (new tracks: ingest, build, train, score) with a reader holding
    moods.duckdb open throughout and another polling it; what each saw and which states were published."""
    root = tmp_path_factory.mktemp("night")
    home, stop = root / "home", root / "stop"
    shutil.copytree(trained_home, home)
    run_ok("score", home=home)
    new_tracks = root / "new_tracks.csv"
    pl.read_csv(SEED_CSV).head(100).drop("mood").with_columns(pl.col("id").str.reverse()).write_csv(new_tracks)
    database = str(home / "moods.duckdb")

    published = [state(home)]
    holder, poller = reader(HOLDER, database), reader(POLLER, database, str(stop))
    held_before = json.loads(holder.stdout.readline())
    exit_codes = {}
    # A reader that blocked a stage would fail the night in seconds rather than minutes.
    quick_to_give_up = {settings.LOCK_TIMEOUT_VARIABLE: "5"}
    try:
        for stage in (("ingest", "files", str(new_tracks)), ("moodcast.build",), ("train", *QUICK_TRAINING),
                      ("score",)):
            result = run_command(*stage, home=home, environment=quick_to_give_up)
            exit_codes[stage[0]] = (result.returncode, result.stderr[-2000:])
            published.append(state(home))
            time.sleep(0.5)  # the poller sees each published state
    finally:
        stop.touch()
        held_after, _ = holder.communicate("\n", timeout=60)
        polled, _ = poller.communicate(timeout=60)
    return {"exit_codes": exit_codes, "held": [held_before, json.loads(held_after)], "published": published,
            "polled": [json.loads(line) for line in polled.splitlines()]}


def test_a_reader_holding_the_warehouse_open_never_stops_a_stage(night):
    assert {stage: code for stage, (code, _) in night["exit_codes"].items()} == {
        "ingest": 0, "moodcast.build": 0, "train": 0, "score": 0}, night["exit_codes"]
    # It keeps reading the snapshot it opened, whole, while the night publishes newer ones.
    assert night["held"] == [night["published"][0]] * 2
    assert night["published"][-1][:2] == [SEED_TRACKS + 100, SEED_TRACKS + 100]


def test_a_reader_polling_during_the_run_sees_only_published_states_and_no_error(night):
    errors = [poll["error"] for poll in night["polled"] if "error" in poll]
    seen = {tuple(poll["state"]) for poll in night["polled"] if "state" in poll}

    assert errors == []
    assert seen <= {tuple(published) for published in night["published"]}
    assert len(seen) >= 3  # it did poll through the run: before, during and after
