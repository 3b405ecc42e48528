"""Read a model version's Weights (moodcast.model.weights) from its Keras model.

The models `python -m train` exports have one shape: the 10 contract features, per-feature
preprocessing (LogFeatures, Normalization, Rescaling), then one or more members — a hidden Dense
layer (or none: a softmax regression) and a softmax Dense layer over the 4 classes — averaged. This
module recognises that shape in the Keras graph and takes its weights, folding the preprocessing
into the hidden layer's weights in float64, then rounding once to float32. Any other shape raises
NotCompilable, and scoring uses Keras instead.
"""

import logging
from pathlib import Path

import keras
import numpy as np

from moodcast.contract import FEATURES
from moodcast.model.layers import LogFeatures
from moodcast.model.weights import N_CLASSES, N_FEATURES, NotCompilable, Weights, save_weights

log = logging.getLogger("moodcast.model")

IDENTITY_AT_INFERENCE = {
    "InputLayer", "Dropout", "AlphaDropout", "GaussianDropout", "GaussianNoise", "SpatialDropout1D",
    "ActivityRegularization", "Identity",
}
HIDDEN_ACTIVATIONS = {"relu": True, "linear": False}  # activation -> clip at zero


def float32(values) -> np.ndarray:
    """Weights as Keras uses them: float32, widened exactly to double."""
    return np.asarray(values, dtype=np.float32).astype(np.float64)


def affine_of(layer, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(scale, shift), one per unit, of a layer that computes x * scale + shift at inference, in float32."""
    kind = type(layer).__name__
    if kind == "Rescaling":
        scale, shift = float32(layer.scale), float32(layer.offset)
    elif kind == "Normalization":
        if layer.invert:
            raise NotCompilable(f"{layer.name}: Normalization(invert=True)")
        # Keras divides by max(sqrt(variance), epsilon), computed in float32.
        spread = np.maximum(np.sqrt(np.asarray(layer.variance, np.float32)), np.float32(keras.backend.epsilon()))
        scale, shift = 1.0 / float32(spread), -float32(layer.mean) / float32(spread)
    elif kind == "BatchNormalization":
        # At inference: (x - moving_mean) / sqrt(moving_variance + epsilon) * gamma + beta, in float32.
        gamma = np.asarray(layer.gamma, np.float32) if layer.scale else np.ones(width, np.float32)
        beta = np.asarray(layer.beta, np.float32) if layer.center else np.zeros(width, np.float32)
        inverse = gamma / np.sqrt(np.asarray(layer.moving_variance, np.float32) + np.float32(layer.epsilon))
        scale, shift = inverse, beta - np.asarray(layer.moving_mean, np.float32) * inverse
    else:
        raise NotCompilable(f"layer {layer.name!r} ({kind}) is not an affine map")
    return (np.broadcast_to(float32(scale).reshape(-1), (width,)),
            np.broadcast_to(float32(shift).reshape(-1), (width,)))


def producer(tensor) -> tuple[keras.layers.Layer, list]:
    """The layer that computed a tensor of a functional model, and its inputs; layers idle at inference skipped."""
    while True:
        layer, node_index, _ = tensor._keras_history
        inputs = list(layer._inbound_nodes[node_index].input_tensors)
        if type(layer).__name__ not in IDENTITY_AT_INFERENCE or len(inputs) != 1:
            return layer, inputs
        tensor = inputs[0]


def dense_input(tensor) -> tuple[keras.layers.Layer, object]:
    """The Dense layer that computed a tensor, and its input."""
    layer, inputs = producer(tensor)
    if type(layer).__name__ != "Dense" or len(inputs) != 1:
        raise NotCompilable(f"layer {layer.name!r} ({type(layer).__name__}) where a Dense layer was expected")
    return layer, inputs[0]


def dense_weights(layer, activation: str | set[str]) -> tuple[np.ndarray, np.ndarray]:
    name = layer.get_config()["activation"]
    if name not in ({activation} if isinstance(activation, str) else activation):
        raise NotCompilable(f"{layer.name}: activation {name!r}")
    kernel = np.asarray(layer.get_weights()[0], np.float64)
    bias = np.asarray(layer.get_weights()[1], np.float64) if layer.use_bias else np.zeros(kernel.shape[1])
    return kernel, bias


def preprocessing(tensor, model_input) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(log offsets, log mask, scale, shift): the layers between the input and the members, composed."""
    chain = []
    while tensor is not model_input:
        layer, inputs = producer(tensor)
        if type(layer).__name__ == "InputLayer":
            break
        if len(inputs) != 1:
            raise NotCompilable(f"layer {layer.name!r} has {len(inputs)} inputs")
        chain.append(layer)
        tensor = inputs[0]
    offsets, mask = np.ones(N_FEATURES), np.zeros(N_FEATURES, bool)
    scale, shift = np.ones(N_FEATURES), np.zeros(N_FEATURES)
    for layer in reversed(chain):
        if isinstance(layer, LogFeatures):
            if mask.any() or (scale != 1).any() or (shift != 0).any():
                raise NotCompilable(f"{layer.name}: LogFeatures after another preprocessing layer")
            mask = np.array([offset is not None for offset in layer.offsets])
            offsets = np.array([offset or 1.0 for offset in layer.offsets])
            if (offsets <= 0).any():  # the kernel's log takes positive numbers only
                raise NotCompilable(f"{layer.name}: a log offset <= 0")
            continue
        layer_scale, layer_shift = affine_of(layer, N_FEATURES)  # raises NotCompilable for other layers
        scale, shift = scale * layer_scale, shift * layer_scale + layer_shift
    return offsets, mask, scale, shift


def extract_weights(model: keras.Model, features: list[str]) -> Weights:
    """The weights of a model over `features`, or NotCompilable when it is not of moodcast's shape."""
    if tuple(features) != FEATURES:
        raise NotCompilable(f"features {features}, expected moodcast's {list(FEATURES)} in that order")
    if isinstance(model, keras.Sequential) or len(model.inputs) != 1 or len(model.outputs) != 1:
        raise NotCompilable("not a one-input, one-output functional model")
    if tuple(model.inputs[0].shape) != (None, N_FEATURES):
        raise NotCompilable(f"model input shape {tuple(model.inputs[0].shape)}, expected (None, {N_FEATURES})")
    layer, inputs = producer(model.outputs[0])
    members = inputs if type(layer).__name__ == "Average" else [model.outputs[0]]
    hidden, output, shared, activations = [], [], None, set()
    for member in members:
        output_layer, hidden_tensor = dense_input(member)
        output.append(dense_weights(output_layer, "softmax"))
        if type(producer(hidden_tensor)[0]).__name__ == "Dense":
            hidden_layer, member_input = dense_input(hidden_tensor)
            hidden.append(dense_weights(hidden_layer, set(HIDDEN_ACTIVATIONS)))
            activations.add(hidden_layer.get_config()["activation"])
        else:  # a softmax regression: the identity is its hidden layer, and the kernel computes it like the others
            member_input = hidden_tensor
            hidden.append((np.eye(N_FEATURES), np.zeros(N_FEATURES)))
            activations.add("linear")
        if shared is not None and member_input is not shared:
            raise NotCompilable("members that do not share their input")
        shared = member_input
    if len(activations) != 1 or len({kernel.shape for kernel, _ in hidden}) != 1:
        raise NotCompilable("members of different shapes")
    if output[0][0].shape[1] != N_CLASSES:
        raise NotCompilable(f"{output[0][0].shape[1]} outputs, expected {N_CLASSES}")
    offsets, mask, scale, shift = preprocessing(shared, model.inputs[0])
    # (x * scale + shift) @ W + b = x @ (scale W) + (shift @ W + b): folded in float64, rounded once.
    hidden_kernel = np.stack([scale[:, None] * kernel for kernel, _ in hidden])
    hidden_bias = np.stack([shift @ kernel + bias for kernel, bias in hidden])
    return Weights(
        log_offsets=offsets.astype(np.float32),
        log_mask=mask,
        hidden_kernel=hidden_kernel.astype(np.float32),
        hidden_bias=hidden_bias.astype(np.float32),
        relu=HIDDEN_ACTIVATIONS[activations.pop()],
        output_kernel=np.stack([kernel for kernel, _ in output]).astype(np.float32),
        output_bias=np.stack([bias for _, bias in output]).astype(np.float32),
    )


def save_weights_of(model: keras.Model, features: list[str], directory: Path) -> None:
    """Save the model's Weights next to it in `directory`, if it is of their shape."""
    try:
        save_weights(extract_weights(model, features), directory)
    except NotCompilable as why:
        log.info("the native kernel does not take this model (it has %s): scoring will use Keras", why)
