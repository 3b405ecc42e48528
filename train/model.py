"""The mood classifier: preprocessing inside the model, then an ensemble of small networks.

Preprocessing is part of the exported model, adapted on the training rows, so the model takes
raw features exactly as they are in `track_features`: scoring needs nothing else, and
train/serve skew cannot happen. The ensemble's members are trained together as one Keras model
with a (batch, members, classes) output — each member has its own loss — and exported as a
second model over the same layers that averages their probabilities.
"""

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from moodcast.contract import CLASSES, FEATURES
from moodcast.model.layers import LOG_OFFSETS, LogFeatures
from train.config import TrainConfig


@dataclass(frozen=True)
class MoodModel:
    trainer: keras.Model  # (batch, members, classes): what is fitted
    classifier: keras.Model  # (batch, classes): the members' average, what is exported and scored


def min_max_scaling(training_features: np.ndarray) -> keras.layers.Rescaling:
    """Map each feature's training range onto [0, 1], as the article's MinMaxScaler did."""
    low = training_features.min(axis=0)
    span = training_features.max(axis=0) - low
    span[span == 0] = 1.0  # a constant feature carries no signal; keep it finite
    return keras.layers.Rescaling(scale=(1.0 / span).tolist(), offset=(-low / span).tolist(), name="min_max_scaling")


def log_features() -> LogFeatures:
    """The log of the skewed features (LOG_OFFSETS), the others as they are, in the contract's order."""
    return LogFeatures([LOG_OFFSETS.get(feature) for feature in FEATURES], name="log_features")


def preprocess(config: TrainConfig, training_features: np.ndarray, inputs: keras.KerasTensor) -> keras.KerasTensor:
    if config.preprocessing == "min_max":
        return min_max_scaling(training_features)(inputs)
    logged = log_features()
    standardize = keras.layers.Normalization(name="standardize")
    standardize.adapt(np.asarray(logged(training_features)))
    return standardize(logged(inputs))


def member(config: TrainConfig, index: int, scaled: keras.KerasTensor) -> keras.KerasTensor:
    """One network: a hidden ReLU layer (none: a softmax regression), dropout while training (if any), the
    four probabilities."""
    penalty = keras.regularizers.L2(config.l2) if config.l2 else None
    hidden = scaled
    if config.hidden_units:
        hidden = keras.layers.Dense(config.hidden_units, activation="relu", kernel_regularizer=penalty,
                                    name=f"member{index}_hidden")(scaled)
    if config.dropout:
        hidden = keras.layers.Dropout(config.dropout, seed=config.seed + index, name=f"member{index}_dropout")(hidden)
    return keras.layers.Dense(len(CLASSES), activation="softmax", kernel_regularizer=penalty,
                              name=f"member{index}_probabilities")(hidden)


def build_model(config: TrainConfig, training_features: np.ndarray) -> MoodModel:
    keras.utils.set_random_seed(config.seed)
    inputs = keras.Input(shape=(len(FEATURES),), name="features")
    scaled = preprocess(config, training_features, inputs)
    members = [member(config, i, scaled) for i in range(config.members)]
    stacked = keras.layers.Concatenate(axis=1, name="members")(
        [keras.layers.Reshape((1, len(CLASSES)), name=f"member{i}_row")(p) for i, p in enumerate(members)]
    )
    averaged = members[0] if len(members) == 1 else keras.layers.Average(name="mood_probabilities")(members)
    trainer = keras.Model(inputs, stacked, name="mood_members")
    trainer.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss="categorical_crossentropy",
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    return MoodModel(trainer, keras.Model(inputs, averaged, name="mood_classifier"))


def member_targets(labels: np.ndarray, members: int) -> np.ndarray:
    """One-hot labels repeated for every member: (n, members, classes)."""
    return np.repeat(np.eye(len(CLASSES), dtype="float32")[labels][:, None, :], members, axis=1)


def fit(
    model: MoodModel,
    features: np.ndarray,
    labels: np.ndarray,
    config: TrainConfig,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
) -> keras.callbacks.History:
    # A prebuilt tf.data pipeline: Keras's per-epoch overhead with numpy input is 4x the work itself.
    batches = (
        tf.data.Dataset.from_tensor_slices((features, member_targets(labels, config.members)))
        .cache()
        .shuffle(len(labels), seed=config.seed, reshuffle_each_iteration=True)
        .batch(config.batch_size)
    )
    validation_data = None if validation is None else (validation[0], member_targets(validation[1], config.members))
    return model.trainer.fit(batches, epochs=config.epochs, validation_data=validation_data, shuffle=False, verbose=0)


def predict_probabilities(classifier: keras.Model, features: np.ndarray) -> np.ndarray:
    return np.asarray(classifier(features, training=False))
