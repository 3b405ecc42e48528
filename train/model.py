"""The mood classifier: the article's network, with its scaling built into the model.

Scaling inside the model means the exported file takes raw features, exactly as they are in
`track_features`: scoring needs nothing else, and train/serve skew cannot happen.
"""

import keras
import numpy as np
import tensorflow as tf

from moodcast.contract import CLASSES, FEATURES
from train.config import TrainConfig


def min_max_scaling(training_features: np.ndarray) -> keras.layers.Rescaling:
    """Map each feature's training range onto [0, 1], as the article's MinMaxScaler did."""
    low = training_features.min(axis=0)
    span = training_features.max(axis=0) - low
    span[span == 0] = 1.0  # a constant feature carries no signal; keep it finite
    return keras.layers.Rescaling(scale=(1.0 / span).tolist(), offset=(-low / span).tolist(), name="min_max_scaling")


def build_model(config: TrainConfig, training_features: np.ndarray) -> keras.Model:
    keras.utils.set_random_seed(config.seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(len(FEATURES),), name="features"),
            min_max_scaling(training_features),
            keras.layers.Dense(config.hidden_units, activation="relu", name="hidden"),
            keras.layers.Dense(len(CLASSES), activation="softmax", name="mood_probabilities"),
        ],
        name="mood_classifier",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def fit(
    model: keras.Model,
    features: np.ndarray,
    labels: np.ndarray,
    config: TrainConfig,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
) -> keras.callbacks.History:
    # A prebuilt tf.data pipeline: Keras's per-epoch overhead with numpy input is 4x the work itself.
    batches = (
        tf.data.Dataset.from_tensor_slices((features, labels))
        .cache()
        .shuffle(len(labels), seed=config.seed, reshuffle_each_iteration=True)
        .batch(config.batch_size)
    )
    return model.fit(batches, epochs=config.epochs, validation_data=validation, shuffle=False, verbose=0)


def predict_probabilities(model: keras.Model, features: np.ndarray) -> np.ndarray:
    return np.asarray(model(features, training=False))
