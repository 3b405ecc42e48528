"""One Spark session for all the Spark tests: local[2], as `make test-spark` promises, and nothing collected.

spark.driver.maxResultSize is 1 MB for every test: a run that collected its rows to the driver would fail.
"""

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from pyspark.sql import SparkSession

from moodcast.model import registry
from tests.conftest import SEED_CSV

MAX_RESULT_SIZE = "1m"


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers must run this environment's Python
    session = (SparkSession.builder.master("local[2]").appName("moodcast tests")
               .config("spark.driver.maxResultSize", MAX_RESULT_SIZE)
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .getOrCreate())
    yield session
    session.stop()


@pytest.fixture(scope="session")
def model_version(trained_home: Path) -> registry.ModelVersion:
    """The model trained once per session, by its folder (as `--model-dir` names one)."""
    folder, = (path for path in (trained_home / "models").iterdir() if path.is_dir() and not path.name.startswith("."))
    return registry.ModelVersion(folder.name, folder)


@pytest.fixture(scope="session")
def seed_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed data (686 tracks) as one Parquet file, in the columns `python -m ingest files` takes."""
    path = tmp_path_factory.mktemp("catalog") / "seed.parquet"
    pl.read_csv(SEED_CSV).write_parquet(path)
    return path


@pytest.fixture(scope="session")
def seed_in_eight_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same tracks split over eight Parquet files in one folder."""
    folder = tmp_path_factory.mktemp("eight")
    seed = pl.read_csv(SEED_CSV)
    for part in range(8):
        seed[part * seed.height // 8:(part + 1) * seed.height // 8].write_parquet(folder / f"part-{part}.parquet")
    return folder
