"""`python -m score spark`: the same answers as `python -m score --catalog`, published safely, nothing collected."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from moodcast import settings
from moodcast.contract import PROBABILITY_COLUMNS
from moodcast.errors import BadInputError, MoodcastError
from score.spark import SparkRun, score_on_spark
from tests.conftest import SEED_CSV, run_ok


def run_on_spark(catalog: Path, out: Path, model_version, run_id: str = "r1") -> dict:
    return score_on_spark(SparkRun(str(catalog), str(out), model_version, run_id))


def read(folder: Path, columns: str = "*") -> list[tuple]:
    return duckdb.sql(f"select {columns} from read_parquet('{folder}/*.parquet') order by all").fetchall()


def listing(folder: Path) -> dict[str, int]:
    return {str(path.relative_to(folder)): path.stat().st_size for path in folder.rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def first_run(spark, model_version, seed_in_eight_files, tmp_path_factory) -> tuple[Path, dict]:
    """The seed's tracks, in eight files, scored once for the tests that only read the result."""
    out = tmp_path_factory.mktemp("out")
    return out, run_on_spark(seed_in_eight_files, out, model_version)


def test_agrees_with_score_catalog(first_run, trained, seed_parquet):
    out, _ = first_run
    run_ok("score", "--catalog", str(seed_parquet), home=trained)
    probabilities = ", ".join(PROBABILITY_COLUMNS)
    with duckdb.connect(str(settings.database_path()), read_only=True) as connection:
        expected = connection.execute(f"select track_id, mood, {probabilities} from predictions order by 1").fetchall()
    got = read(out / "run=r1", f"track_id, mood, {probabilities}")

    assert [row[:2] for row in got] == [row[:2] for row in expected]
    differences = [abs(a - b) for g, e in zip(got, expected, strict=True) for a, b in zip(g[2:], e[2:], strict=True)]
    assert max(differences) <= 1e-6


def test_eight_files_are_scored_in_parallel_parts(first_run):
    out, manifest = first_run

    assert len(list((out / "run=r1").glob("part-*.parquet"))) >= 2
    assert (manifest["rows_read"], manifest["rows_scored"], manifest["rows_rejected"]) == (686, 686, 0)
    assert (out / "CURRENT").read_text() == "run=r1\n"
    assert json.loads((out / "run=r1" / "_manifest.json").read_text()) == manifest


def test_a_catalog_far_larger_than_max_result_size_scores(spark, model_version, tmp_path):
    catalog = tmp_path / "large.parquet"
    pl.concat([pl.read_csv(SEED_CSV)] * 300).write_parquet(catalog)  # 205,800 rows, ~10 MB of predictions

    manifest = run_on_spark(catalog, tmp_path / "out", model_version)

    assert spark.conf.get("spark.driver.maxResultSize") == "1m"
    assert manifest["rows_scored"] == 205_800


def test_a_rerun_of_a_run_id_replaces_it(spark, model_version, seed_parquet, tmp_path):
    out = tmp_path / "out"
    run_on_spark(seed_parquet, out, model_version)
    first = read(out / "run=r1", "track_id, mood")

    run_on_spark(seed_parquet, out, model_version)

    assert read(out / "run=r1", "track_id, mood") == first
    assert sorted(path.name for path in out.iterdir()) == ["CURRENT", "_staging", "run=r1"]


def test_a_failed_run_leaves_current_and_the_last_run_intact(spark, model_version, seed_in_eight_files, tmp_path):
    out, damaged = tmp_path / "out", tmp_path / "damaged"
    run_on_spark(seed_in_eight_files, out, model_version)
    before = listing(out)
    shutil.copytree(seed_in_eight_files, damaged)
    last = damaged / "part-7.parquet"
    last.write_bytes(last.read_bytes()[:300])  # a file cut short: the job fails reading it

    with pytest.raises(MoodcastError, match=r"the Spark job scoring .* failed: .*part-7\.parquet.*CURRENT still names"):
        run_on_spark(damaged, out, model_version)  # the same run id: the run it would replace must survive

    assert listing(out) == before


def test_a_catalog_without_a_feature_is_refused_by_name(spark, model_version, tmp_path):
    catalog = tmp_path / "no-energy.parquet"
    pl.read_csv(SEED_CSV).drop("energy").write_parquet(catalog)

    with pytest.raises(BadInputError, match=r"no-energy.parquet: missing required column\(s\): energy"):
        run_on_spark(catalog, tmp_path / "out", model_version)


def test_a_catalog_that_is_not_parquet_is_refused_clearly(spark, model_version, tmp_path):
    catalog = tmp_path / "tracks.csv"
    shutil.copy(SEED_CSV, catalog)

    with pytest.raises(BadInputError, match=r"tracks.csv: cannot be read as Parquet .*--catalog takes Parquet files"):
        run_on_spark(catalog, tmp_path / "out", model_version)


def test_rows_that_cannot_be_scored_are_rejected_with_their_reasons(spark, model_version, tmp_path):
    catalog = tmp_path / "bad-rows.parquet"
    seed = pl.read_csv(SEED_CSV).head(10).with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("not-an-id")).otherwise(pl.col("id")).alias("id"),
        pl.when(pl.int_range(pl.len()) == 6).then(999.0).otherwise(pl.col("tempo")).alias("tempo"))
    seed.write_parquet(catalog)

    manifest = run_on_spark(catalog, tmp_path / "out", model_version)

    assert (manifest["rows_scored"], manifest["rows_rejected"]) == (8, 2)
    assert read(tmp_path / "out" / "run=r1" / "rejects", "source_file, source_row, reason") == [
        (f"file:{catalog}", 3, "track id is not a Spotify track ID, URI or URL: 'not-an-id'"),
        (f"file:{catalog}", 7, "tempo is out of range (0 ≤ value ≤ 300): 999.0"),
    ]


def test_the_spark_submit_entry_runs(spark, model_version, seed_parquet, tmp_path):
    out, shipped = tmp_path / "out", tmp_path / "shipped-model"  # a copy, named otherwise, as a cluster gets it
    shutil.copytree(model_version.path, shipped)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "spark-submit"), "--master", "local[1]", "score/spark_job.py",
         "--catalog", str(seed_parquet), "--out", str(out), "--model-dir", str(shipped), "--run-id", "s1"],
        cwd=settings.REPO_ROOT, env=os.environ | {"PYSPARK_PYTHON": sys.executable}, capture_output=True, text=True,
        timeout=600)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "scored 686 tracks, rejected 0 in" in result.stdout
    assert f"with model {model_version.version}: run=s1 is CURRENT" in result.stdout
    assert (out / "CURRENT").read_text() == "run=s1\n"
