"""What `make build` says when dbt's data tests fail: which tests, and the rows they found.

dbt reports a failing test by name and row count only. Its run_results.json keeps each test's
compiled query, so the first few offending rows are read back from the warehouse and shown, with
the source file and row they came from where the test's model has them.
"""

import json
import sys
from pathlib import Path

import duckdb

from moodcast import settings
from moodcast.errors import EXIT_DATA_TEST_FAILED, EXIT_INTERNAL, storage_failure
from moodcast.secrets import scrub

EXAMPLE_ROWS = 5


def build_exit_code(dbt_returncode: int, started: float) -> int:
    """moodcast's exit code for dbt's (0 ok, 1 a model or test failed, 2 dbt itself failed; 128 + N a signal)."""
    if dbt_returncode != 1:
        return EXIT_INTERNAL if dbt_returncode == 2 else dbt_returncode
    results = run_results(settings.dbt_dir() / "target" / "run_results.json", started)
    for result in results:  # a full disk fails a model, not a test: say so in one line
        if result["status"] == "error" and (failure := storage_failure(RuntimeError(result["message"] or ""))):
            print(f"error: {scrub(str(failure))}", file=sys.stderr)
            return failure.exit_code
    failed = [result for result in results if result["unique_id"].startswith("test.") and result["status"] == "fail"]
    if not failed:
        return EXIT_INTERNAL  # a model failed to build: dbt's log above says which
    print("\n".join(["error: the build stopped at failing data tests; the marts downstream of them keep their "
                     "last good build.", *(describe(test) for test in failed),
                     "Correct the files named and ingest them again (a file's new version replaces what it "
                     "landed), then run `make build` again."]),
          file=sys.stderr)
    return EXIT_DATA_TEST_FAILED


def run_results(path: Path, started: float) -> list[dict]:
    if not path.exists() or path.stat().st_mtime < started:
        return []  # dbt stopped before writing this run's results
    return json.loads(path.read_text())["results"]


def describe(test: dict) -> str:
    name = test["unique_id"].split(".")[2]
    lines = [f"  data test {name} failed: {test.get('failures')} row(s)"]
    try:
        with duckdb.connect(str(settings.work_database_path()), read_only=True) as connection:
            cursor = connection.execute(f"select * from ({test['compiled_code']}) limit {EXAMPLE_ROWS}")
            columns = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
    except (duckdb.Error, KeyError) as error:
        return "\n".join([*lines, f"    (its rows could not be read back: {scrub(str(error))})"])
    for row in rows:
        found = dict(zip(columns, row, strict=True))
        if {"source_name", "source_row", "track_id", "problem"} <= set(found):
            lines.append(f"    {found['source_name']} row {found['source_row']}, track {found['track_id']}: "
                         f"{found['problem']}")
        else:
            lines.append("    " + ", ".join(f"{column}={value}" for column, value in found.items()))
    return "\n".join(lines)
