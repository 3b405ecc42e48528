"""DuckDB 1.x, as the readers of the published warehouse may run it: a virtual environment of its own.

Made once per DuckDB series and kept in pytest's cache (.pytest_cache/d/), so only the first session
pays for the download; CI, on a fresh machine, installs it from the package registry.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# The oldest series readers may run (its storage format is the one published) and the last 1.x.
SERIES = {"1.1": "duckdb>=1.1,<1.2", "1.4": "duckdb>=1.4,<1.5"}

# Run by the 1.x Python from another directory: the mood counts, and every view that does not bind.
READER = """
import json, sys, duckdb
with duckdb.connect(sys.argv[1], read_only=True) as c:
    counts = c.execute("select mood, count(*) from predictions group by mood order by mood").fetchall()
    failing = {}
    for (view,) in c.execute("select view_name from duckdb_views() where not internal").fetchall():
        try:
            c.execute(f'select count(*) from (select * from "{view}")').fetchall()
        except duckdb.Error as error:
            failing[view] = str(error)
print(json.dumps({"version": duckdb.__version__, "counts": counts, "failing_views": failing}))
"""


def python_with(cache: pytest.Cache, series: str) -> Path:
    """The python of a virtual environment with DuckDB `series` installed."""
    root = cache.mkdir(f"duckdb-{series}")
    python = root / "venv" / "bin" / "python"
    if python.exists():
        return python
    staging = Path(tempfile.mkdtemp(dir=root))  # renamed into place once complete: a killed install leaves no venv
    subprocess.run([sys.executable, "-m", "venv", str(staging)], check=True)
    installed = subprocess.run([str(staging / "bin" / "python"), "-m", "pip", "install", "--quiet",
                                SERIES[series]], capture_output=True, text=True, timeout=600)
    if installed.returncode != 0:
        shutil.rmtree(staging)
        pytest.fail(f"could not install {SERIES[series]} for the 1.x reader tests (is the package registry "
                    f"reachable?):\n{installed.stderr[-2000:]}")
    try:
        os.rename(staging, root / "venv")
    except OSError:  # another session made it meanwhile
        shutil.rmtree(staging)
    return python


def read_with(python: Path, database: Path, cwd: Path) -> dict:
    result = subprocess.run([str(python), "-c", READER, str(database)], cwd=cwd, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
