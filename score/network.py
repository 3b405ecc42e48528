"""Compile an exported Keras model into one DuckDB query, so a catalog is scored at DuckDB's speed.

The model file stays the source of truth: the query is derived from its layers and weights each
time a catalog is scored, and tests hold it to `model.predict`. Keras computes in float32; the query
takes the features rounded to float32 (what the model's input sees) and does the rest in DOUBLE, so
the two agree to float32 precision.

A tensor of shape (batch, units) is a tuple of SQL expressions, one per unit. Expressions used more
than once (a Dense layer's inputs, a softmax's logits) are materialized as columns of a projection
stacked on the one below, so the query stays linear in the size of the model. A layer this module
does not know raises NotCompilable; scoring then runs the Keras model on Arrow batches instead.
Supporting another elementwise layer is one small function in LAYERS or ACTIVATIONS.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import keras
import numpy as np

from moodcast.model.extract import IDENTITY_AT_INFERENCE, affine_of, float32
from moodcast.model.weights import NotCompilable


@dataclass(frozen=True, eq=False)
class Affine:
    """Units that are `base * scale + shift`, unit by unit: a Dense layer folds that into its weights."""

    base: "Units"
    scale: np.ndarray
    shift: np.ndarray


@dataclass(frozen=True, eq=False)
class Units:
    """A (batch, units) tensor: one SQL expression per unit, over the columns of stage `depth`."""

    expressions: tuple[str, ...]
    depth: int  # -1: the source's columns
    affine: Affine | None = None

    def __len__(self) -> int:
        return len(self.expressions)

    def map(self, function: Callable[[str], str]) -> "Units":
        return Units(tuple(function(expression) for expression in self.expressions), self.depth)


@dataclass
class Query:
    """Projections stacked on a source: each selects every column of the one below, plus new ones."""

    stages: list[list[str]] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # expression -> the column that holds it
    multiplications: int = 0  # per row, in Dense layers: what the query's cost grows with

    def materialize(self, units: Units) -> Units:
        if set(units.expressions) <= set(self.columns.values()):
            return units
        depth = units.depth + 1
        while len(self.stages) <= depth:
            self.stages.append([])
        for expression in units.expressions:
            if expression not in self.columns:  # the same input of several layers is computed once
                name = f"__unit_{len(self.columns)}"
                self.stages[depth].append(f"{expression} as {name}")
                self.columns[expression] = name
        return Units(tuple(self.columns[expression] for expression in units.expressions), depth)

    def sql(self, source: str, outputs: dict[str, str]) -> str:
        """`select <outputs> from` the stages over `source` (a table, a view or a parenthesised query)."""
        relation = source
        for stage in self.stages:
            relation = f"(select *, {', '.join(stage)} from {relation})"
        named = ", ".join(f"{expression} as {name}" for name, expression in outputs.items())
        return f"select *, {named} from {relation}"


def number(value: float) -> str:
    """A DOUBLE literal: with an exponent DuckDB reads it as DOUBLE (without one, as DECIMAL)."""
    return f"{float(value):.17e}"


def affine(units: Units, scale: np.ndarray, shift: np.ndarray) -> Units:
    """units * scale + shift, remembered as such (composed with an affine map below) for Dense to fold."""
    below = units.affine or Affine(units, np.ones(len(units)), np.zeros(len(units)))
    scale, shift = below.scale * scale, below.shift * scale + shift
    expressions = tuple(f"({x} * {number(a)} + {number(b)})"
                        for x, a, b in zip(below.base.expressions, scale, shift, strict=True))
    return Units(expressions, below.base.depth, Affine(below.base, scale, shift))


# Activations: (query, units) -> units. Those that use their input more than once materialize it first.
def softmax(query: Query, units: Units) -> Units:
    logits = query.materialize(units)
    top = query.materialize(Units((f"greatest({', '.join(logits.expressions)})",), logits.depth))
    shifted = query.materialize(Units(tuple(f"exp({z} - {top.expressions[0]})" for z in logits.expressions),
                                      top.depth))
    total = query.materialize(Units((" + ".join(shifted.expressions),), shifted.depth))
    return Units(tuple(f"{e} / {total.expressions[0]}" for e in shifted.expressions), total.depth)


def reusing(template: str) -> Callable[[Query, Units], Units]:
    """An activation whose formula names its input more than once, as {x}."""
    def activation(query: Query, units: Units) -> Units:
        return query.materialize(units).map(lambda x: template.format(x=x))
    return activation


ACTIVATIONS: dict[str, Callable[[Query, Units], Units]] = {
    "linear": lambda query, units: units,
    "relu": lambda query, units: units.map(lambda x: f"greatest({x}, 0.0)"),
    "sigmoid": lambda query, units: units.map(lambda x: f"1.0 / (1.0 + exp(-({x})))"),
    "tanh": lambda query, units: units.map(lambda x: f"tanh({x})"),
    "exponential": lambda query, units: units.map(lambda x: f"exp({x})"),
    "relu6": lambda query, units: units.map(lambda x: f"least(greatest({x}, 0.0), 6.0)"),
    "hard_sigmoid": lambda query, units: units.map(lambda x: f"least(greatest({x} + 3.0, 0.0), 6.0) / 6.0"),
    "elu": reusing("case when {x} > 0 then {x} else exp({x}) - 1.0 end"),
    "selu": reusing("1.0507009873554805 * case when {x} > 0 then {x} else 1.6732632423543772 * (exp({x}) - 1.0) end"),
    "softplus": reusing("greatest({x}, 0.0) + ln(1.0 + exp(-abs({x})))"),
    "softsign": reusing("{x} / (1.0 + abs({x}))"),
    "silu": reusing("{x} / (1.0 + exp(-({x})))"),
    "swish": reusing("{x} / (1.0 + exp(-({x})))"),
    "softmax": softmax,
}


def activation(query: Query, name, units: Units) -> Units:
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise NotCompilable(f"activation {name!r}")
    return ACTIVATIONS[name](query, units)


# Layers: (query, layer, inputs) -> output. Inputs are the layer's input tensors, in call order.
def dense(query: Query, layer, inputs: list[Units]) -> Units:
    (units,) = inputs
    weights = [float32(w) for w in layer.get_weights()]
    kernel, bias = weights if layer.use_bias else (weights[0], np.zeros(weights[0].shape[1]))
    if kernel.shape[0] != len(units):
        raise NotCompilable(f"{layer.name} expects {kernel.shape[0]} inputs, got {len(units)}")
    if units.affine:  # (x * a + b) @ W + c = x @ (a W) + (b @ W + c): the scaling costs nothing per row
        kernel, bias = units.affine.scale[:, None] * kernel, units.affine.shift @ kernel + bias
        units = units.affine.base
    units = query.materialize(units)
    query.multiplications += kernel.size
    sums = tuple(
        " + ".join([*(f"{x} * {number(w)}" for x, w in zip(units.expressions, kernel[:, j], strict=True)),
                    number(bias[j])])
        for j in range(kernel.shape[1])
    )
    return activation(query, layer.get_config()["activation"], Units(sums, units.depth))


def affine_layer(query: Query, layer, inputs: list[Units]) -> Units:
    (units,) = inputs
    return affine(units, *affine_of(layer, len(units)))


def log_features(query: Query, layer, inputs: list[Units]) -> Units:
    """moodcast.model.layers.LogFeatures: log(max(x, 0) + offset) where there is an offset, x elsewhere."""
    (units,) = inputs
    offsets = layer.offsets
    if len(offsets) != len(units):
        raise NotCompilable(f"{layer.name} has {len(offsets)} offsets for {len(units)} features")
    return Units(tuple(
        x if offset is None else f"ln(greatest({x}, 0.0) + {number(np.float32(offset))})"
        for x, offset in zip(units.expressions, offsets, strict=True)
    ), units.depth)


def activation_layer(query: Query, layer, inputs: list[Units]) -> Units:
    return activation(query, layer.get_config()["activation"], inputs[0])


def softmax_layer(query: Query, layer, inputs: list[Units]) -> Units:
    if layer.axis not in (-1, 1):
        raise NotCompilable(f"{layer.name}: softmax over axis {layer.axis}")
    return softmax(query, inputs[0])


def relu_layer(query: Query, layer, inputs: list[Units]) -> Units:
    if layer.max_value is not None or layer.negative_slope or layer.threshold:
        raise NotCompilable(f"{layer.name}: ReLU with max_value, negative_slope or threshold")
    return ACTIVATIONS["relu"](query, inputs[0])


def merge(operator: Callable[[list[str]], str]) -> Callable[[Query, object, list[Units]], Units]:
    """A merge layer of same-shaped tensors, unit by unit."""
    def compile_merge(query: Query, layer, inputs: list[Units]) -> Units:
        if len({len(units) for units in inputs}) != 1:
            raise NotCompilable(f"{layer.name}: merging tensors of different widths")
        return Units(tuple(operator(list(unit)) for unit in zip(*(u.expressions for u in inputs), strict=True)),
                     max(units.depth for units in inputs))
    return compile_merge


def concatenate(query: Query, layer, inputs: list[Units]) -> Units:
    if layer.axis not in (-1, 1):
        raise NotCompilable(f"{layer.name}: concatenation over axis {layer.axis}")
    depth = max(units.depth for units in inputs)
    # Expressions from shallower stages stay valid higher up: every stage passes every column on.
    return Units(tuple(e for units in inputs for e in units.expressions), depth)


LAYERS: dict[str, Callable[[Query, object, list[Units]], Units]] = {
    "Dense": dense,
    "Rescaling": affine_layer,
    "Normalization": affine_layer,
    "BatchNormalization": affine_layer,
    "LogFeatures": log_features,
    "Activation": activation_layer,
    "Softmax": softmax_layer,
    "ReLU": relu_layer,
    "Average": merge(lambda xs: f"({' + '.join(xs)}) / {number(len(xs))}"),
    "Add": merge(lambda xs: f"({' + '.join(xs)})"),
    "Subtract": merge(lambda xs: f"({xs[0]} - {xs[1]})"),
    "Multiply": merge(lambda xs: " * ".join(f"({x})" for x in xs)),
    "Maximum": merge(lambda xs: f"greatest({', '.join(xs)})"),
    "Minimum": merge(lambda xs: f"least({', '.join(xs)})"),
    "Concatenate": concatenate,
}


def compile_layer(query: Query, layer, inputs: list[Units]) -> Units:
    kind = type(layer).__name__
    if isinstance(layer, keras.Model):
        return compile_graph(query, layer, inputs)
    if kind in IDENTITY_AT_INFERENCE:
        return inputs[0]
    if kind not in LAYERS:
        raise NotCompilable(f"layer {layer.name!r} ({kind})")
    return LAYERS[kind](query, layer, inputs)


def compile_graph(query: Query, model: keras.Model, inputs: list[Units]) -> Units:
    """The model's one output, in terms of its inputs: a walk back from the output through the graph."""
    if isinstance(model, keras.Sequential):
        (units,) = inputs
        for layer in model.layers:
            units = compile_layer(query, layer, [units])
        return units
    if len(model.inputs) != len(inputs) or len(model.outputs) != 1:
        raise NotCompilable(f"model {model.name!r} has {len(model.inputs)} inputs and {len(model.outputs)} outputs")
    known = {id(tensor): units for tensor, units in zip(model.inputs, inputs, strict=True)}

    def value(tensor) -> Units:
        if id(tensor) not in known:
            layer, node_index, _ = tensor._keras_history
            node = layer._inbound_nodes[node_index]
            if len(node.output_tensors) != 1:
                raise NotCompilable(f"layer {layer.name!r} has several outputs")
            known[id(tensor)] = compile_layer(query, layer, [value(t) for t in node.input_tensors])
        return known[id(tensor)]

    return value(model.outputs[0])


@dataclass(frozen=True)
class CompiledNetwork:
    query: Query
    outputs: Units

    @property
    def multiplications(self) -> int:
        return self.query.multiplications

    def sql(self, source: str, output_names: tuple[str, ...]) -> str:
        """Every column of `source`, plus the model's outputs under `output_names`."""
        return self.query.sql(source, dict(zip(output_names, self.outputs.expressions, strict=True)))


def compile_model(model: keras.Model, features: list[str]) -> CompiledNetwork:
    """The model as SQL over a relation with one column per feature (in the model's input order)."""
    shape = tuple(model.inputs[0].shape) if len(model.inputs) == 1 else None
    if shape != (None, len(features)):
        raise NotCompilable(f"model input shape {shape}, expected (None, {len(features)})")
    query = Query()
    inputs = Units(tuple(f"cast({feature} as float)::double" for feature in features), -1)
    outputs = compile_graph(query, model, [query.materialize(inputs)])
    return CompiledNetwork(query, query.materialize(outputs))
