"""The model registry: one folder per trained version under `$MOODCAST_HOME/models/`.

A version is written under a hidden staging name and renamed into place only once complete,
so a half-written model never becomes the current one. The newest complete version is current.
"""

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from moodcast import settings
from moodcast.errors import NotReadyError

MODEL_FILE = "model.keras"
METADATA_FILE = "metadata.json"
STAGING_PREFIX = ".staging-"


@dataclass(frozen=True)
class ModelVersion:
    version: str
    path: Path

    @property
    def model_file(self) -> Path:
        return self.path / MODEL_FILE

    def metadata(self) -> dict:
        return json.loads((self.path / METADATA_FILE).read_text())


def versions() -> list[ModelVersion]:
    """Complete versions, oldest first (version names sort by creation time)."""
    root = settings.models_dir()
    if not root.is_dir():
        return []
    return [
        ModelVersion(entry.name, entry)
        for entry in sorted(root.iterdir())
        if not entry.name.startswith(".") and (entry / MODEL_FILE).is_file() and (entry / METADATA_FILE).is_file()
    ]


def current() -> ModelVersion:
    found = versions()
    if not found:
        raise NotReadyError(f"There is no trained model in {settings.models_dir()} yet: run `make train` first.")
    return found[-1]


def start_version(now: datetime) -> tuple[str, Path]:
    """A new version name and the empty staging folder to write it into."""
    root = settings.models_dir()
    root.mkdir(parents=True, exist_ok=True)
    for abandoned in root.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(abandoned)  # left by a run that was killed before it published
    base = now.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    version, attempt = base, 1
    while (root / version).exists():
        attempt += 1
        version = f"{base}-{attempt}"
    staging = root / f"{STAGING_PREFIX}{version}"
    staging.mkdir()
    return version, staging


def publish(staging: Path, version: str) -> ModelVersion:
    final = settings.models_dir() / version
    os.rename(staging, final)
    return ModelVersion(version, final)
