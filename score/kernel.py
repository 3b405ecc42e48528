"""Compile moodcast's model into a native kernel (numba) that scores Arrow batches on one core.

The models `python -m train` exports have one shape: the 10 contract features, per-feature
preprocessing (LogFeatures, Normalization, Rescaling), then one or more members — a hidden Dense
layer and a softmax Dense layer over the 4 classes — averaged. This module recognises that shape in
the exported Keras graph and takes its weights; the model file stays the source of truth, and tests
hold the kernel to `model.predict`. Any other shape raises NotCompilable, and scoring uses the
compiled SQL or Keras instead.

Why a kernel of our own: the default model, five members of 32 hidden units, costs 2,240
multiply-adds per track. TensorFlow spends most of its time moving (batch, 32) tensors through
memory between ops, DuckDB's SQL form evaluates one expression at a time; this kernel keeps a
block of rows in cache and computes the whole network on it, vectorised across rows: about 5 M
tracks/s on one core here, several times either. The preprocessing is folded into the hidden
layer's weights, in float64 and then rounded to float32, so probabilities differ from Keras's by
float32 rounding only (~1e-6).

The sums over the 10 features and the 4 classes are written out term by term: with no loop inside
the loop over rows, LLVM vectorises across rows. Hence the fixed sizes, which are the contract's.
"""

from dataclasses import dataclass

import keras
import numpy as np
from numba import njit

from moodcast.contract import CLASSES, FEATURES
from moodcast.layers import LogFeatures
from score.network import IDENTITY_AT_INFERENCE, NotCompilable, affine_of

HIDDEN_ACTIVATIONS = {"relu": True, "linear": False}  # activation -> clip at zero
BLOCK_ROWS = 512  # rows computed together: their features and logits stay in the core's L1/L2 cache
N_FEATURES, N_CLASSES = len(FEATURES), len(CLASSES)
assert (N_FEATURES, N_CLASSES) == (10, 4), "the kernel's sums are written out for 10 features and 4 classes"


@dataclass(frozen=True)
class Weights:
    """The network as the kernel takes it, all float32: preprocessing folded into the hidden layer."""

    log_offsets: np.ndarray  # (features,): log(max(x, 0) + offset) where log_mask is set
    log_mask: np.ndarray  # (features,) bool
    hidden_kernel: np.ndarray  # (members, features, hidden)
    hidden_bias: np.ndarray  # (members, hidden)
    relu: bool
    output_kernel: np.ndarray  # (members, hidden, classes)
    output_bias: np.ndarray  # (members, classes)


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
            continue
        layer_scale, layer_shift = affine_of(layer, N_FEATURES)  # raises NotCompilable for other layers
        scale, shift = scale * layer_scale, shift * layer_scale + layer_shift
    return offsets, mask, scale, shift


def extract_weights(model: keras.Model) -> Weights:
    """The model's weights in the kernel's form, or NotCompilable when it is not of moodcast's shape."""
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
        hidden_layer, member_input = dense_input(hidden_tensor)
        hidden.append(dense_weights(hidden_layer, set(HIDDEN_ACTIVATIONS)))
        activations.add(hidden_layer.get_config()["activation"])
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


@njit(fastmath=True, nogil=True, cache=True, boundscheck=False)
def score_block(x, log_offsets, log_mask, w1, b1, relu, w2, b2, probabilities, top, confidence):
    """Probabilities (classes, n), most probable class (n) and its probability (n) from x (features, n)."""
    n = x.shape[1]
    members, _, hidden = w1.shape
    for start in range(0, n, BLOCK_ROWS):
        rows = min(n, start + BLOCK_ROWS) - start
        f = np.empty((N_FEATURES, rows), np.float32)
        for k in range(N_FEATURES):
            for r in range(rows):
                value = x[k, start + r]
                f[k, r] = np.log(max(value, np.float32(0.0)) + log_offsets[k]) if log_mask[k] else value
        total = np.zeros((N_CLASSES, rows), np.float32)
        z = np.empty((N_CLASSES, rows), np.float32)
        for m in range(members):
            for c in range(N_CLASSES):
                z[c, :] = b2[m, c]
            for j in range(hidden):
                v = w1[m, :, j].copy()
                o = w2[m, j, :].copy()
                bias = b1[m, j]
                for r in range(rows):
                    h = (bias + f[0, r] * v[0] + f[1, r] * v[1] + f[2, r] * v[2] + f[3, r] * v[3] + f[4, r] * v[4]
                         + f[5, r] * v[5] + f[6, r] * v[6] + f[7, r] * v[7] + f[8, r] * v[8] + f[9, r] * v[9])
                    if relu:
                        h = max(h, np.float32(0.0))
                    z[0, r] += h * o[0]
                    z[1, r] += h * o[1]
                    z[2, r] += h * o[2]
                    z[3, r] += h * o[3]
            for r in range(rows):  # softmax, shifted by the largest logit as Keras does
                peak = max(max(z[0, r], z[1, r]), max(z[2, r], z[3, r]))
                e0, e1 = np.exp(z[0, r] - peak), np.exp(z[1, r] - peak)
                e2, e3 = np.exp(z[2, r] - peak), np.exp(z[3, r] - peak)
                inverse = np.float32(1.0) / (e0 + e1 + e2 + e3)
                total[0, r] += e0 * inverse
                total[1, r] += e1 * inverse
                total[2, r] += e2 * inverse
                total[3, r] += e3 * inverse
        for r in range(rows):
            best = 0
            for c in range(N_CLASSES):
                p = total[c, r] / np.float32(members)
                probabilities[c, start + r] = p
                if p > probabilities[best, start + r]:  # the first most probable class, as argmax picks it
                    best = c
            top[start + r] = best
            confidence[start + r] = probabilities[best, start + r]


class Kernel:
    """A compiled model: `predict` takes (features, n) float32 and runs on the calling thread, GIL released."""

    def __init__(self, weights: Weights):
        self.weights = weights

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(probabilities (classes, n) float32, most probable class (n) int8, confidence (n) float32)."""
        n = x.shape[1]
        probabilities = np.empty((N_CLASSES, n), np.float32)
        top, confidence = np.empty(n, np.int8), np.empty(n, np.float32)
        w = self.weights
        score_block(np.ascontiguousarray(x, np.float32), w.log_offsets, w.log_mask, w.hidden_kernel, w.hidden_bias,
                    w.relu, w.output_kernel, w.output_bias, probabilities, top, confidence)
        return probabilities, top, confidence


def compile_kernel(model: keras.Model, features: list[str]) -> Kernel:
    if tuple(features) != FEATURES:
        raise NotCompilable(f"features {features}, expected moodcast's {list(FEATURES)} in that order")
    return Kernel(extract_weights(model))
