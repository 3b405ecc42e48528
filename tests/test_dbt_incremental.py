"""Incremental builds: a build takes in only what landed since the last one, and gives the tables
`dbt build --full-refresh` gives.

One warehouse goes through a night's events, each followed by `make build` (real processes, real dbt):
the seed and a catalog land; a drop with a changed track and a new one lands; the catalog's file is
replaced by a version without one of its tracks and with another changed; then a full refresh.
"""

import logging
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingest.files import ingest_file
from moodcast import settings
from moodcast.build import BUILD_INPUTS, FULL_REFRESH, dbt_build
from tests.conftest import SEED_CSV, SEED_TRACKS, query, run_ok

MARTS = ("track_features", "training_examples", "label_conflicts", "int_track_observations")
SEED = pl.read_csv(SEED_CSV)


def tracks(rows: pl.DataFrame, path: Path, tempo: float) -> Path:
    """An unlabelled catalog file of these seed rows, with other track ids (reversed) and this tempo."""
    rows.drop("mood").with_columns(pl.col("id").str.reverse(), pl.lit(tempo).alias("tempo")).write_csv(path)
    return path


def state(home: Path) -> dict:
    """Each mart's rows, sorted, what the last build took in and recomputed, and how track_features is declared."""
    with duckdb.connect(str(home / "moods.duckdb"), read_only=True) as connection:
        def rows(sql: str) -> list[tuple]:
            return sorted(connection.execute(sql).fetchall(), key=repr)

        return {
            **{table: rows(f"select * from {table}") for table in MARTS},
            "tempo": dict(rows("select track_id, tempo from track_features")),
            "changed_tracks": {row[0] for row in rows("select track_id from int_changed_tracks")},
            "changes": {(Path(file).name.rsplit("-", 1)[0], change)
                        for file, change in rows("select landed_file, change from int_landed_changes")},
            "track_features_ddl": connection.execute(
                "select sql from duckdb_tables() where table_name = 'track_features'").fetchone()[0],
        }


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The warehouse's state after each event; the track ids the events are about."""
    folder = tmp_path_factory.mktemp("incremental")
    home = folder / "home"
    catalog, drop = folder / "catalog.csv", folder / "drop.csv"
    ids = SEED["id"].str.reverse()
    states = {}

    run_ok("ingest", "files", str(SEED_CSV), str(tracks(SEED.head(3), catalog, 100.0)), home=home)
    run_ok("moodcast.build", home=home)
    states["first"] = state(home)

    # A drop: the catalog's first track with new features, and a track not seen before.
    run_ok("ingest", "files", str(tracks(SEED.slice(2, 2), drop, 120.0)), home=home)
    run_ok("moodcast.build", home=home)
    states["drop"] = state(home)

    # The catalog's file, replaced: without its first two tracks (sighted nowhere else), with its third (also in
    # the drop) at a new tempo.
    run_ok("ingest", "files", str(tracks(SEED.slice(2, 1), catalog, 130.0)), home=home)
    run_ok("moodcast.build", home=home)
    states["replaced"] = state(home)

    run_ok("moodcast.build", "--full-refresh", home=home)
    states["full_refresh"] = state(home)
    logs = [run_ok("moodcast.build", home=home)]
    run_ok("ingest", "files", str(drop), home=home)  # the same file again: nothing lands
    logs.append(run_ok("moodcast.build", home=home))
    return {"states": states, "ids": ids, "logs": [log.stdout + log.stderr for log in logs]}


def test_a_first_build_takes_in_every_landed_file(night):
    first, ids = night["states"]["first"], night["ids"]

    assert first["changes"] == {("data_moods", "landed"), ("catalog", "landed")}
    assert len(first["track_features"]) == SEED_TRACKS + 3
    assert [first["tempo"][track] for track in ids[:3]] == [100.0, 100.0, 100.0]


def test_a_new_file_recomputes_only_its_tracks(night):
    drop, ids = night["states"]["drop"], night["ids"]

    assert drop["changes"] == {("drop", "landed")}
    assert drop["changed_tracks"] == {ids[2], ids[3]}
    assert drop["tempo"][ids[2]] == 120.0  # a changed track: the latest sighting wins
    assert drop["tempo"][ids[3]] == 120.0  # a new track
    assert drop["tempo"][ids[0]] == 100.0
    assert len(drop["track_features"]) == SEED_TRACKS + 4


def test_a_replaced_file_takes_its_old_version_out_exactly(night):
    replaced, ids = night["states"]["replaced"], night["ids"]

    assert replaced["changes"] == {("catalog", "landed"), ("catalog", "removed")}
    assert replaced["changed_tracks"] == {ids[0], ids[1], ids[2]}
    assert ids[0] not in replaced["tempo"] and ids[1] not in replaced["tempo"]  # sighted only in the old version
    assert replaced["tempo"][ids[2]] == 130.0  # the new version is the latest sighting
    assert replaced["tempo"][ids[3]] == 120.0  # the drop's, untouched
    assert len(replaced["track_features"]) == SEED_TRACKS + 2
    assert len(replaced["int_track_observations"]) == SEED_TRACKS + 1 + 2


def test_a_build_with_nothing_new_does_not_run_dbt(night):
    for log in night["logs"]:
        assert "nothing landed and the dbt project is unchanged since the last build: nothing to build" in log
        assert "Running with dbt" not in log


@pytest.mark.parametrize("flag", ["--quiet", "-q"])
def test_a_quiet_build_prints_errors_only_and_is_still_a_whole_build(tmp_path, flag):
    home = tmp_path / "home"
    run_ok("ingest", "files", str(SEED_CSV), home=home)

    result = run_ok("moodcast.build", flag, home=home)

    assert (result.stdout, result.stderr) == ("", "")
    # A whole build's record: the next build with nothing new runs no dbt, and scoring plans from what changed.
    assert query(f"select count(*) from {BUILD_INPUTS}", database=home / "moods.duckdb") == [(1,)]


def test_a_full_refresh_gives_the_tables_the_incremental_builds_gave(night):
    states = night["states"]

    for table in MARTS:
        assert states["full_refresh"][table] == states["replaced"][table], table


def test_track_ids_are_stored_uncompressed_from_the_first_build_on(night):
    for event in ("first", "drop", "replaced", "full_refresh"):
        assert "track_id VARCHAR USING COMPRESSION Uncompressed," in night["states"][event]["track_features_ddl"], event


def test_a_file_ingested_earlier_but_built_later_does_not_override_newer_features(tmp_path):
    """A build weighs what it takes in against the features the warehouse has: the latest sighting wins, whichever
    build takes it in (a file whose ingest started before another's, and finished after the build took that in)."""
    later, earlier = datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
    track = SEED["id"][0][::-1]
    ingest_file(tracks(SEED.head(1), tmp_path / "newer.csv", 100.0), later)
    assert dbt_build([]) == 0
    ingest_file(tracks(SEED.head(1), tmp_path / "older.csv", 120.0), earlier)

    assert dbt_build([]) == 0
    incremental = query("select tempo, source_name from track_features where track_id = ?", track,
                        database=settings.database_path())
    assert dbt_build([FULL_REFRESH]) == 0

    assert incremental == [(100.0, str(tmp_path / "newer.csv"))]
    assert query("select tempo, source_name from track_features where track_id = ?", track,
                 database=settings.database_path()) == incremental


def test_a_build_that_changes_most_tracks_rebuilds_them_whole_as_a_full_refresh_would(tmp_path):
    """The catalog's next version, most tracks with new features: track_features is rebuilt, not patched, and the
    tracks the new file leaves out keep the features they have from elsewhere."""
    run_ok("ingest", "files", str(SEED_CSV), home=settings.home())
    assert dbt_build([]) == 0
    retuned, kept = SEED.head(600), SEED.tail(SEED_TRACKS - 600)
    retuned.drop("mood").with_columns(pl.lit(140.0).alias("tempo")).write_csv(tmp_path / "retuned.csv")
    ingest_file(tmp_path / "retuned.csv", datetime.now(UTC))

    assert dbt_build([]) == 0
    scope = query("select whole, changed_sightings from int_build_scope", database=settings.database_path())
    listed = query("select count(*) from int_changed_tracks", database=settings.database_path())
    incremental = query("select * from track_features order by track_id", database=settings.database_path())
    tempo = dict(query("select track_id, tempo from track_features", database=settings.database_path()))
    assert dbt_build([FULL_REFRESH]) == 0

    assert (scope, listed) == ([(True, 600)], [(0,)])  # decided once; no 600 ids listed for nothing
    assert len(incremental) == SEED_TRACKS
    assert {tempo[track] for track in retuned["id"]} == {140.0}
    assert [tempo[track] for track in kept["id"]] == kept["tempo"].to_list()
    assert query("select * from track_features order by track_id", database=settings.database_path()) == incremental


def test_a_track_features_built_without_its_sightings_order_is_rebuilt_whole_once(tmp_path, caplog):
    """A warehouse an earlier moodcast built: its track_features lacks source_name and source_row."""
    run_ok("ingest", "files", str(SEED_CSV), home=settings.home())
    assert dbt_build([]) == 0
    with duckdb.connect(str(settings.work_database_path())) as earlier:
        earlier.execute("alter table track_features drop column source_name")
        earlier.execute("alter table track_features drop column source_row")
    ingest_file(tracks(SEED.head(1), tmp_path / "drop.csv", 150.0), datetime.now(UTC))
    caplog.set_level(logging.INFO, logger="moodcast.build")

    assert dbt_build([]) == 0

    assert "rebuilding it whole, this once" in caplog.text
    assert query("select count(*), count(source_row) from track_features", database=settings.database_path()) == [
        (SEED_TRACKS + 1, SEED_TRACKS + 1)]
