"""`python -m train`: fit the mood classifier on `training_examples`, evaluate it, export a version.

Writes `$MOODCAST_HOME/models/<version>/` (model.keras with its scaling inside, metadata.json,
confusion_matrix.png) and one row to the `model_runs` table. The newest version is current.
"""

import argparse
import json
import logging
import platform
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import version as package_version

import tensorflow as tf

from moodcast import cli, registry, warehouse
from moodcast.contract import CLASSES, FEATURES
from train.config import TrainConfig, add_arguments, from_arguments
from train.data import Examples, check_enough, read_examples
from train.report import save_confusion_matrix, text_report
from train.runs import record_run
from train.training import TrainingOutcome, train_and_evaluate

log = logging.getLogger("train")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="log warnings and errors only")
    return parser.parse_args()


def load_examples() -> Examples:
    with warehouse.connect(read_only=True) as connection:
        warehouse.require_table(connection, "training_examples", "run `make build` first")
        return read_examples(connection)


def metadata(version: str, created_at: datetime, examples: Examples, outcome: TrainingOutcome,
             config: TrainConfig) -> dict:
    return {
        "version": version,
        "created_at": created_at.isoformat(),
        "features": list(FEATURES),
        "classes": list(CLASSES),
        "input": "raw features in this order; the min-max scaling is a layer of the model",
        "metrics": {
            "cv_folds": config.cv_folds,
            "cv_accuracy_mean": float(outcome.cv_accuracies.mean()),
            "cv_accuracy_std": float(outcome.cv_accuracies.std()),
            "cv_accuracies": outcome.cv_accuracies.tolist(),
            "holdout_accuracy": outcome.holdout.accuracy,
            "holdout_macro_f1": outcome.holdout.macro_f1,
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
        },
        "params": asdict(config),
        "versions": {"python": platform.python_version()}
        | {name: package_version(name) for name in ("keras", "tensorflow-cpu", "numpy", "scikit-learn", "duckdb")},
    }


def main() -> None:
    args = parse_args()
    cli.configure_logging(args.quiet)
    config = from_arguments(args)
    examples = load_examples()
    check_enough(examples, config.cv_folds)
    tf.config.experimental.enable_op_determinism()  # same data + same seed → same model
    log.info("training on %d examples %s", len(examples), examples.class_counts())
    outcome = train_and_evaluate(examples, config)

    created_at = datetime.now(UTC)
    version, staging = registry.start_version(created_at)
    described = metadata(version, created_at, examples, outcome, config)
    outcome.model.save(staging / registry.MODEL_FILE)
    (staging / registry.METADATA_FILE).write_text(json.dumps(described, indent=2) + "\n")
    save_confusion_matrix(outcome.holdout, staging / "confusion_matrix.png", f"model {version}: hold-out")
    with warehouse.connect() as connection:
        record_run(connection, {
            "model_version": version,
            "created_at": created_at,
            **{key: described["data"][key] for key in ("n_examples", "n_train", "n_holdout")},
            **{key: described["metrics"][key] for key in
               ("cv_folds", "cv_accuracy_mean", "cv_accuracy_std", "holdout_accuracy", "holdout_macro_f1")},
            "data_fingerprint": described["data"]["fingerprint"],
            "params": described["params"],
        })
    published = registry.publish(staging, version)
    print(text_report(version, outcome, described["data"]["fingerprint"], config))
    print(f"\nexported {published.path} (model.keras, metadata.json, confusion_matrix.png); it is now the current model")


if __name__ == "__main__":
    cli.run(main)
