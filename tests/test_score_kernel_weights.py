"""The native kernel's weights saved next to the model: scoring reads them without loading Keras,
and never trusts weights that do not belong to the model file beside them."""

import os
import re
import subprocess
import sys

import duckdb
import numpy as np

from moodcast import settings
from moodcast.contract import FEATURES, PROBABILITY_COLUMNS
from moodcast.model import registry
from moodcast.model.weights import WEIGHTS_FILE
from tests.conftest import run_ok

TENSORFLOW_IMPORTED = re.compile(r"\|\s+tensorflow$", re.MULTILINE)  # a line of `python -X importtime`


def score_reporting_imports(home) -> subprocess.CompletedProcess:
    """`python -m score --full-refresh`, with the modules it imports listed on stderr."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "score", "--full-refresh"],
                            env=os.environ | {settings.HOME_VARIABLE: str(home)}, cwd=settings.REPO_ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def predictions_against_keras() -> float:
    """The largest difference between the stored probabilities and model.predict's."""
    with duckdb.connect(str(settings.database_path()), read_only=True) as connection:
        rows = connection.execute(f"select {', '.join(FEATURES)}, {', '.join(PROBABILITY_COLUMNS)} "
                                  "from track_features join predictions using (track_id)").fetchall()
    features = np.array([row[:10] for row in rows], dtype=np.float32)
    expected = registry.current().load().predict(features, verbose=0)
    return float(np.abs(np.array([row[10:] for row in rows]) - expected).max())


def test_training_saves_the_weights_and_scoring_then_never_imports_tensorflow(trained):
    weights = registry.current().path / WEIGHTS_FILE
    assert weights.is_file()

    with_weights = score_reporting_imports(trained)
    weights.unlink()
    without_weights = score_reporting_imports(trained)

    assert not TENSORFLOW_IMPORTED.search(with_weights.stderr)
    assert TENSORFLOW_IMPORTED.search(without_weights.stderr)  # read from the Keras model…
    assert weights.is_file()  # …and saved again for the next run
    assert without_weights.stdout.splitlines()[-1].endswith("(native kernel)")
    assert predictions_against_keras() < 1e-5


def test_weights_saved_for_another_model_file_are_not_used(trained):
    weights = registry.current().path / WEIGHTS_FILE
    with np.load(weights) as saved:
        tampered = {name: saved[name] for name in saved.files}
    tampered["hidden_bias"] = tampered["hidden_bias"] + 1.0
    tampered["model_sha256"] = np.array("0" * 64)
    with open(weights, "wb") as file:
        np.savez(file, **tampered)

    result = run_ok("score", home=trained)

    assert "was saved for another model.keras: reading the weights from the model again" in result.stderr
    assert predictions_against_keras() < 1e-5
    with np.load(weights) as saved:
        assert str(saved["model_sha256"]) != "0" * 64


def test_unreadable_weights_are_read_again_from_the_model(trained):
    weights = registry.current().path / WEIGHTS_FILE
    weights.write_bytes(b"not an npz file")

    result = run_ok("score", home=trained)

    assert f"{weights} cannot be read" in result.stderr
    assert predictions_against_keras() < 1e-5
    with np.load(weights) as saved:
        assert set(saved.files) >= {"model_sha256", "hidden_kernel", "output_kernel"}
