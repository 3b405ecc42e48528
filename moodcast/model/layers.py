"""Keras layers of moodcast's own, shared by training and scoring.

Importing this module registers them with Keras, which `keras.saving.load_model` needs to read
a model that uses them: scoring imports it before loading a model.
"""

import keras
import numpy as np

# log(x + offset) for the right-skewed features: duration and the ratios that pile up near 0.
LOG_OFFSETS = {"length": 1.0, "acousticness": 1e-3, "instrumentalness": 1e-3, "liveness": 1e-3, "speechiness": 1e-3}


@keras.saving.register_keras_serializable(package="moodcast")
class LogFeatures(keras.layers.Layer):
    """log(max(x, 0) + offset) on the features with an offset, identity on the others (offset None)."""

    def __init__(self, offsets: list[float | None], **kwargs):
        super().__init__(**kwargs)
        self.offsets = [None if offset is None else float(offset) for offset in offsets]
        self.mask = np.array([offset is not None for offset in self.offsets], dtype="float32")
        # 1 where there is no offset keeps log finite in the branch the mask then discards.
        self.shift = np.array([offset or 1.0 for offset in self.offsets], dtype="float32")

    def call(self, inputs):
        mask = keras.ops.convert_to_tensor(self.mask)
        logged = keras.ops.log(keras.ops.maximum(inputs, 0.0) + keras.ops.convert_to_tensor(self.shift))
        return inputs * (1.0 - mask) + logged * mask

    def get_config(self) -> dict:
        return {**super().get_config(), "offsets": self.offsets}
