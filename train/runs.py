"""Evaluation tables training and `train evaluate` write, so analysts compare model versions in SQL.

- `model_runs`: one row per model version, with its headline metrics and knobs;
- `model_evaluations`: per version × evaluation: the headline figures of each (holdout, cross_validation,
  and `<file>@<fingerprint>` for every labelled file `train evaluate` measured the version on);
- `model_metrics`: per version × evaluation × mood: precision, recall, f1, support;
- `model_confusion`: per version × evaluation × true mood × predicted mood: the number of tracks;
- `model_feature_importance`: per version × feature: its mean absolute Shapley contribution to the predicted
  mood's probability on the hold-out (moodcast.model.explain), and its rank;
- `model_promotions`: one row each time a version became the current model, and the view `current_model`:
  the last promoted version's model_runs row, so SQL can tell which model scoring uses.
"""

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from moodcast.contract import CLASSES
from train.evaluate import Evaluation

MODEL_RUNS_COLUMNS = {
    "model_version": "varchar primary key",
    "created_at": "timestamptz",
    "data_fingerprint": "varchar",
    "n_examples": "integer",
    "n_train": "integer",
    "n_holdout": "integer",
    "cv_folds": "integer",
    "cv_accuracy_mean": "double",
    "cv_accuracy_std": "double",
    "holdout_accuracy": "double",
    "holdout_macro_f1": "double",
    "params": "json",
    "macro_f1": "double",  # out-of-fold, over every example
    "ece": "double",  # out-of-fold expected calibration error
    "holdout_ece": "double",
}

EVALUATION_TABLES_DDL = """
create table if not exists model_evaluations (
    model_version varchar, evaluated_on varchar, labels_file varchar, evaluated_at timestamptz,
    tracks integer, rows_left_out integer,
    accuracy double, balanced_accuracy double, macro_f1 double, ece double, mean_confidence double,
    primary key (model_version, evaluated_on)
);
create table if not exists model_metrics (
    model_version varchar, evaluated_on varchar, mood varchar,
    precision double, recall double, f1 double, support integer,
    primary key (model_version, evaluated_on, mood)
);
create table if not exists model_confusion (
    model_version varchar, evaluated_on varchar, true_mood varchar, predicted_mood varchar, tracks integer,
    primary key (model_version, evaluated_on, true_mood, predicted_mood)
);
create table if not exists model_feature_importance (
    model_version varchar, feature varchar, mean_abs_contribution double, rank integer, evaluated_on varchar,
    primary key (model_version, feature)
);
create table if not exists model_promotions (model_version varchar not null, promoted_at timestamptz not null);
create or replace view current_model as
select r.*, p.promoted_at
from model_runs r
join (select model_version, promoted_at from model_promotions order by promoted_at desc limit 1) p
    using (model_version);
"""


def ensure_tables(connection: duckdb.DuckDBPyConnection) -> None:
    columns = ", ".join(f"{column} {sql_type}" for column, sql_type in MODEL_RUNS_COLUMNS.items())
    connection.execute(f"create table if not exists model_runs ({columns})")
    connection.execute(EVALUATION_TABLES_DDL)


@dataclass(frozen=True)
class Measured:
    """One evaluation of a version, and what it was measured on."""

    evaluation: Evaluation
    evaluated_at: datetime
    labels_file: str | None = None  # the labelled file's path, for `train evaluate`
    rows_left_out: int = 0


def record_run(connection: duckdb.DuckDBPyConnection, run: dict, evaluations: dict[str, Measured],
               importance: dict[str, float]) -> None:
    """Write one version's rows to every table in one transaction; rerunning replaces them."""
    ensure_tables(connection)
    version = run["model_version"]
    row = run | {"params": json.dumps(run["params"], sort_keys=True)}
    connection.begin()
    for table in ("model_runs", "model_evaluations", "model_metrics", "model_confusion", "model_feature_importance"):
        connection.execute(f"delete from {table} where model_version = ?", [version])
    connection.execute(f"insert into model_runs ({', '.join(row)}) values ({', '.join('?' for _ in row)})",
                       list(row.values()))
    insert_evaluations(connection, version, evaluations)
    ranked = sorted(importance.items(), key=lambda item: -item[1])
    connection.from_arrow(pa.Table.from_pylist([
        {"model_version": version, "feature": feature, "mean_abs_contribution": value, "rank": rank,
         "evaluated_on": "holdout"}
        for rank, (feature, value) in enumerate(ranked, start=1)
    ])).insert_into("model_feature_importance")
    connection.commit()


def record_evaluation(connection: duckdb.DuckDBPyConnection, version: str, evaluated_on: str,
                      measured: Measured) -> None:
    """Write one evaluation of a version in one transaction; measuring it on the same file again replaces it."""
    ensure_tables(connection)
    connection.begin()
    for table in ("model_evaluations", "model_metrics", "model_confusion"):
        connection.execute(f"delete from {table} where model_version = ? and evaluated_on = ?",
                           [version, evaluated_on])
    insert_evaluations(connection, version, {evaluated_on: measured})
    connection.commit()


def insert_evaluations(connection: duckdb.DuckDBPyConnection, version: str, evaluations: dict[str, Measured]) -> None:
    headline = pa.Table.from_pylist([
        {"model_version": version, "evaluated_on": name, "labels_file": m.labels_file,
         "evaluated_at": m.evaluated_at, "tracks": m.evaluation.tracks, "rows_left_out": m.rows_left_out,
         **{key: getattr(m.evaluation, key)
            for key in ("accuracy", "balanced_accuracy", "macro_f1", "ece", "mean_confidence")}}
        for name, m in evaluations.items()
    ])
    metrics = pa.Table.from_pylist([
        {"model_version": version, "evaluated_on": name, "mood": mood, **values}
        for name, m in evaluations.items() for mood, values in m.evaluation.per_class.items()
    ])
    confusion = pa.Table.from_pylist([
        {"model_version": version, "evaluated_on": name, "true_mood": true_mood, "predicted_mood": predicted_mood,
         "tracks": int(m.evaluation.confusion[t, p])}
        for name, m in evaluations.items()
        for t, true_mood in enumerate(CLASSES) for p, predicted_mood in enumerate(CLASSES)
    ])
    # Each dict's keys are in its table's column order.
    for table, rows in (("model_evaluations", headline), ("model_metrics", metrics), ("model_confusion", confusion)):
        connection.from_arrow(rows).insert_into(table)


def record_promotion(connection: duckdb.DuckDBPyConnection, version: str, promoted_at: datetime) -> None:
    ensure_tables(connection)
    connection.execute("insert into model_promotions values (?, ?)", [version, promoted_at])
