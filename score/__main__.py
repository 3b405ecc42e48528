"""`python -m score`: predict the mood of the tracks in `track_features` with the current model.

Incremental: scores only tracks that are new, whose features changed, or whose prediction came from
another model version (`--full-refresh` rescores them all), and removes predictions of tracks gone
from the catalog. `predictions` (one row per track: mood, confidence, the four probabilities,
model_version, scored_at, and the track's name and artist) changes in one transaction; a killed run changes
nothing. Each run then publishes it as Parquet in $MOODCAST_HOME/exports/predictions/ (and the evaluation
tables in exports/), publishes $MOODCAST_HOME/moods.duckdb for readers, and prints how many tracks have
each mood and, last, how many were scored and skipped, and how fast.

One scoring run at a time: another one waits for it, and a run waits for another stage changing the
warehouse, up to MOODCAST_LOCK_TIMEOUT seconds (default 300); then it stops with exit code 75. Readers
of moods.duckdb never make it wait.

Each run that changes predictions measures how the catalog differs from the model's training data
(feature_drift, class_mix; see score.drift) and warns, one line per feature, when one has drifted
significantly; `--report` then writes the run's HTML report (`python -m score report`).

`python -m score --catalog PATH` scores a CSV or Parquet file of tracks (the columns `python -m ingest
files` takes) instead of track_features. `python -m score track ID_OR_URI_OR_URL` predicts the mood
of one track, writing nothing (`--explain`: why this mood). `python -m score spark` scores Parquet catalogs on
Spark (docs/spark.md).
"""

import argparse
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from moodcast import cli, warehouse
from moodcast.exports import export_evaluation
from moodcast.model import registry
from moodcast.progress import progress_display
from moodcast.track_ids import parse_track_id
from score import report
from score.catalog import Outcome, score_catalog
from score.drift import record_drift, recorded_mood_counts
from score.engines import ENGINES, clear_scratch
from score.export import export_predictions
from score.plan import WAREHOUSE_CATALOG
from score.store import mood_counts

log = logging.getLogger("score")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m score", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", metavar="VERSION",
                        help="score with this model version instead of the current one (see `python -m train list`)")
    parser.add_argument("--catalog", type=Path, metavar="PATH",
                        help="score this CSV or Parquet file of tracks instead of track_features")
    parser.add_argument("--full-refresh", action="store_true",
                        help="rescore every track, even those already predicted by this model from the same features")
    parser.add_argument("--history", action="store_true",
                        help="also append this run's predictions to prediction_history (one row per track, model "
                             "version and features), to follow how a track's mood changes between models")
    parser.add_argument("--engine", choices=ENGINES, default="auto",
                        help="how to compute: the native kernel (every model `python -m train` exports), Keras on "
                             "Arrow batches (any model), or the kernel when it takes the model, else Keras "
                             "(default: %(default)s)")
    parser.add_argument("--report", action="store_true",
                        help="after a successful run, write its HTML report under $MOODCAST_HOME/reports/")
    parser.add_argument("--quiet", action="store_true", help="log warnings and errors only")
    commands = parser.add_subparsers(dest="command", title="instead of the whole catalog")
    named = set(argv)
    for name, (summary_line, add_arguments) in COMMANDS.items():
        command = commands.add_parser(name, help=summary_line, formatter_class=argparse.RawDescriptionHelpFormatter)
        if name in named:
            add_arguments(command)
        command.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS,
                             help="log warnings and errors only")
    return parser.parse_args(argv)


def add_track_arguments(one: argparse.ArgumentParser) -> None:
    from ingest.spotify.command import add_fetch_options
    from score import track

    one.description = track.__doc__
    one.add_argument("reference", metavar="ID_OR_URI_OR_URL",
                     help="a Spotify track ID, spotify:track: URI or open.spotify.com URL")
    add_fetch_options(one)  # used when the warehouse lacks the track
    one.add_argument("--explain", action="store_true",
                     help="also say why: each feature's contribution to the mood's probability (exact Shapley "
                          "values against the training mean), largest first")


def add_report_arguments(page: argparse.ArgumentParser) -> None:
    page.description = report.__doc__
    page.add_argument("--run", type=int, metavar="ID", help="the run (scoring_runs.run_id; default: the latest)")


def add_spark_arguments(on_spark: argparse.ArgumentParser) -> None:
    from score import spark

    on_spark.description = spark.__doc__
    spark.add_arguments(on_spark)


# The commands besides scoring the catalog. Each adds its options, and imports its modules (Spotify's client,
# polars, pyspark), only when named: a second or two of imports that a nightly run does without.
COMMANDS = {
    "track": ("predict the mood of one track", add_track_arguments),
    "report": ("write a scoring run's HTML report", add_report_arguments),
    "spark": ("score Parquet catalogs on Spark, into Parquet files", add_spark_arguments),
}


def format_counts(counts: list[tuple[str, int, float, float]]) -> str:
    lines = [f"{'mood':<10} {'tracks':>8} {'share':>7} {'mean confidence':>16}"]
    lines += [
        f"{mood:<10} {tracks:>8} {100 * share:>6.1f}% {confidence:>16.3f}" for mood, tracks, share, confidence in counts
    ]
    lines.append(f"{'total':<10} {sum(row[1] for row in counts):>8}")
    return "\n".join(lines)


def summary(outcome: Outcome, version: str) -> str:
    removed = f", removed {outcome.removed:,} gone from the catalog" if outcome.removed else ""
    nothing = "nothing to score: " if not (outcome.scored or outcome.removed) else ""
    return (f"{nothing}scored {outcome.scored:,} tracks, skipped {outcome.skipped:,} unchanged{removed} in "
            f"{outcome.seconds:.2f} s ({outcome.rows_per_s:,.0f} rows/s) with model {version} ({outcome.engine})")


def score(args: argparse.Namespace, model_version: registry.ModelVersion) -> None:
    with warehouse.exclusive("score", "scoring run"), progress_display(args.quiet) as progress:
        clear_scratch()
        try:
            features = model_version.metadata()["features"]
            if args.catalog:
                from score.catalog_file import file_catalog  # polars, which reads the file, only when there is one

                catalog = file_catalog(args.catalog, features)
            else:
                catalog = WAREHOUSE_CATALOG
            # The predictions export reads what moods.duckdb publishes, while its bytes are copied.
            with warehouse.updating("scoring run", alongside=export_predictions) as connection:
                outcome = score_catalog(connection, model_version, datetime.now(UTC), catalog,
                                        full_refresh=args.full_refresh, history=args.history, engine=args.engine,
                                        progress=progress)
                changed = outcome.scored or outcome.removed
                # Unchanged predictions: the counts the last run recorded with them (0.3 s to count 10 M again).
                counts = (None if changed else recorded_mood_counts(connection)) or mood_counts(connection)
                drifts = []
                if changed:  # a run was recorded: its catalog is measured
                    (run_id,), = connection.execute("select max(run_id) from scoring_runs").fetchall()
                    drifts = record_drift(connection, run_id, model_version, catalog.relation, counts)
                export_evaluation(connection)
        finally:
            clear_scratch()
    for drift in drifts:
        if drift.level == "significant":
            log.warning(drift.warning(model_version.version))
    print(format_counts(counts))
    print(summary(outcome, model_version.version))
    if args.report:
        print(f"report: {report.write_report()}")


def main() -> None:
    args = parse_args()
    cli.configure_logging(args.quiet)
    if args.command == "report":  # reads the warehouse only: no model to load
        print(report.write_report(args.run))
        return
    if args.command == "spark":
        from score import spark

        print(spark.summary(spark.score_on_spark(spark.run_from_arguments(args))))
        return
    model_version = registry.get(args.model) if args.model else registry.current()
    if args.command == "track":
        from ingest.spotify.retry import RetryPolicy
        from score import track

        track_id = parse_track_id(args.reference)
        policy = RetryPolicy(max_retry_after_s=args.max_retry_after)
        print(track.score_track(track_id, args.features, policy, model_version, args.explain))
        return
    score(args, model_version)


if __name__ == "__main__":
    cli.run(main)
