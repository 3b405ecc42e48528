"""Tables published as Parquet under `$MOODCAST_HOME/exports/`, for readers of files rather than databases.

Each file is written under a temporary name and renamed into place: a reader sees the previous file or
the new one, whole, and a BI tool reading it never blocks the cron writer the way an open DuckDB file
does. The evaluation tables (model_runs, model_evaluations, model_metrics, model_confusion,
model_feature_importance: a few rows per model version; feature_drift and class_mix: a few per scoring run),
which training and scoring write and every stage that changes the warehouse republishes, go to
`exports/<table>/<table>.parquet`, rewritten each time; score.export publishes the predictions.
"""

from pathlib import Path

import duckdb

from moodcast import settings, warehouse
from moodcast.atomic import replacing
from moodcast.sql import sql_text

EVALUATION_TABLES = ("model_runs", "model_evaluations", "model_metrics", "model_confusion", "model_feature_importance",
                     "feature_drift", "class_mix")


def export_evaluation(connection: duckdb.DuckDBPyConnection) -> list[Path]:
    """Write the evaluation tables the warehouse has; return the paths written."""
    present = warehouse.table_names(connection)
    written = []
    for table in (table for table in EVALUATION_TABLES if table in present):
        target = settings.exports_dir() / table / f"{table}.parquet"
        write_parquet(connection, f"select * from {table}", target)
        written.append(target)
    return written


def write_parquet(connection: duckdb.DuckDBPyConnection, query: str, target: Path, options: str = "") -> None:
    """The query's rows as Parquet at target, written under a temporary name and renamed into place."""
    with replacing(target) as temporary:
        connection.execute(f"copy ({query}) to {sql_text(str(temporary))} (format parquet, compression zstd{options})")
