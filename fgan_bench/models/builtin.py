"""The built-in generator and critic builders (registered in :mod:`fgan_bench.models`).

* ``"mlp"`` (vector data): fully connected, ReLU hidden layers, linear output.
* ``"dcgan"`` (images): the DCGAN guidelines (Radford et al., 2016) — strided
  (transposed) convolutions instead of pooling, batch norm in both nets except the
  generator's output and the critic's input layer, ReLU and a tanh output in G, LeakyReLU
  in the critic.
* ``"mlp_gan"`` (images): the MLP GAN of Goodfellow et al. (2014) as the lecture notes teach
  it — noise 128 → 256 ReLU → one sigmoid per pixel (mapped to the data's [−1, 1]); critic
  pixels → 256 ReLU → 1.
* ``"linear"`` (the f-GAN paper's 1-D experiment): G(z) = μ + σ·z, θ = (μ, σ), with a
  critic of two hidden layers of 64 tanh units.

Critics output the raw V(x) ∈ ℝ, one number per example: the divergence's output
activation g_f is applied by the loss, never a sigmoid here (erratum E7).
"""

from __future__ import annotations

import keras
import numpy as np


def mlp_generator(latent_dim: int, output_shape: tuple[int, ...], width: int, depth: int) -> keras.Model:
    """z ↦ x: ``depth`` ReLU layers of ``width`` units, then a linear layer to the data shape."""
    inputs = keras.Input((latent_dim,), name="noise")
    x = inputs
    for i in range(depth):
        x = keras.layers.Dense(width, activation="relu", name=f"dense_{i}")(x)
    x = keras.layers.Dense(int(_prod(output_shape)), dtype="float32", name="output")(x)
    outputs = keras.layers.Reshape(output_shape, dtype="float32")(x)
    return keras.Model(inputs, outputs, name="generator")


def mlp_critic(input_shape: tuple[int, ...], width: int, depth: int, activation: str = "relu") -> keras.Model:
    """x ↦ V(x) ∈ ℝ: ``depth`` hidden layers of ``width`` units, then a linear unit."""
    inputs = keras.Input(input_shape, name="data")
    x = keras.layers.Flatten()(inputs) if len(input_shape) > 1 else inputs
    for i in range(depth):
        x = keras.layers.Dense(width, activation=activation, name=f"dense_{i}")(x)
    outputs = keras.layers.Dense(1, dtype="float32", name="v")(x)
    return keras.Model(inputs, outputs, name="critic")


def dcgan_generator(latent_dim: int, image_shape: tuple[int, int, int], filters: int) -> keras.Model:
    """z ↦ image: project to (H/4, W/4, 2·filters), two stride-2 transposed convolutions, tanh."""
    height, width, channels = image_shape
    if height % 4 or width % 4:
        raise ValueError(f"dcgan needs image sides divisible by 4, got {height}×{width}")
    inputs = keras.Input((latent_dim,), name="noise")
    x = keras.layers.Dense((height // 4) * (width // 4) * 2 * filters, use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Reshape((height // 4, width // 4, 2 * filters))(x)
    x = keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2DTranspose(channels, 4, strides=2, padding="same")(x)
    outputs = keras.layers.Activation("tanh", dtype="float32", name="image")(x)
    return keras.Model(inputs, outputs, name="generator")


def dcgan_critic(image_shape: tuple[int, int, int], filters: int) -> keras.Model:
    """image ↦ V ∈ ℝ: two stride-2 convolutions (batch norm on the second), LeakyReLU(0.2), linear unit."""
    inputs = keras.Input(image_shape, name="image")
    x = keras.layers.Conv2D(filters, 4, strides=2, padding="same")(inputs)
    x = keras.layers.LeakyReLU(0.2)(x)
    x = keras.layers.Conv2D(2 * filters, 4, strides=2, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.LeakyReLU(0.2)(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(1, dtype="float32", name="v")(x)
    return keras.Model(inputs, outputs, name="critic")


@keras.saving.register_keras_serializable(package="fgan_bench")
class LocationScale(keras.layers.Layer):
    """G(z) = μ + σ·z with trainable θ = (μ, σ), initialised to (0, 1)."""

    def build(self, input_shape):
        self.mu = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="mu")
        self.sigma = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="sigma")

    def call(self, z):
        return self.mu + self.sigma * z


#: The lecture-notes MLP GAN's hidden width.
MLP_GAN_WIDTH = 256


def mlp_gan_generator(latent_dim: int, image_shape: tuple[int, ...], width: int = MLP_GAN_WIDTH) -> keras.Model:
    """z ↦ image: one ReLU layer of ``width`` units, a sigmoid output per pixel, mapped to [−1, 1]."""
    inputs = keras.Input((latent_dim,), name="noise")
    x = keras.layers.Dense(width, activation="relu", name="hidden")(inputs)
    x = keras.layers.Dense(int(_prod(image_shape)), activation="sigmoid", dtype="float32", name="pixels")(x)
    x = keras.layers.Rescaling(2.0, offset=-1.0, dtype="float32", name="to_data_range")(x)
    outputs = keras.layers.Reshape(image_shape, dtype="float32")(x)
    return keras.Model(inputs, outputs, name="generator")


def mlp_gan_critic(image_shape: tuple[int, ...], width: int = MLP_GAN_WIDTH) -> keras.Model:
    """image ↦ V ∈ ℝ: flatten, one ReLU layer of ``width`` units, a linear unit (g_f is the loss's)."""
    return mlp_critic(image_shape, width, 1)


def linear_generator(output_shape: tuple[int, ...]) -> keras.Model:
    """The paper's 1-D generator G(z) = μ + σ·z; its latent dimension equals the data's."""
    dimension = int(_prod(output_shape))
    inputs = keras.Input((dimension,), name="noise")
    outputs = LocationScale(name="location_scale", dtype="float32")(inputs)
    return keras.Model(inputs, keras.layers.Reshape(output_shape)(outputs), name="generator")


def build_mlp(*, shape: tuple[int, ...], latent_dim: int, width: int, depth: int):
    return mlp_generator(latent_dim, shape, width, depth), mlp_critic(shape, width, depth)


def build_dcgan(*, shape: tuple[int, int, int], latent_dim: int, filters: int):
    return dcgan_generator(latent_dim, shape, filters), dcgan_critic(shape, filters)


def build_mlp_gan(*, shape: tuple[int, ...], latent_dim: int):
    return mlp_gan_generator(latent_dim, shape), mlp_gan_critic(shape)


def build_linear(*, shape: tuple[int, ...], latent_dim: int):
    return linear_generator(shape), mlp_critic(shape, 64, 2, activation="tanh")


def _prod(shape) -> int:
    result = 1
    for s in shape:
        result *= int(s)
    return result


def exact_density(generator):
    """The generator's exact density where it has a closed form, else ``None``.

    The linear generator G(z) = μ + σ·z with z ~ N(0, I) has Q = ∏ᵢ N(μᵢ, σᵢ²).
    """
    from fgan_bench.metrics.density import DiagonalGaussian

    try:
        layer = generator.get_layer("location_scale")
    except ValueError:
        return None
    return DiagonalGaussian(np.asarray(layer.mu.numpy(), np.float64), np.asarray(layer.sigma.numpy(), np.float64))
