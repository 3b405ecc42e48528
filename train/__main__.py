"""`python -m train`: fit the mood classifier on `training_examples`, evaluate it, export a version.

Writes `$MOODCAST_HOME/models/<version>/` (model.keras with its preprocessing inside, kernel.npz
with the same model in the native scoring kernel's form, metadata.json, report.md and pictures), the
version's rows in `model_runs`, `model_metrics` and `model_confusion`, and makes it the current model.

  python -m train                      train with the default knobs (see the options below)
  python -m train list                 the versions, their metrics, and which one is current
  python -m train promote VERSION      make another version the current model
  python -m train reproduce            the article's protocol on its own data, next to its figures
  python -m train compare              moodcast's model, the article's and two baselines on the same folds
  python -m train evaluate --labels F  a model version measured on a labelled file of yours
"""

import argparse
import json
import logging
import platform
import shutil
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path

import tensorflow as tf

from ingest.mapping import ColumnMapping, read_mapping
from moodcast import cli, settings, warehouse
from moodcast.contract import CLASSES, FEATURES
from moodcast.errors import BadInputError
from moodcast.exports import export_evaluation
from moodcast.model import registry
from moodcast.model.explain import global_importance
from moodcast.model.extract import save_weights_of
from moodcast.model.profile import baseline, training_profile
from train import compare, reproduce
from train.config import TrainConfig, add_arguments, from_arguments
from train.data import Examples, check_enough, read_examples
from train.evaluate import evaluate
from train.labelled_file import LabelledFile, read_labelled
from train.model import predict_probabilities
from train.report import evaluation_report, markdown_report, save_pictures, save_reliability, text_report
from train.runs import Measured, record_evaluation, record_promotion, record_run
from train.training import TrainingOutcome, train_and_evaluate

log = logging.getLogger("train")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--no-promote", action="store_true",
                        help="export the new version without making it the current model")
    parser.add_argument("--quiet", action="store_true", help="log warnings and errors only")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("list", help="list model versions with their metrics",
                        description="List model versions with their metrics; * marks the current one.")
    promote = commands.add_parser("promote", help="make VERSION the current model",
                                  description="Make VERSION the current model: the one `python -m score` uses.")
    promote.add_argument("version", metavar="VERSION")
    commands.add_parser("reproduce", help="run the article's protocol on its data and compare with its figures",
                        description=reproduce.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    compare_parser = commands.add_parser(
        "compare", help="compare the default model, the article's and two baselines on the same folds",
        description=compare.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    compare_parser.add_argument("--repeats", type=int, default=3,
                                help="repeats of the stratified k-fold, each with other folds (default: 3)")
    compare_parser.add_argument("--max-epochs", type=int, metavar="N",
                                help="cap every network's epochs at N: a quick check that the comparison runs on "
                                     "your data, not a comparison (default: each model's own)")
    compare_parser.add_argument(
        "--external", type=Path, action="append", default=[], metavar="FILE",
        help="a labelled file (any schema ingest accepts) to measure every model on, trained on all of "
        "training_examples; repeatable")
    evaluate_parser = commands.add_parser(
        "evaluate", help="measure a model version on a labelled file of yours",
        description="Score a labelled CSV or Parquet file (any schema `ingest files` accepts) with a model "
        "version and report accuracy, balanced accuracy, macro-F1, per-mood figures, the confusion matrix, "
        "calibration and a reliability plot; the figures go to model_evaluations, model_metrics and "
        "model_confusion, with evaluated_on = '<file name>@<fingerprint>'.")
    evaluate_parser.add_argument("--labels", type=Path, required=True, metavar="FILE",
                                 help="the labelled file: a track id, the 10 features and a mood per row")
    evaluate_parser.add_argument("--model", metavar="VERSION", help="the version to measure (default: the current)")
    for subparser in (compare_parser, evaluate_parser):
        subparser.add_argument(
            "--mapping", type=Path, metavar="TOML",
            help="a mapping file for labelled files in another schema (see data/moodify.mapping.toml)")
    return parser.parse_args()


def load_examples() -> Examples:
    # Under the writers' lock, so a build starting meanwhile waits rather than finding the file open.
    with warehouse.exclusive("warehouse", "training run"), warehouse.connect(read_only=True) as connection:
        warehouse.require_table(connection, "training_examples", "run `make build` first")
        return read_examples(connection)


def metadata(version: str, created_at: datetime, examples: Examples, outcome: TrainingOutcome,
             config: TrainConfig) -> dict:
    cv = outcome.cv
    return {
        "version": version,
        "created_at": created_at.isoformat(),
        "features": list(FEATURES),
        "classes": list(CLASSES),
        "input": "raw features in this order; the preprocessing is part of the model",
        "metrics": {
            "cv_folds": len(cv.fold_accuracies),
            "cv_accuracy_mean": float(cv.fold_accuracies.mean()),
            "cv_accuracy_std": float(cv.fold_accuracies.std()),
            "cv_accuracies": cv.fold_accuracies.tolist(),
            "macro_f1": cv.out_of_fold.macro_f1,
            "ece": cv.out_of_fold.ece,
            "holdout_accuracy": outcome.holdout.accuracy,
            "holdout_macro_f1": outcome.holdout.macro_f1,
            "holdout_ece": outcome.holdout.ece,
            "holdout_per_class": outcome.holdout.per_class,
            "holdout_confusion_matrix": outcome.holdout.confusion.tolist(),
        },
        "data": {
            "source": "training_examples",
            "fingerprint": examples.fingerprint(),
            "n_examples": len(examples),
            "n_train": outcome.n_train,
            "n_holdout": outcome.n_holdout,
            "class_counts": examples.class_counts(),
            # What scoring measures a catalog's drift against, and the baseline of explanations.
            "profile": training_profile(examples.features, list(FEATURES)),
        },
        "params": asdict(config),
        "versions": {"python": platform.python_version()}
        | {name: package_version(name) for name in ("keras", "tensorflow-cpu", "numpy", "scikit-learn", "duckdb")},
    }


def feature_importance(outcome: TrainingOutcome, profile: dict[str, dict]) -> dict[str, float]:
    """Each feature's mean absolute Shapley contribution to the predicted mood, over the hold-out."""
    importance = global_importance(lambda rows: predict_probabilities(outcome.model, rows), outcome.holdout_features,
                                   baseline(profile, list(FEATURES)))
    return dict(zip(FEATURES, importance.tolist(), strict=True))


def train(config: TrainConfig, promote: bool) -> None:
    examples = load_examples()
    check_enough(examples, config.cv_folds)
    tf.config.experimental.enable_op_determinism()  # same data + same seed → same model
    log.info("training on %d examples %s", len(examples), examples.class_counts())
    outcome = train_and_evaluate(examples, config)

    created_at = datetime.now(UTC)
    version, staging = registry.start_version(created_at)
    described = metadata(version, created_at, examples, outcome, config)
    importance = feature_importance(outcome, described["data"]["profile"])
    outcome.model.save(staging / registry.MODEL_FILE)
    # The model in the native kernel's form too, so scoring runs without loading Keras (see moodcast.model).
    save_weights_of(outcome.model, described["features"], staging)
    (staging / registry.METADATA_FILE).write_text(json.dumps(described, indent=2) + "\n")
    (staging / "report.md").write_text(markdown_report(version, outcome, described, importance))
    save_pictures(outcome, staging, version, importance)
    # Published before its rows are written, so no row ever names a version that does not exist; a version
    # whose rows cannot be written (the warehouse stayed locked) is taken back, and the rerun trains it again.
    published = registry.publish(staging, version)
    metrics = described["metrics"]
    try:
        with warehouse.updating("training run") as connection:
            record_run(
                connection,
                {
                    "model_version": version,
                    "created_at": created_at,
                    "data_fingerprint": described["data"]["fingerprint"],
                    **{key: described["data"][key] for key in ("n_examples", "n_train", "n_holdout")},
                    **{key: metrics[key] for key in ("cv_folds", "cv_accuracy_mean", "cv_accuracy_std", "macro_f1",
                                                     "ece", "holdout_accuracy", "holdout_macro_f1", "holdout_ece")},
                    "params": described["params"],
                },
                {"holdout": Measured(outcome.holdout, created_at),
                 "cross_validation": Measured(outcome.cv.out_of_fold, created_at)},
                importance,
            )
            if promote:
                record_promotion(connection, version, datetime.now(UTC))
            export_evaluation(connection)
    except BaseException:
        shutil.rmtree(published.path)
        raise
    if promote:
        registry.promote(version)
    print(text_report(version, outcome, described["data"]["fingerprint"]))
    print(f"\nexported {published.path} ({', '.join(sorted(p.name for p in published.path.iterdir()))})")
    if promote:
        print(f"{version} is now the current model")
    else:
        print(f"the current model is still {registry.current().version}; `python -m train promote {version}` to use it")


def read_labels(path: Path, mapping_file: Path | None) -> LabelledFile:
    return read_labelled(path, read_mapping(mapping_file) if mapping_file else ColumnMapping())


def evaluate_version(labels: Path, mapping_file: Path | None, version: str | None) -> None:
    model = registry.get(version) if version else registry.current()
    labelled = read_labels(labels, mapping_file)
    evaluation = evaluate(labelled.labels, predict_probabilities(model.load(), labelled.features))
    picture = settings.reports_dir() / "evaluations" / f"{model.version}-{labelled.name.replace('@', '-')}.png"
    picture.parent.mkdir(parents=True, exist_ok=True)
    save_reliability(evaluation, picture, f"model {model.version} on {labelled.path.name}")
    with warehouse.updating("model evaluation") as connection:
        record_evaluation(connection, model.version, labelled.name,
                          Measured(evaluation, datetime.now(UTC), str(labelled.path), sum(labelled.left_out.values())))
        export_evaluation(connection)
    print(evaluation_report(model.version, labelled, evaluation))
    print(f"\nreliability plot: {picture}")
    print(f"recorded as evaluated_on = '{labelled.name}' in model_evaluations, model_metrics and model_confusion")


def list_versions() -> None:
    versions = registry.versions()
    if not versions:
        print("no model versions yet: run `make train`")
        return
    current = registry.current().version
    print(f"  {'version':<20} {'examples':>8} {'cv accuracy':>15} {'macro-F1':>9} {'ECE':>6} {'hold-out':>9}")
    for model in versions:
        m, data = model.metadata()["metrics"], model.metadata()["data"]
        marker = "*" if model.version == current else " "
        accuracy = f"{100 * m['cv_accuracy_mean']:.1f}% ± {100 * m['cv_accuracy_std']:.1f}"
        print(f"{marker} {model.version:<20} {data['n_examples']:>8} {accuracy:>15} {m['macro_f1']:>9.3f} "
              f"{m['ece']:>6.3f} {100 * m['holdout_accuracy']:>8.1f}%")


def main() -> None:
    args = parse_args()
    cli.configure_logging(args.quiet)
    if args.command == "list":
        list_versions()
    elif args.command == "reproduce":
        config = from_arguments(args, preset="article")
        tf.config.experimental.enable_op_determinism()
        results = [reproduce.reproduce(name, path, config) for name, path in reproduce.DATASETS.items()]
        print(reproduce.reproduction_table(results))
    elif args.command == "compare":
        if args.max_epochs is not None and args.max_epochs < 1:
            raise BadInputError("--max-epochs must be at least 1")
        examples = load_examples()
        config = from_arguments(args)
        check_enough(examples, config.cv_folds)
        externals = [read_labels(path, args.mapping) for path in args.external]
        tf.config.experimental.enable_op_determinism()
        compared = compare.candidates(config, args.max_epochs)
        print(compare.comparison_table(compare.compare(examples, config, args.repeats, externals, compared)))
    elif args.command == "evaluate":
        evaluate_version(args.labels, args.mapping, args.model)
    elif args.command == "promote":
        with warehouse.updating("model promotion") as connection:
            promoted = registry.promote(args.version)
            record_promotion(connection, promoted.version, datetime.now(UTC))
        print(f"{promoted.version} is now the current model")
    else:
        train(from_arguments(args), promote=not args.no_promote)


if __name__ == "__main__":
    cli.run(main)
