"""`make bench-spark` (`python -m bench spark`): `python -m score spark` against `python -m score --catalog`.

In a MOODCAST_HOME of its own: generate a catalog of --rows tracks (bench.__main__'s generator), train a
model quickly, score the catalog once with `python -m score --catalog` (one process) and then, in a fresh
process per master, `local[1]` and `local[2]`, with `python -m score spark`'s function: start a session,
run a first job, then the same job again (warm). CPU is counted for the whole process tree (driver, JVM,
Python workers) from /proc; peak RSS is the tree's, sampled. Figures:

  single_process         `python -m score --catalog`: wall and CPU seconds of the process, its own summary
  local[N]               session start, first and warm job (wall, CPU), rows/s warm, CPU-s per M rows warm
  scaling_efficiency     rows/s warm at local[2] ÷ (2 × rows/s warm at local[1]), each pinned to as many
                         cores as task slots (local[1]: one core for the JVM and its Python worker)
  startup_overhead_s     session start, and first job − warm job (local[2])
  cpu_per_m_rows_ratio   Spark's CPU-s per M rows (warm, local[2]) ÷ the single process's
  wall_ratio             Spark's warm job (local[2]) ÷ the single process's wall time
  where_time_goes        at local[2], warm: passes that stop earlier (`noop` sink): the JVM reading the
                         Parquet; + Arrow to the Python workers and back; + ingest's checks and the kernel;
                         and the whole job (+ writing Parquet, counting, publishing)
  agreement              moods and probabilities of the warm run against the single process's predictions

written to bench/spark-results-<date>.json.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.__main__ import SEED_CSV, SUMMARY, TRAINING, generate_catalog, measure_and_write, run
from bench.reference import step
from moodcast import settings
from moodcast.contract import PROBABILITY_COLUMNS

MASTERS = ("local[1]", "local[2]")
TARGETS = {"scaling_efficiency": 0.8, "cpu_per_m_rows_ratio": 3.0}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench spark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="tracks in the catalog (default: %(default)s)")
    parser.add_argument("--home", type=Path, help="MOODCAST_HOME to use and keep (default: a temporary one)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated catalog (default: %(default)s)")
    parser.add_argument("--output", type=Path, help="where to write the figures (default: "
                                                    "bench/spark-results-<date>.json)")
    return parser.parse_args(argv)


def tree(root: int) -> list[int]:
    """The process and its descendants, alive now."""
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    pending += [int(child) for child in children.read().split()]
        except OSError:  # it ended meanwhile
            continue
    return found


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of the tree: each live process's own and its reaped children's (a worker that ended counts)."""
    total = 0
    for pid in tree(root):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total / CLOCK_TICKS


def tree_rss_mb(root: int) -> float:
    total = 0
    for pid in tree(root):
        try:
            with open(f"/proc/{pid}/statm") as statm:
                total += int(statm.read().split()[1])
        except OSError:
            continue
    return total * PAGE_BYTES / 2**20


class PeakRss:
    """The tree's peak RSS, sampled twice a second in a thread."""

    def __init__(self, root: int):
        self.root, self.peak_mb, self.stopped = root, 0.0, threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self) -> None:
        while not self.stopped.wait(0.5):
            self.peak_mb = max(self.peak_mb, tree_rss_mb(self.root))

    def stop(self) -> float:
        self.stopped.set()
        self.thread.join()
        return round(self.peak_mb)


class Clock:
    """Wall and tree-CPU seconds of successive steps of this process."""

    def __init__(self):
        self.wall, self.cpu = time.monotonic(), tree_cpu_seconds(os.getpid())

    def lap(self) -> dict:
        wall, cpu = time.monotonic(), tree_cpu_seconds(os.getpid())
        lap = {"wall_s": round(wall - self.wall, 2), "cpu_s": round(cpu - self.cpu, 2)}
        self.wall, self.cpu = wall, cpu
        return lap


def spark_app(master: str, catalog: str, out: str, model_dir: str, breakdown: bool) -> dict:
    """One Spark application (this process): session start, a first job, a warm job, and the breakdown passes."""
    from pyspark.sql import functions as F

    from moodcast.model import registry
    from score.spark import SparkRun, batch_scoring, exported, read_catalog, score_on_spark, session

    # Pinned to as many cores as the master has task slots, which the JVM and the Python workers inherit: unpinned,
    # the JVM reads and writes Parquet beside local[1]'s one Python task, and local[1] used 1.6 of 2 cores.
    slots = int(master.removeprefix("local[").removesuffix("]"))
    os.sched_setaffinity(0, range(slots))
    peak = PeakRss(os.getpid())
    clock = Clock()
    figures = {"master": master, "cores": slots}
    spark = session(master)
    figures["session_start"] = clock.lap()
    model_version = registry.ModelVersion(Path(model_dir).name, Path(model_dir))
    for job in ("first_job", "warm_job"):
        manifest = score_on_spark(SparkRun(catalog, out, model_version, job.removesuffix("_job"), master=master))
        figures[job] = clock.lap() | {"manifest_seconds": manifest["seconds"]}
    rows = manifest["rows_scored"]
    figures["rows"] = rows
    figures["rows_per_s_warm"] = round(rows / figures["warm_job"]["wall_s"])
    figures["cpu_s_per_m_rows_warm"] = round(figures["warm_job"]["cpu_s"] / rows * 1e6, 3)
    if breakdown:
        scoring = batch_scoring(spark, SparkRun(catalog, out, model_version, "breakdown"))
        catalog_frame = read_catalog(spark, catalog, scoring)
        passes = {
            "jvm_reads_parquet": catalog_frame,
            "plus_arrow_to_python_and_back": catalog_frame.mapInArrow(lambda batches: (b.slice(0, 0) for b in batches),
                                                                      catalog_frame.schema),
            "plus_checks_and_kernel": exported(catalog_frame, scoring, model_version.version, datetime.now(UTC)),
        }
        figures["where_time_goes"] = {}
        for name, frame in passes.items():
            frame.withColumn("_", F.lit(1)).write.format("noop").mode("overwrite").save()
            figures["where_time_goes"][name] = clock.lap()
        figures["where_time_goes"]["whole_job"] = {key: figures["warm_job"][key] for key in ("wall_s", "cpu_s")}
    spark.stop()
    figures["peak_rss_mb"] = peak.stop()
    return figures


def measure_spark(master: str, catalog: Path, out: Path, model_dir: Path, breakdown: bool) -> dict:
    """spark_app in a process of its own, so each master gets a fresh JVM and its own CPU count."""
    command = [sys.executable, "-m", "bench.spark", "--app", master, str(catalog), str(out), str(model_dir)]
    result = subprocess.run(command + (["--breakdown"] if breakdown else []), capture_output=True, text=True,
                            cwd=settings.REPO_ROOT)
    if result.returncode != 0:
        raise SystemExit(f"the Spark application at {master} failed ({result.returncode}):\n{result.stderr[-5000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def single_process(home: Path, catalog: Path) -> dict:
    """`python -m score --catalog` in a process of its own: wall and CPU seconds, peak RSS, its summary."""
    environment = os.environ | {settings.HOME_VARIABLE: str(home)}
    with tempfile.TemporaryFile("w+") as output:
        started = time.monotonic()
        process = subprocess.Popen([sys.executable, "-m", "score", "--catalog", str(catalog)], env=environment,
                                   cwd=settings.REPO_ROOT, stdout=output, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - started
        output.seek(0)
        text = output.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"python -m score --catalog failed:\n{text}")
    scored, _, seconds, _, version, _ = SUMMARY.search(text.strip().splitlines()[-1]).groups()
    scored = int(scored.replace(",", ""))
    cpu = usage.ru_utime + usage.ru_stime
    return {"rows": scored, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "scoring_seconds": float(seconds),
            "cpu_s_per_m_rows": round(cpu / scored * 1e6, 3), "peak_rss_mb": usage.ru_maxrss // 1024,
            "model_version": version}


def agreement(home: Path, run_folder: Path) -> dict:
    """The Spark run's moods and probabilities against the single process's predictions, track by track."""
    import duckdb

    differences = ", ".join(f"abs(s.{p} - w.{p})" for p in PROBABILITY_COLUMNS)
    with duckdb.connect(str(home / "moods.duckdb"), read_only=True) as connection:
        rows, same_mood, max_difference = connection.execute(
            f"select count(*), avg((s.mood = w.mood)::int), max(greatest({differences})) "
            f"from read_parquet('{run_folder}/*.parquet') s join predictions w using (track_id)").fetchone()
    return {"rows_compared": rows, "mood_agreement": same_mood, "max_abs_prob_diff": max_difference}


def bench(args: argparse.Namespace, home: Path) -> dict:
    figures: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "rows": args.rows}
    catalog, out = home / "bench-catalog.parquet", home / "spark-out"
    home.mkdir(parents=True, exist_ok=True)
    step(f"generating {args.rows:,} tracks")
    generate_catalog(catalog, args.rows, args.seed)
    figures["catalog_mb"] = round(catalog.stat().st_size / 2**20, 1)
    step("training a model (ingest the seed, build, train)")
    run("ingest", "files", str(SEED_CSV), home=home)
    run("moodcast.build", home=home)
    run("train", *TRAINING, "--quiet", home=home)
    model_dir = next(path for path in (home / "models").iterdir() if path.is_dir() and not path.name.startswith("."))
    step("python -m score --catalog")
    figures["single_process"] = single_process(home, catalog)
    for master in MASTERS:
        step(f"python -m score spark at {master}")
        figures[master] = measure_spark(master, catalog, out, model_dir, breakdown=master == MASTERS[-1])
    one, two = (figures[master] for master in MASTERS)
    figures["scaling_efficiency"] = round(two["rows_per_s_warm"] / (2 * one["rows_per_s_warm"]), 3)
    figures["startup_overhead_s"] = {"session_start": two["session_start"]["wall_s"],
                                     "first_minus_warm_job": round(two["first_job"]["wall_s"]
                                                                   - two["warm_job"]["wall_s"], 2)}
    figures["cpu_per_m_rows_ratio"] = round(two["cpu_s_per_m_rows_warm"]
                                            / figures["single_process"]["cpu_s_per_m_rows"], 2)
    figures["wall_ratio"] = round(two["warm_job"]["wall_s"] / figures["single_process"]["wall_s"], 2)
    step("agreement")
    figures["agreement"] = agreement(home, out / "run=warm")
    figures["targets"] = TARGETS
    figures["targets_met"] = {name: figures[name] >= target if name == "scaling_efficiency" else
                              figures[name] <= target for name, target in TARGETS.items()}
    from importlib.metadata import version

    figures["machine"] = {"cpus": os.cpu_count(), "load_average_at_end": os.getloadavg()} | {
        name: version(name) for name in ("pyspark", "polars", "pyarrow", "numba", "duckdb")}
    return figures


def main(argv: list[str]) -> None:
    measure_and_write(bench, parse_args(argv), "spark-results")


if __name__ == "__main__":  # the Spark application measure_spark starts: --app MASTER CATALOG OUT MODEL_DIR
    master, catalog_uri, out_uri, model = sys.argv[2:6]
    print(json.dumps(spark_app(master, catalog_uri, out_uri, model, breakdown="--breakdown" in sys.argv)))
