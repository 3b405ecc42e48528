"""`python -m score spark`: score a catalog of Parquet files on Spark, with the same checks, kernel and answers.

For catalogs one machine cannot hold (on one machine `python -m score --catalog` is faster). The catalog is
read partition-parallel (`spark.read.parquet`: a file, a folder or a glob, in any schema `python -m ingest
files` takes, through the same column spellings and mapping file) and each Arrow batch is checked by ingest's
own rules and scored by moodcast's kernel in Spark's Python workers (score.spark_worker). The mood and the
confidence come from the probabilities by the expressions of the `predictions` view (score.store.DERIVED).
Nothing is collected to the driver.

    OUT/run=ID/*.parquet     track_id, mood, confidence, p_calm … p_sad, model_version, scored_at (+ the names)
    OUT/run=ID/rejects/      rows that cannot be scored: source_file, source_row, track_reference, reason, raw_record
    OUT/run=ID/_manifest.json  rows read, scored and rejected, the model, timings
    OUT/CURRENT              `run=ID` of the last run that completed

A run is written by Spark's committer to OUT/_staging/ and moved into place, then CURRENT is replaced: a
run that fails leaves CURRENT and the runs before it as they were; a run with the id of an earlier one
replaces it. The one entry point is `score_on_spark`, which takes its Spark session from
`SparkSession.builder.getOrCreate()` only (so Spark Connect works too): `python -m score spark` and
`spark-submit score/spark_job.py` both call it.
"""

import argparse
import json
import logging
import os
import re
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
from pyarrow import fs

from ingest.files import NO_MAPPING, resolve_columns
from ingest.mapping import ColumnMapping, read_mapping
from moodcast.contract import PROBABILITY_COLUMNS
from moodcast.errors import BadInputError, MoodcastError, NotReadyError
from moodcast.model import registry
from moodcast.model.weights import model_digest
from score.engines import BATCH_ROWS, engine_for
from score.export import EXPORTED_COLUMNS
from score.spark_worker import NAME_COLUMNS, REJECTS_SCHEMA, BatchScoring, rejected_batches, scored_batches
from score.store import DERIVED

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger("score")

SPARK_SETTINGS = {
    # A task per 16 MB of Parquet (about 350 k tracks), so a catalog of a few files still spreads over every
    # core; at Spark's default, 128 MB, eight small files became three tasks.
    "spark.sql.files.maxPartitionBytes": str(16 << 20),
    # Rows per Arrow batch handed to a worker: Spark's default, 10,000, spends more on each call than on the rows.
    "spark.sql.execution.arrow.maxRecordsPerBatch": str(BATCH_ROWS),
    # scored_at as a plain Parquet timestamp rather than Spark's default INT96, which readers are deprecating.
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}
CURRENT_FILE = "CURRENT"
MANIFEST_FILE = "_manifest.json"  # Spark's readers skip names starting with _ (DuckDB's globs of *.parquet too)
STAGING_DIR = "_staging"
SPARK_TYPES = {pa.string(): "string", pa.float32(): "float", pa.int64(): "bigint"}
PYARROW_SCHEMES = {"s3a": "s3", "s3n": "s3"}  # Hadoop's names for S3 (what Spark users write), and pyarrow's
SPARK_ERROR = re.compile(r"\[[A-Z][A-Z0-9_.]+\][^\n]*")  # e.g. "[FAILED_READ_FILE.NO_HINT] Encountered error …"
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `python -m score spark` and of `spark-submit score/spark_job.py`."""
    parser.add_argument("--catalog", required=True, metavar="URI",
                        help="Parquet file(s) of tracks: a file, a folder or a glob, on any file system Spark reads")
    parser.add_argument("--out", required=True, metavar="URI", help="the folder the runs and CURRENT are written to")
    model = parser.add_mutually_exclusive_group()
    model.add_argument("--model", metavar="VERSION",
                       help="score with this version of $MOODCAST_HOME's registry (default: the current one)")
    model.add_argument("--model-dir", type=Path, metavar="PATH",
                       help="score with the model version in this folder (a copy of one in models/), read by the "
                            "driver")
    parser.add_argument("--mapping", type=Path, metavar="TOML",
                        help="how the catalog spells moodcast's columns, as for `python -m ingest files`")
    parser.add_argument("--master", metavar="M",
                        help="Spark master for a session this command starts (default: local[*]; under "
                             "spark-submit, spark-submit's)")
    parser.add_argument("--run-id", metavar="ID",
                        help="name of the run: OUT/run=ID (default: the time, e.g. 20261201T103000Z); a rerun of an "
                             "id replaces it")


@dataclass(frozen=True)
class SparkRun:
    catalog: str
    out: str
    model_version: registry.ModelVersion
    run_id: str
    mapping: ColumnMapping = NO_MAPPING
    master: str | None = None


def run_from_arguments(args: argparse.Namespace) -> SparkRun:
    if args.model_dir:
        folder = args.model_dir.resolve()
        metadata = registry.ModelVersion(folder.name, folder).metadata()  # a folder that is no model version fails
        # Named as training named it: a copy's folder may be named otherwise (`.`, where spark-submit --files put it).
        model_version = registry.ModelVersion(metadata.get("version", folder.name), folder)
    else:
        model_version = registry.get(args.model) if args.model else registry.current()
    run_id = args.run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if not RUN_ID.match(run_id):
        raise BadInputError(f"--run-id {run_id!r}: use letters, digits, '.', '_' and '-' (it names a folder)")
    return SparkRun(as_uri(args.catalog), as_uri(args.out), model_version, run_id,
                    read_mapping(args.mapping) if args.mapping else NO_MAPPING, args.master)


def as_uri(location: str) -> str:
    """A URI as it is; a local path made absolute (the driver's working directory is not the executors')."""
    return location if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", location) else os.path.abspath(location)


def session(master: str | None) -> "SparkSession":
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise NotReadyError("Spark is not installed: `pip install 'moodcast[spark]'` (or `make test-spark`), "
                            "or run this under spark-submit") from None
    if master is None or master.startswith("local"):
        # Local workers run the system's Python unless told which: it lacks moodcast and pyarrow.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # Spark's console progress bars would bury the command's own lines (they apply to a session started here).
    builder = SparkSession.builder.appName("moodcast score").config("spark.ui.showConsoleProgress", "false")
    try:
        return (builder.master(master) if master else builder).getOrCreate()
    except Exception as error:  # pyspark raises a plain runtime error when the JVM does not start
        if "JAVA_GATEWAY_EXITED" in str(error) or "JAVA_HOME" in str(error):
            raise NotReadyError("Spark could not start its JVM: it needs Java 17 or later (`java -version`); "
                                "install one (e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME") \
                from None
        raise


def score_on_spark(run: SparkRun) -> dict:
    """Score the catalog into OUT/run=ID, then point OUT/CURRENT at it; the run's manifest."""
    started = time.monotonic()
    spark = session(run.master)
    for key, value in SPARK_SETTINGS.items():
        spark.conf.set(key, value)
    scoring = batch_scoring(spark, run)
    catalog = read_catalog(spark, run.catalog, scoring)
    staging = f"{run.out}/{STAGING_DIR}/run={run.run_id}-{uuid.uuid4().hex[:8]}"
    scored_at = datetime.now(UTC)
    timings = {"set_up": time.monotonic() - started}
    files = OutputFolder(run.out)
    try:
        exported(catalog, scoring, run.model_version.version, scored_at).write.option("compression", "zstd") \
            .parquet(staging)
        timings["score_and_write"] = time.monotonic() - started - sum(timings.values())
        read, scored = catalog.count(), spark.read.parquet(staging).count()  # from the files' footers
        rejects(spark, run.catalog, scoring, rejected=read - scored).write.option("compression", "zstd") \
            .parquet(f"{staging}/rejects")
        timings["count_and_rejects"] = time.monotonic() - started - sum(timings.values())
        manifest = {
            "run_id": run.run_id, "catalog": run.catalog, "model_version": run.model_version.version,
            "model_sha256": scoring.model_sha256, "scored_at": scored_at.isoformat(),
            "rows_read": read, "rows_scored": scored, "rows_rejected": read - scored,
            "seconds": {name: round(value, 2) for name, value in timings.items()}
            | {"total": round(time.monotonic() - started, 2)},
            "spark_version": spark.version,
        }
        files.write_text(f"{staging}/{MANIFEST_FILE}", json.dumps(manifest, indent=2) + "\n")
    except Exception as error:
        files.remove(staging)
        if isinstance(error, MoodcastError):
            raise
        raise MoodcastError(f"the Spark job scoring {run.catalog} failed: {first_line(error)}. Nothing was "
                            f"published: {run.out}/{CURRENT_FILE} still names the last run that completed") from error
    files.publish(staging, f"run={run.run_id}")
    return manifest


def batch_scoring(spark: "SparkSession", run: SparkRun) -> BatchScoring:
    """What the workers need: the model's kernel weights (built on the driver, Keras only if it has none saved),
    and the catalog's columns, resolved by ingest's rules from its schema (no row is read)."""
    try:
        header = spark.read.parquet(run.catalog).columns
    except Exception as error:  # Spark reads only the footers here: what fails is the catalog (missing, not Parquet)
        raise BadInputError(f"{run.catalog}: cannot be read as Parquet ({first_line(error)}); --catalog takes "
                            "Parquet files (a file, a folder or a glob): convert a CSV file with `python -c \"import "
                            "polars as pl; pl.read_csv('tracks.csv').write_parquet('tracks.parquet')\"`") from None
    columns = resolve_columns(header, run.catalog, run.mapping)
    weights = engine_for(run.model_version, "kernel").kernel.weights
    return BatchScoring(model_digest(run.model_version.path), weights,
                        tuple(run.model_version.metadata()["features"]), columns, run.mapping,
                        tuple(name for name in NAME_COLUMNS if name in columns))


def read_catalog(spark: "SparkSession", catalog: str, scoring: BatchScoring, *more) -> "DataFrame":
    """The catalog's columns that ingest's checks read (only those are read from the files), then `more`."""
    return spark.read.parquet(catalog).select(*(f"`{column}`" for column in sorted(set(scoring.columns.values()))),
                                              *more)


def exported(catalog: "DataFrame", scoring: BatchScoring, model_version: str, scored_at: datetime) -> "DataFrame":
    """The export's columns: the workers' probabilities, then the mood and confidence as the predictions view
    derives them (its SQL, which Spark reads too), the model version and the time."""
    from pyspark.sql import functions as F

    probabilities = catalog.mapInArrow(partial(scored_batches, scoring), spark_ddl(scoring.scored_schema())).alias("p")
    derived = {"mood": F.expr(DERIVED["mood"]), "confidence": F.expr(DERIVED["confidence"]),
               "model_version": F.lit(model_version), "scored_at": F.lit(scored_at)}
    present = {"track_id", *PROBABILITY_COLUMNS, *scoring.names, *derived}
    return probabilities.select(*(derived.get(column, F.col(column)).alias(column)
                                  for column in EXPORTED_COLUMNS if column in present))


def rejects(spark: "SparkSession", catalog: str, scoring: BatchScoring, rejected: int) -> "DataFrame":
    """The rows that could not be scored, with ingest's reasons and where they are. A second pass over the catalog,
    made only when the first found such rows: a clean catalog is read once."""
    if rejected == 0:
        return spark.createDataFrame([], spark_ddl(REJECTS_SCHEMA))
    from pyspark.sql import functions as F

    located = read_catalog(spark, catalog, scoring, F.col("_metadata.file_path").alias("source_file"),
                           (F.col("_metadata.row_index") + 1).alias("source_row"))
    return located.mapInArrow(partial(rejected_batches, scoring), spark_ddl(REJECTS_SCHEMA))


def spark_ddl(schema: pa.Schema) -> str:
    """The Arrow schema the workers yield, as the Spark schema mapInArrow is promised."""
    return ", ".join(f"`{field.name}` {SPARK_TYPES[field.type]}" for field in schema)


def first_line(error: BaseException) -> str:
    """What went wrong, in one line: Spark's error class and message (under py4j's and the JVM's wrapping), or
    else the error's first line."""
    text = str(error)
    found = SPARK_ERROR.search(text)
    return (found.group(0).strip() if found else next((line.strip() for line in text.splitlines() if line.strip()),
                                                     type(error).__name__))[:500]


class OutputFolder:
    """The output folder, through pyarrow's file systems (local, HDFS, S3, GCS, Azure): the driver writes the
    manifest and CURRENT and moves runs without Spark's JVM, which Spark Connect does not expose."""

    def __init__(self, out: str):
        scheme, separator, rest = out.partition("://")
        self.fs, self.root = fs.FileSystem.from_uri(f"{PYARROW_SCHEMES.get(scheme, scheme)}://{rest}"
                                                    if separator else out)
        self.out = out

    def path(self, uri: str) -> str:
        return self.root + uri.removeprefix(self.out)

    def exists(self, path: str) -> bool:
        return self.fs.get_file_info(path).type != fs.FileType.NotFound

    def write_text(self, uri: str, text: str) -> None:
        """Written under a temporary name and moved onto `uri`: readers see the old content or the new."""
        temporary = f"{uri}.{uuid.uuid4().hex[:8]}.tmp"
        with self.fs.open_output_stream(self.path(temporary)) as stream:
            stream.write(text.encode())
        self.fs.move(self.path(temporary), self.path(uri))

    def remove(self, uri: str) -> None:
        if self.exists(self.path(uri)):
            self.fs.delete_dir(self.path(uri))

    def move_folder(self, source: str, target: str) -> None:
        """Renamed where the file system renames folders (local, HDFS); object stores (S3, GCS) move objects
        only: there the files move one by one, and readers of that run id may see it half-moved meanwhile."""
        try:
            self.fs.move(source, target)
        except (NotImplementedError, OSError):
            if self.exists(target):
                raise
            for found in self.fs.get_file_info(fs.FileSelector(source, recursive=True)):
                if found.type == fs.FileType.File:
                    self.fs.move(found.path, target + found.path.removeprefix(source))
            self.fs.delete_dir(source)

    def publish(self, staging: str, run: str) -> None:
        """Move the staged run into place (replacing one of the same name), then point CURRENT at it."""
        target, replaced = self.path(f"{self.out}/{run}"), f"{staging}-replaced"
        if self.exists(target):
            self.move_folder(target, self.path(replaced))
        self.move_folder(self.path(staging), target)
        self.write_text(f"{self.out}/{CURRENT_FILE}", run + "\n")
        self.remove(replaced)


def summary(manifest: dict) -> str:
    return (f"scored {manifest['rows_scored']:,} tracks, rejected {manifest['rows_rejected']:,} in "
            f"{manifest['seconds']['total']:.1f} s with model {manifest['model_version']}: "
            f"run={manifest['run_id']} is CURRENT")
