"""The model registry: one folder per trained version under `$MOODCAST_HOME/models/`.

A version is written under a hidden staging name and renamed into place only once complete,
so a half-written model never becomes the current one. `models/CURRENT` names the current
version: training points it at the version it made, `python -m train promote` at any other.
Without it, a lone version is current; among several, none is: moodcast never guesses which model
to score with, it asks for a `promote`. A version whose files cannot be read is reported as damaged.
"""

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from moodcast import settings
from moodcast.atomic import replacing
from moodcast.errors import BadInputError, NotReadyError

MODEL_FILE = "model.keras"
METADATA_FILE = "metadata.json"
STAGING_PREFIX = ".staging-"
CURRENT_FILE = "CURRENT"

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class ModelVersion:
    version: str
    path: Path

    @property
    def model_file(self) -> Path:
        return self.path / MODEL_FILE

    def metadata(self) -> dict:
        path = self.path / METADATA_FILE
        try:
            metadata = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise self.damaged(f"{path} cannot be read: {error}") from error
        if not isinstance(metadata, dict) or not {"features", "classes"} <= set(metadata):
            raise self.damaged(f"{path} does not describe a model (no features and classes)")
        return metadata

    def load(self) -> "keras.Model":
        """The Keras model, preprocessing included."""
        # Imported here: TensorFlow takes 2 s and 550 MB, which listing versions or scoring with saved
        # kernel weights need not pay. moodcast.model.layers registers the layers the model file names.
        import keras

        from moodcast.model import layers  # noqa: F401

        try:
            return keras.saving.load_model(self.model_file)
        except Exception as error:  # Keras raises many kinds for a truncated or foreign file; all mean the same
            raise self.damaged(f"{self.model_file} cannot be loaded: {error}") from error

    def damaged(self, why: str) -> BadInputError:
        return BadInputError(f"model {self.version} is damaged: {why}. Retrain (`make train`) or promote another "
                             f"version (`python -m train promote VERSION`; `python -m train list` lists them).")


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
    pointer = settings.models_dir() / CURRENT_FILE
    if pointer.is_file():
        return get(pointer.read_text().strip())
    found = versions()
    if not found:
        raise NotReadyError(f"There is no trained model in {settings.models_dir()} yet: run `make train` first.")
    if len(found) > 1:
        raise BadInputError(
            f"{pointer}, which names the current model, is missing, and there are {len(found)} versions: "
            f"{', '.join(model.version for model in found)}. moodcast will not guess: make one current with "
            "`python -m train promote VERSION`."
        )
    return found[0]


def get(version: str) -> ModelVersion:
    found = {model.version: model for model in versions()}
    folder = settings.models_dir() / version
    if version not in found and folder.is_dir() and not version.startswith("."):
        missing = [name for name in (MODEL_FILE, METADATA_FILE) if not (folder / name).is_file()]
        raise ModelVersion(version, folder).damaged(f"{', '.join(missing)} missing from {folder}")
    if version not in found:
        known = ", ".join(found) or "none yet: run `make train`"
        raise BadInputError(f"There is no model version {version!r} in {settings.models_dir()}; versions: {known}")
    return found[version]


def promote(version: str) -> ModelVersion:
    """Make `version` the current model: the one `python -m score` uses."""
    model = get(version)
    with replacing(settings.models_dir() / CURRENT_FILE) as temporary:  # a scorer reads the old pointer or the new
        temporary.write_text(version + "\n")
    return model


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
    os.rename(staging, settings.models_dir() / version)
    return get(version)
