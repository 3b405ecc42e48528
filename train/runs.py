"""`model_runs`: one row per trained model version, so analysts compare versions in SQL."""

import json

import duckdb

MODEL_RUNS_DDL = """
create table if not exists model_runs (
    model_version varchar primary key,
    created_at timestamptz not null,
    n_examples integer not null,
    n_train integer not null,
    n_holdout integer not null,
    cv_folds integer not null,
    cv_accuracy_mean double not null,
    cv_accuracy_std double not null,
    holdout_accuracy double not null,
    holdout_macro_f1 double not null,
    data_fingerprint varchar not null,
    params json not null
)
"""


def record_run(connection: duckdb.DuckDBPyConnection, run: dict) -> None:
    connection.execute(MODEL_RUNS_DDL)
    row = run | {"params": json.dumps(run["params"], sort_keys=True)}
    columns = ", ".join(row)
    connection.execute(
        f"insert or replace into model_runs ({columns}) values ({', '.join('?' for _ in row)})",
        list(row.values()),
    )
