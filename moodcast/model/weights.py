"""`kernel.npz`: the network of a model version as plain arrays, read without Keras.

The models `python -m train` exports have one shape (see moodcast.model.extract): preprocessing, then
members of one hidden layer (or none) and a softmax, averaged. Weights holds that shape with the
preprocessing folded into the hidden layer, all float32; score.kernel computes it. It is saved next to
the model with the SHA-256 of the model file it was read from, by training and by the first scoring run
that lacks it: a scoring run that finds it never imports TensorFlow, which would cost 2 s and 550 MB.
"""

import hashlib
import logging
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from moodcast.atomic import replacing
from moodcast.contract import CLASSES, FEATURES
from moodcast.model.registry import MODEL_FILE

log = logging.getLogger("moodcast.model")

WEIGHTS_FILE = "kernel.npz"
N_FEATURES, N_CLASSES = len(FEATURES), len(CLASSES)


class NotCompilable(Exception):
    """The model is not of the shape Weights describes: scoring runs it with Keras instead."""


@dataclass(frozen=True)
class Weights:
    """The network as the kernel takes it, all float32: preprocessing folded into the hidden layer."""

    log_offsets: np.ndarray  # (features,): log(max(x, 0) + offset), offset > 0, where log_mask is set
    log_mask: np.ndarray  # (features,) bool
    hidden_kernel: np.ndarray  # (members, features, hidden)
    hidden_bias: np.ndarray  # (members, hidden)
    relu: bool
    output_kernel: np.ndarray  # (members, hidden, classes)
    output_bias: np.ndarray  # (members, classes)


def model_digest(directory: Path) -> str:
    with open(directory / MODEL_FILE, "rb") as model:
        return hashlib.file_digest(model, "sha256").hexdigest()


def save_weights(weights: Weights, directory: Path) -> None:
    """Save the weights read from the model in `directory` next to it (atomically: a reader sees all or none)."""
    target = directory / WEIGHTS_FILE
    try:
        # Per process: `score track` may save them while a catalog run does.
        with replacing(target, per_process=True) as temporary, open(temporary, "wb") as file:
            np.savez(file, model_sha256=np.array(model_digest(directory)), **asdict(weights))
    except OSError as error:  # a read-only registry: the next run reads the weights from the model again
        log.warning("could not save the kernel's weights to %s (%s); scoring reads them from the model each run",
                    target, error)


def saved_weights(directory: Path) -> Weights | None:
    """The weights saved for the model in `directory`, or None: none saved, or saved for another model file."""
    path = directory / WEIGHTS_FILE
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            if str(saved["model_sha256"]) != model_digest(directory):
                log.info("%s was saved for another %s: reading the weights from the model again", path, MODEL_FILE)
                return None
            arrays = {name: saved[name] for name in Weights.__dataclass_fields__}
            return Weights(**arrays | {"relu": bool(arrays["relu"])})
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        log.warning("%s cannot be read (%s): reading the weights from the model again", path, error)
        return None
