"""What readers open: `$MOODCAST_HOME/moods.duckdb`, published by each stage, readable by DuckDB 1.x and 2.x,
described (comments, dbt docs), with names on predictions and the evaluation tables exported as Parquet."""

import json
import random
import shutil
import subprocess
import sys

import duckdb
import polars as pl
import pytest
import sqlalchemy

from moodcast import settings, warehouse
from moodcast.exports import EVALUATION_TABLES
from moodcast.model import registry
from moodcast.publish import PATCH_BLOCK_BYTES, PREVIOUS, copy_by_patching
from score.export import EXPORTED_COLUMNS
from tests.conftest import SEED_CSV, SEED_TRACKS, query, run_ok
from tests.old_duckdb import SERIES, python_with, read_with

README = (settings.REPO_ROOT / "README.md").read_text()


@pytest.fixture(scope="module")
def scored_home(trained_home, tmp_path_factory):
    """The seed ingested, built, trained and scored, each stage a command (made once for this module)."""
    home = tmp_path_factory.mktemp("scored") / "home"
    shutil.copytree(trained_home, home)
    run_ok("score", home=home)
    return home


def published(home, sql: str) -> list[tuple]:
    return query(sql, database=home / "moods.duckdb")


@pytest.mark.parametrize("series", SERIES)
def test_a_duckdb_1x_reader_opens_the_published_warehouse_and_counts_moods(scored_home, series, request, tmp_path):
    python = python_with(request.config.cache, series)

    read = read_with(python, scored_home / "moods.duckdb", cwd=tmp_path)  # another directory, as an analyst's

    assert read["version"].startswith(f"{series}.")
    assert [tuple(row) for row in read["counts"]] == published(
        scored_home, "select mood, count(*) from predictions group by mood order by mood")
    assert read["failing_views"] == {}


def test_predictions_carry_the_track_and_artist_names(scored_home):
    seed = pl.read_csv(SEED_CSV).select(track_id="id", track_name="name", artist_name="artist")

    names = published(scored_home, "select track_id, track_name, artist_name from predictions")

    assert pl.DataFrame(names, schema=seed.columns, orient="row").sort("track_id").equals(seed.sort("track_id"))


def test_the_exports_hold_the_predictions_with_names_and_the_evaluation_tables(scored_home):
    exports = scored_home / "exports"
    predictions = pl.read_parquet(exports / "predictions" / "predictions.parquet")

    assert tuple(predictions.columns) == EXPORTED_COLUMNS
    assert predictions["track_name"].null_count() == 0
    for table in EVALUATION_TABLES:
        assert pl.read_parquet(exports / table / f"{table}.parquet").height == published(
            scored_home, f"select count(*) from {table}")[0][0] > 0


def test_descriptions_are_comments_that_bi_tools_show(scored_home):
    comments = dict(published(scored_home, "select table_name, comment from duckdb_tables() union all "
                                           "select view_name, comment from duckdb_views() where not internal"))
    column = published(scored_home, "select comment from duckdb_columns() where table_name = 'predictions' "
                                    "and column_name = 'track_name'")

    assert comments["predictions"].startswith("One row per scored track")  # a stage's view, described in dbt
    assert comments["track_features"].startswith("One row per track")  # a dbt model, through persist_docs
    assert comments["model_runs"].startswith("One row per trained model version")
    assert column == [("The track's name, as the catalog had it when the track was scored; null where it had none.",)]


def test_current_model_names_the_version_scoring_uses(scored_home, monkeypatch):
    monkeypatch.setenv(settings.HOME_VARIABLE, str(scored_home))

    assert published(scored_home, "select model_version from current_model") == [(registry.current().version,)]


def test_dbt_docs_list_the_stage_tables_and_the_exposures(scored_home):
    run_ok("moodcast.docs", home=scored_home)

    target = scored_home / "dbt" / "target"  # dbt's target/ lives with the warehouse, not in the checkout
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    documented = {node["metadata"]["name"] for node in catalog["sources"].values()}
    assert {"predictions", "track_predictions", "scoring_runs", "model_runs", "model_metrics", "model_confusion",
            "current_model", "model_feature_importance", "feature_drift", "class_mix"} <= documented
    assert {exposure["name"] for exposure in manifest["exposures"].values()} == {"predictions_export",
                                                                                  "moods_dashboard"}


def test_a_warehouse_an_earlier_moodcast_wrote_is_taken_over(trained, tmp_path):
    # Before publishing existed, the stages wrote moods.duckdb itself.
    shutil.rmtree(trained / "work")
    with duckdb.connect(str(trained / "moods.duckdb")) as connection:
        connection.execute("create table analysts_notes as select 1 as note")

    run_ok("score", home=trained)

    assert published(trained, "select count(*) from analysts_notes") == [(1,)]
    assert published(trained, "select count(*) from predictions") == [(SEED_TRACKS,)]


def test_a_bi_tool_opens_the_published_warehouse_read_only_with_the_documented_uri(scored_home):
    engine = sqlalchemy.create_engine(f"duckdb:///{scored_home / 'moods.duckdb'}?access_mode=read_only")

    with engine.connect() as bi_tool:
        rows = bi_tool.execute(sqlalchemy.text("select mood, count(*) from predictions group by mood order by mood"))
        counts = [tuple(row) for row in rows]
    engine.dispose()

    assert counts == published(scored_home, "select mood, count(*) from predictions group by mood order by mood")
    assert "duckdb:////data/moodcast/moods.duckdb?access_mode=read_only" in README


def test_a_work_file_in_duckdb_2_format_is_published_in_the_format_readers_open():
    settings.work_database_path().parent.mkdir(parents=True)
    with duckdb.connect(str(settings.work_database_path())) as by_hand:  # as `dbt build` run by hand makes it
        by_hand.execute("create table notes as select 1 as note")

    with warehouse.updating("test"):
        pass

    with duckdb.connect(str(settings.database_path()), read_only=True) as reader:
        assert reader.execute("select tags['storage_version'] from duckdb_databases() "
                              "where database_name = current_database()").fetchall() == [("v1.0.0+",)]
        assert reader.execute("select note from notes").fetchall() == [(1,)]


def blocks(*changed: int, count: int = 10) -> bytes:
    """count blocks of random bytes, those numbered in `changed` drawn differently."""
    drawn = random.Random(0).randbytes(count * PATCH_BLOCK_BYTES)
    return b"".join(bytes([block]) * PATCH_BLOCK_BYTES if block in changed
                    else drawn[block * PATCH_BLOCK_BYTES:(block + 1) * PATCH_BLOCK_BYTES] for block in range(count))


def test_publishing_patches_the_previous_snapshot_writing_only_the_blocks_that_differ(tmp_path):
    work, target = tmp_path / "work" / "moods.duckdb", tmp_path / "moods.duckdb"
    work.parent.mkdir()
    published = []
    for content in (blocks(), blocks(3), blocks(3, 7), blocks(3, 7, count=8)):
        work.write_bytes(content)
        published.append((copy_by_patching(work, target), target.read_bytes() == content))

    # The first two have no snapshot to patch; the third patches the first (blocks 3 and 7 differ), the fourth the
    # second (block 7 differs, and the file is two blocks shorter).
    assert published == [(10 * PATCH_BLOCK_BYTES, True), (10 * PATCH_BLOCK_BYTES, True),
                         (2 * PATCH_BLOCK_BYTES, True), (PATCH_BLOCK_BYTES, True)]
    assert (work.parent / PREVIOUS).read_bytes() == blocks(3, 7)


# Opens moods.duckdb read-only and reads table `first`; when told, reads table `second`, which it has not read yet.
SNAPSHOT_HOLDER = """
import sys, duckdb
connection = duckdb.connect(sys.argv[1], read_only=True)
print(connection.execute("select max(stage) from first").fetchall()[0][0], flush=True)
sys.stdin.readline()
print(connection.execute("select max(stage), sum(value) from second").fetchall()[0], flush=True)
"""
# A stage's rows: a value that differs from stage to stage in every row, so that every data block differs.
STAGE_ROWS = "select {stage} as stage, hash(range * {stage}) % 1000 as value from range(200000)"


def test_a_snapshot_a_reader_still_has_open_is_never_patched():
    def stage(number: int) -> None:
        with warehouse.updating("test") as connection:
            for table in ("first", "second"):
                connection.execute(f"create or replace table {table} as {STAGE_ROWS.format(stage=number)}")

    stage(1)
    holder = subprocess.Popen([sys.executable, "-c", SNAPSHOT_HOLDER, str(settings.database_path())],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    held = [holder.stdout.readline().strip()]
    stage(2)  # the held snapshot is now the previous one, which the next publish would patch
    stage(3)
    held.append(holder.communicate("\n", timeout=60)[0].strip())

    (first_stage,), = duckdb.sql(f"select sum(value) from ({STAGE_ROWS.format(stage=1)})").fetchall()
    assert held == ["1", f"(1, {first_stage})"]
    assert query("select max(stage) from second") == [(3,)]
