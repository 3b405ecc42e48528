"""The model compiled to SQL agrees with Keras's model.predict: same mood, probabilities within 1e-5.

Keras computes in float32 and the SQL in DOUBLE, so the probabilities differ in their last float32
digits (about 1e-7); 1e-5 leaves room without hiding a wrong weight or formula.
"""

import logging
from dataclasses import replace

import keras
import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from moodcast import registry
from moodcast.contract import CLASSES, FEATURES
from score.engines import KerasEngine, SqlEngine, choose_engine
from score.network import NotCompilable, compile_model
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
    expected = model.predict(features.astype(np.float32), batch_size=4096, verbose=0)

    compiled = SqlEngine(compile_model(model, list(FEATURES))).predict(as_table(features))

    assert np.abs(compiled - expected).max() <= TOLERANCE
    assert (compiled.argmax(axis=1) == expected.argmax(axis=1)).all()


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


def test_the_trained_default_model_agrees_with_keras(trained, catalog):
    assert_agrees(registry.current().load(), catalog)


def test_a_hand_built_ensemble_with_normalization_and_average_agrees_with_keras(seed, catalog):
    keras.utils.set_random_seed(1)
    inputs = keras.Input((len(FEATURES),))
    standardize = keras.layers.Normalization()
    standardize.adapt(seed[0])
    scaled = standardize(inputs)
    members = []
    for units in (4, 8, 16):
        hidden = keras.layers.Dropout(0.2)(keras.layers.Dense(units, activation="relu")(scaled))
        members.append(keras.layers.Dense(len(CLASSES), activation="softmax")(hidden))
    model = trained_ensemble(seed, inputs, keras.layers.Average()(members))

    assert_agrees(model, catalog)


def test_every_supported_activation_and_elementwise_layer_agrees_with_keras(seed, catalog):
    keras.utils.set_random_seed(2)
    inputs = keras.Input((len(FEATURES),))
    low, high = seed[0].min(axis=0), seed[0].max(axis=0)
    scaled = keras.layers.Rescaling(scale=(1 / (high - low)).tolist(), offset=(-low / (high - low)).tolist())(inputs)
    scaled = keras.layers.BatchNormalization()(keras.layers.GaussianNoise(0.1)(scaled))
    branches = [keras.layers.Dense(3, activation=name)(scaled)
                for name in ("linear", "sigmoid", "tanh", "elu", "selu", "softplus", "softsign", "silu", "relu6",
                             "hard_sigmoid", "exponential")]
    branches.append(keras.layers.ReLU()(keras.layers.Dense(3)(scaled)))
    branches.append(keras.layers.Activation("tanh")(keras.layers.Add()([branches[0], branches[1]])))
    mixed = keras.layers.Concatenate()(branches)
    outputs = keras.layers.Softmax()(keras.layers.Dense(len(CLASSES))(mixed))

    assert_agrees(trained_ensemble(seed, inputs, outputs), catalog)


def test_a_layer_without_an_sql_form_falls_back_to_keras_and_says_so(seed, caplog):
    inputs = keras.Input((len(FEATURES),))
    outputs = keras.layers.Dense(len(CLASSES), activation="softmax")(keras.layers.LayerNormalization()(inputs))
    model = keras.Model(inputs, outputs)
    with pytest.raises(NotCompilable, match="LayerNormalization"):
        compile_model(model, list(FEATURES))

    with caplog.at_level(logging.WARNING, logger="score"):
        engine = choose_engine(model, list(FEATURES))

    assert isinstance(engine, KerasEngine)
    assert "which has no SQL form: scoring with Keras on Arrow batches" in caplog.text
    np.testing.assert_allclose(engine.predict(as_table(seed[0][:50].astype(np.float64))),
                               model.predict(seed[0][:50], verbose=0), atol=1e-6)


def test_small_networks_run_as_sql_and_large_ones_with_keras(seed, trained):
    article = build_model(PRESETS["article"], seed[0]).classifier

    assert isinstance(choose_engine(article, list(FEATURES)), SqlEngine)
    assert isinstance(choose_engine(registry.current().load(), list(FEATURES)), KerasEngine)  # 5 x Dense(32)
    assert isinstance(choose_engine(registry.current().load(), list(FEATURES), "sql"), SqlEngine)
