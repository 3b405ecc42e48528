"""The native kernel agrees with Keras's model.predict: same mood, probabilities within 1e-5.

Keras and the kernel both compute in float32, the kernel with the preprocessing folded into the
weights, so the probabilities differ in their last float32 digits (1e-7 to 1e-6); 1e-5 leaves room
without hiding a wrong weight or formula.
"""

import logging
from dataclasses import replace

import keras
import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from moodcast.contract import CLASSES, FEATURES
from moodcast.errors import BadInputError
from moodcast.model import registry
from moodcast.model.extract import extract_weights
from moodcast.model.weights import NotCompilable
from score.engines import KerasEngine, KernelEngine, bounded_map, choose_engine, in_background
from score.kernel import Kernel
from tests.conftest import SEED_CSV
from train.config import PRESETS
from train.model import build_model, fit

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def seed() -> tuple[np.ndarray, np.ndarray]:
    frame = pl.read_csv(SEED_CSV)
    labels = np.searchsorted(np.array(CLASSES), frame["mood"].to_numpy())
    return frame.select(FEATURES).to_numpy().astype(np.float32), labels


@pytest.fixture(scope="module")
def catalog(seed) -> np.ndarray:
    """20 000 tracks like the seed's: seed rows with 10 % noise, ratios kept in 0..1."""
    features, _ = seed
    rng = np.random.default_rng(3)
    rows = features[rng.integers(0, len(features), 20_000)] * rng.normal(1.0, 0.1, (20_000, len(FEATURES)))
    ratios = [FEATURES.index(f) for f in FEATURES if f not in ("length", "loudness", "tempo")]
    rows[:, ratios] = rows[:, ratios].clip(0, 1)
    return np.concatenate([features, rows]).astype(np.float64)


def as_table(features: np.ndarray) -> pa.Table:
    return pa.table({"track_id": [f"t{i}" for i in range(len(features))],
                     **{name: features[:, i] for i, name in enumerate(FEATURES)}})


def assert_agrees(model: keras.Model, features: np.ndarray) -> None:
    """The native kernel predicts what Keras predicts."""
    expected = model.predict(features.astype(np.float32), batch_size=4096, verbose=0)

    predicted = KernelEngine(Kernel(extract_weights(model, list(FEATURES))), list(FEATURES)).predict(
        as_table(features))

    assert np.abs(predicted - expected).max() <= TOLERANCE
    assert (predicted.argmax(axis=1) == expected.argmax(axis=1)).all()


def trained_ensemble(seed, inputs: keras.KerasTensor, outputs: keras.KerasTensor) -> keras.Model:
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(*seed, epochs=15, batch_size=64, verbose=0)
    return model


def test_the_articles_network_agrees_with_keras(seed, catalog):
    config = replace(PRESETS["article"], epochs=30)
    model = build_model(config, seed[0])
    fit(model, *seed, config)

    assert_agrees(model.classifier, catalog)


def test_a_softmax_regression_runs_on_the_kernel_and_agrees_with_keras(seed, catalog):
    config = replace(PRESETS["default"], hidden_units=0, members=1, l2=0.01, dropout=0.0, epochs=20)
    model = build_model(config, seed[0])
    fit(model, *seed, config)

    assert extract_weights(model.classifier, list(FEATURES)).hidden_kernel.shape == (1, 10, 10)
    assert_agrees(model.classifier, catalog)


def test_the_trained_default_model_agrees_with_keras(trained, catalog):
    assert_agrees(registry.current().load(), catalog)


def test_the_kernel_takes_members_with_dropout_and_a_linear_hidden_layer(seed, catalog):
    keras.utils.set_random_seed(4)
    inputs = keras.Input((len(FEATURES),))
    standardize = keras.layers.Normalization()
    standardize.adapt(seed[0])
    scaled = keras.layers.Dropout(0.1)(standardize(inputs))
    members = [keras.layers.Dense(len(CLASSES), activation="softmax")(
        keras.layers.Dropout(0.2)(keras.layers.Dense(6, activation="linear")(scaled))) for _ in range(3)]
    model = trained_ensemble(seed, inputs, keras.layers.Average()(members))

    assert_agrees(model, catalog)


@pytest.mark.parametrize("shape", ["two hidden layers", "members of different widths", "tanh hidden layer",
                                   "no softmax"])
def test_the_kernel_refuses_other_shapes_and_auto_falls_back_to_keras(shape):
    inputs = keras.Input((len(FEATURES),))
    hidden = keras.layers.Dense(4, activation="tanh" if shape == "tanh hidden layer" else "relu")(inputs)
    if shape == "two hidden layers":
        hidden = keras.layers.Dense(4, activation="relu")(hidden)
    output = keras.layers.Dense(len(CLASSES), activation="sigmoid" if shape == "no softmax" else "softmax")
    outputs = output(hidden)
    if shape == "members of different widths":
        other = keras.layers.Dense(len(CLASSES), activation="softmax")(keras.layers.Dense(5, activation="relu")(inputs))
        outputs = keras.layers.Average()([outputs, other])
    model = keras.Model(inputs, outputs)

    with pytest.raises(NotCompilable):
        extract_weights(model, list(FEATURES))
    with pytest.raises(BadInputError, match="the native kernel cannot take the model"):
        choose_engine(model, list(FEATURES), "kernel")
    assert isinstance(choose_engine(model, list(FEATURES)), KerasEngine)


def test_a_model_the_kernel_does_not_take_runs_with_keras_and_says_so(seed, caplog):
    inputs = keras.Input((len(FEATURES),))
    outputs = keras.layers.Dense(len(CLASSES), activation="softmax")(keras.layers.LayerNormalization()(inputs))
    model = keras.Model(inputs, outputs)
    with pytest.raises(NotCompilable, match="LayerNormalization"):
        extract_weights(model, list(FEATURES))

    with caplog.at_level(logging.WARNING, logger="score"):
        engine = choose_engine(model, list(FEATURES))

    assert isinstance(engine, KerasEngine)
    assert "LayerNormalization" in caplog.text and "scoring with Keras on Arrow batches" in caplog.text
    np.testing.assert_allclose(engine.predict(as_table(seed[0][:50].astype(np.float64))),
                               model.predict(seed[0][:50], verbose=0), atol=1e-6)


def test_moodcasts_models_run_on_the_kernel_and_other_large_ones_with_keras(seed, trained):
    article = build_model(PRESETS["article"], seed[0]).classifier
    default = registry.current().load()  # 5 x Dense(32)
    inputs = keras.Input((len(FEATURES),))
    deep = keras.layers.Dense(32, activation="relu")(keras.layers.Dense(32, activation="relu")(inputs))
    large = keras.Model(inputs, keras.layers.Dense(len(CLASSES), activation="softmax")(deep))  # 1,504 multiplications

    assert isinstance(choose_engine(article, list(FEATURES)), KernelEngine)
    assert isinstance(choose_engine(default, list(FEATURES)), KernelEngine)
    assert isinstance(choose_engine(large, list(FEATURES)), KerasEngine)
    assert isinstance(choose_engine(default, list(FEATURES), "keras"), KerasEngine)


def test_the_compute_pipeline_keeps_order_and_raises_the_workers_errors():
    assert list(bounded_map(lambda n: n * n, iter(range(50)), threads=2)) == [n * n for n in range(50)]
    assert list(in_background(iter(range(20)))) == list(range(20))

    def failing():
        yield 1
        raise ValueError("batch 2 is broken")

    consumed = []
    with pytest.raises(ValueError, match="batch 2 is broken"):
        for item in in_background(failing()):
            consumed.append(item)
    assert consumed == [1]
