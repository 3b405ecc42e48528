"""Where moodcast keeps its state, and which remote services it talks to.

Everything lives under one directory, `MOODCAST_HOME` (default: `warehouse/` in the
repository), so tests and users can keep several warehouses apart. Paths are always
absolute: DuckDB views and dbt sources bake them in, and a relative path would break as
soon as an analyst opens the database from another folder.

The Spotify and ReccoBeats base URLs can be pointed at another server (a test fake, a proxy).
"""

import os
from pathlib import Path

from moodcast.errors import BadInputError

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
HOME_VARIABLE = "MOODCAST_HOME"

# The Spotify app's credentials (spotipy's own names), from the environment or a .env file.
SPOTIFY_CLIENT_ID_VARIABLE = "SPOTIPY_CLIENT_ID"
SPOTIFY_CLIENT_SECRET_VARIABLE = "SPOTIPY_CLIENT_SECRET"
SPOTIFY_API_URL_VARIABLE = "MOODCAST_SPOTIFY_API_URL"
SPOTIFY_TOKEN_URL_VARIABLE = "MOODCAST_SPOTIFY_TOKEN_URL"
RECCOBEATS_API_URL_VARIABLE = "MOODCAST_RECCOBEATS_API_URL"
DEFAULT_SPOTIFY_API_URL = "https://api.spotify.com/v1/"
DEFAULT_SPOTIFY_TOKEN_URL = "https://accounts.spotify.com/api/token"
DEFAULT_RECCOBEATS_API_URL = "https://api.reccobeats.com/v1/"
# The longest `Retry-After` (seconds) a command waits out; a longer one stops it (an ingest saves its progress first).
DEFAULT_MAX_RETRY_AFTER_S = 60

# How long a command waits for the warehouse (or the scoring lock) another process holds, in seconds.
LOCK_TIMEOUT_VARIABLE = "MOODCAST_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT_S = 300.0
# DuckDB's memory cap; beyond it, it spills to duckdb_temp_dir(), so a catalog larger than RAM still scores.
# 512 MB plus Keras (about 0.6 GB once loaded) keeps a scoring run under 1.5 GB.
MEMORY_LIMIT_VARIABLE = "MOODCAST_DUCKDB_MEMORY_LIMIT"
DEFAULT_DUCKDB_MEMORY_LIMIT = "512MB"


def home() -> Path:
    configured = os.environ.get(HOME_VARIABLE)
    return Path(configured).expanduser().resolve() if configured else REPO_ROOT / "warehouse"


def database_path() -> Path:
    """The file readers open (analysts, BI tools): a read-only snapshot each stage publishes when it succeeds."""
    return home() / "moods.duckdb"


def work_database_path() -> Path:
    """The file the stages write, and only they open. Named like the published one, so that DuckDB calls both
    databases `moods` and the views dbt creates (which name their database) resolve in either."""
    return home() / "work" / "moods.duckdb"


def dbt_dir() -> Path:
    """dbt's `target/` (manifest, docs) and `logs/`: state of this warehouse, not of the code checkout."""
    return home() / "dbt"


def landing_dir() -> Path:
    return home() / "landing"


def models_dir() -> Path:
    return home() / "models"


def exports_dir() -> Path:
    return home() / "exports"


def reports_dir() -> Path:
    """What commands write for people to read: `train evaluate`'s reliability plots."""
    return home() / "reports"


def duckdb_temp_dir() -> Path:
    """Where DuckDB spills what does not fit under its memory limit, and scoring keeps its scratch files."""
    return home() / "tmp"


def lock_timeout_s() -> float:
    configured = os.environ.get(LOCK_TIMEOUT_VARIABLE)
    if not configured:
        return DEFAULT_LOCK_TIMEOUT_S
    try:
        seconds = float(configured)
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise BadInputError(f"{LOCK_TIMEOUT_VARIABLE}={configured!r}: expected a number of seconds (0 or more)")
    return seconds


def duckdb_memory_limit() -> str:
    configured = os.environ.get(MEMORY_LIMIT_VARIABLE)
    if not configured:
        return DEFAULT_DUCKDB_MEMORY_LIMIT
    import duckdb  # DuckDB's own parser judges what it accepts; every caller is about to open DuckDB anyway

    try:
        duckdb.connect(config={"memory_limit": configured}).close()
    except duckdb.Error as error:
        raise BadInputError(f"{MEMORY_LIMIT_VARIABLE}={configured!r}: {error}; set it to a size such as "
                            f"{DEFAULT_DUCKDB_MEMORY_LIMIT} or 2GB, or a share of memory such as 50%") from None
    return configured


def checkpoints_dir() -> Path:
    """Progress of interrupted runs (`python -m ingest spotify`), so the same command can continue."""
    return home() / "checkpoints"


def spotify_api_url() -> str:
    return _base_url(SPOTIFY_API_URL_VARIABLE, DEFAULT_SPOTIFY_API_URL)


def spotify_token_url() -> str:
    return os.environ.get(SPOTIFY_TOKEN_URL_VARIABLE) or DEFAULT_SPOTIFY_TOKEN_URL


def reccobeats_api_url() -> str:
    return _base_url(RECCOBEATS_API_URL_VARIABLE, DEFAULT_RECCOBEATS_API_URL)


def _base_url(variable: str, default: str) -> str:
    # Paths are joined onto it (spotipy's prefix works the same way): it needs its trailing slash.
    return (os.environ.get(variable) or default).rstrip("/") + "/"
