"""Networks of K members evaluated as one: weights stacked on a leading member axis.

A stacked tensor has shape ``(K, batch, ...)``: member k's batch is ``x[k]``. Each Keras layer
type of the built-in models has a *stacked rule* — a pure function
``rule(layer, value, x, training) -> (y, updates)`` where ``value(variable)`` is the stacked
tensor ``(K, *variable.shape)`` of one of the layer's variables and ``updates`` maps a
non-trainable variable's path to its new stacked value (batch norm's moving statistics).
The graph of a stacked network is the graph of one network: it does not grow with K.

* Dense: ``y[k] = x[k] · W[k] + b[k]`` — one batched ``einsum`` ``kbi,kio->kbo``.
* Conv2D / Conv2DTranspose: im2col (col2im for the transposed one) and one batched matmul
  with the members on the dot's batch axis (:mod:`fgan_bench.population.convolutions`).
* BatchNormalization: per-member moments over all axes but the member and channel axes,
  ``y = γ (x − μ)/√(σ² + ε) + β``; moving statistics ``m ← m·momentum + μ·(1 − momentum)``.
* Elementwise layers (ReLU, LeakyReLU, Activation, Rescaling) apply as they are.

Plugin models stack through the same table: :func:`register_stacked_layer` adds a rule for a
layer class. A network holding a layer with no rule, or that is not a chain of layers, is not
stackable (:class:`NotStackable`); the population then trains its members one run per step.
Stacked rules run under ``jit_compile`` (the population step is XLA-compiled).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import keras
import tensorflow as tf

from fgan_bench.models.builtin import LocationScale
from fgan_bench.population.convolutions import member_conv2d, member_conv2d_transpose


class NotStackable(Exception):
    """The network cannot be stacked; the message says which layer, in one line."""


#: Layer class → stacked rule (see the module doc).
STACKED_RULES: dict[type, Callable] = {}
#: Layer class → ``check(layer)``, raising :class:`NotStackable` for settings its rule lacks.
STACKED_CHECKS: dict[type, Callable] = {}


def register_stacked_layer(layer_class: type, rule: Callable, check: Callable | None = None) -> None:
    """Makes ``layer_class`` stackable: ``rule(layer, value, x, training) -> (y, updates)``;
    ``check(layer)`` (optional) raises :class:`NotStackable` for a configuration the rule lacks."""
    STACKED_RULES[layer_class] = rule
    if check is not None:
        STACKED_CHECKS[layer_class] = check


def _activate(layer, y):
    activation = getattr(layer, "activation", None)
    return y if activation is None else activation(y)


def stacked_dense(layer, value, x, training):
    """y[k] = act(x[k] W[k] + b[k]): one batched einsum."""
    y = tf.einsum("kbi,kio->kbo", x, value(layer.kernel))
    if layer.bias is not None:
        y = y + value(layer.bias)[:, None, :]
    return _activate(layer, y), {}


def check_conv(layer):
    """Channels last, no dilation, no groups, no output padding, a known image size (im2col slices it)."""
    plain = tuple(layer.dilation_rate) == (1, 1) and getattr(layer, "groups", 1) == 1
    if layer.data_format != "channels_last" or not plain or getattr(layer, "output_padding", None) is not None:
        raise NotStackable(f"layer {layer.name!r}: only channels_last, undilated, ungrouped convolutions stack")
    if None in tuple(layer.input.shape)[1:]:
        raise NotStackable(f"layer {layer.name!r}: a stacked convolution needs a fixed input size, "
                           f"got {tuple(layer.input.shape)}")


def check_batch_normalization(layer):
    """Last axis, no renorm, not synchronized."""
    if layer.axis not in (-1, len(layer.input.shape) - 1) or layer.renorm or layer.synchronized:
        raise NotStackable(f"layer {layer.name!r}: only last-axis batch normalisation without renorm stacks")


def _add_bias(layer, value, y):
    if layer.bias is not None:
        y = y + value(layer.bias)[:, None, None, None, :]
    return _activate(layer, y)


def stacked_conv2d(layer, value, x, training):
    """Member k's kernel on member k's image: im2col and one batched matmul (:mod:`.convolutions`)."""
    y = member_conv2d(x, value(layer.kernel), tuple(layer.strides), layer.padding)
    return _add_bias(layer, value, y), {}


def stacked_conv2d_transpose(layer, value, x, training):
    """Member k's transposed convolution (Keras kernel (h, w, out, in)): one batched matmul and col2im."""
    y = member_conv2d_transpose(x, value(layer.kernel), tuple(layer.strides), layer.padding)
    return _add_bias(layer, value, y), {}


def stacked_batch_normalization(layer, value, x, training):
    """Per-member batch statistics in training (moving averages updated), moving ones otherwise."""
    rank = len(x.shape)
    broadcast = (slice(None), *([None] * (rank - 2)), slice(None))
    updates = {}
    if training:
        mean, variance = tf.nn.moments(x, list(range(1, rank - 1)))
        momentum = layer.momentum
        updates[layer.moving_mean.path] = value(layer.moving_mean) * momentum + mean * (1.0 - momentum)
        updates[layer.moving_variance.path] = value(layer.moving_variance) * momentum + variance * (1.0 - momentum)
    else:
        mean, variance = value(layer.moving_mean), value(layer.moving_variance)
    gamma = value(layer.gamma)[broadcast] if layer.scale else None
    beta = value(layer.beta)[broadcast] if layer.center else None
    y = tf.nn.batch_normalization(x, mean[broadcast], variance[broadcast], beta, gamma, layer.epsilon)
    return y, updates


def stacked_elementwise(layer, value, x, training):
    """A layer without weights acting on each number alone: the same call on the stacked tensor."""
    return layer.call(x), {}


def stacked_reshape(layer, value, x, training):
    """Per example (batch, …) → (batch, *target): the member and batch axes kept."""
    target = [d if d is not None else -1 for d in layer.target_shape]
    return tf.reshape(x, tf.concat([tf.shape(x)[:2], target], 0)), {}


def stacked_flatten(layer, value, x, training):
    return tf.reshape(x, tf.concat([tf.shape(x)[:2], [-1]], 0)), {}


def stacked_location_scale(layer, value, x, training):
    """G(z) = μ + σ·z per member."""
    return value(layer.mu)[:, None, :] + value(layer.sigma)[:, None, :] * x, {}


register_stacked_layer(keras.layers.Conv2D, stacked_conv2d, check_conv)
register_stacked_layer(keras.layers.Conv2DTranspose, stacked_conv2d_transpose, check_conv)
register_stacked_layer(keras.layers.BatchNormalization, stacked_batch_normalization, check_batch_normalization)
for _class, _rule in {
    keras.layers.Dense: stacked_dense,
    keras.layers.ReLU: stacked_elementwise,
    keras.layers.LeakyReLU: stacked_elementwise,
    keras.layers.Activation: stacked_elementwise,
    keras.layers.Rescaling: stacked_elementwise,
    keras.layers.Reshape: stacked_reshape,
    keras.layers.Flatten: stacked_flatten,
    LocationScale: stacked_location_scale,
}.items():
    register_stacked_layer(_class, _rule)


@dataclasses.dataclass(frozen=True)
class StackedNetwork:
    """A Keras chain model as a pure function of stacked weights.

    ``trainable`` and ``non_trainable`` are the template model's variables (Keras order);
    :meth:`__call__` takes lists of stacked tensors in that order.
    """

    model: keras.Model
    layers: tuple

    @property
    def trainable(self):
        return self.model.trainable_variables

    @property
    def non_trainable(self):
        return self.model.non_trainable_variables

    def __call__(self, trainable, non_trainable, x, *, training: bool):
        """(y, new non-trainable list): y[k] = model_k(x[k])."""
        values = {v.path: t for v, t in zip(self.trainable, trainable, strict=True)}
        values.update({v.path: t for v, t in zip(self.non_trainable, non_trainable, strict=True)})
        for layer in self.layers:
            x, updates = STACKED_RULES[type(layer)](layer, lambda v: values[v.path], x, training)
            values.update(updates)
        return x, [values[v.path] for v in self.non_trainable]


def stack_network(model) -> StackedNetwork:
    """The stacked form of ``model``; :class:`NotStackable` names what does not stack."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    previous = model.inputs[0] if len(model.inputs) == 1 else None
    for layer in layers:
        if type(layer) not in STACKED_RULES:
            raise NotStackable(f"layer {layer.name!r} of {model.name!r} ({type(layer).__name__}) has no stacked rule "
                               "(fgan_bench.population.register_stacked_layer)")
        if previous is None or len(layer._inbound_nodes) != 1 or layer.input is not previous:
            raise NotStackable(f"{model.name!r} is not a chain of layers at {layer.name!r}")
        STACKED_CHECKS.get(type(layer), lambda _: None)(layer)
        previous = layer.output
    return StackedNetwork(model, tuple(layers))
