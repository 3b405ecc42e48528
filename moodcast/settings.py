"""Where moodcast keeps its state.

Everything lives under one directory, `MOODCAST_HOME` (default: `warehouse/` in the
repository), so tests and users can keep several warehouses apart. Paths are always
absolute: DuckDB views and dbt sources bake them in, and a relative path would break as
soon as an analyst opens the database from another folder.
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
HOME_VARIABLE = "MOODCAST_HOME"


def home() -> Path:
    configured = os.environ.get(HOME_VARIABLE)
    return Path(configured).expanduser().resolve() if configured else REPO_ROOT / "warehouse"


def database_path() -> Path:
    return home() / "moods.duckdb"


def landing_dir() -> Path:
    return home() / "landing"


def models_dir() -> Path:
    return home() / "models"


def exports_dir() -> Path:
    return home() / "exports"
