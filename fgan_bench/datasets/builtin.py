"""Built-in datasets: the reference's synthetic targets and real images that need no download.

Synthetic targets carry their exact density as a TFP mixture; training batches are
sampled from it, and the metrics evaluate it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from fgan_bench._lazy import tf, tfp
from fgan_bench.datasets import validation
from fgan_bench.datasets.base import Dataset
from fgan_bench.datasets.fingerprint import content_fingerprint
from fgan_bench.errors import FganBenchError

VECTOR_RANGE = (-math.inf, math.inf)
IMAGE_RANGE = (-1.0, 1.0)


class GaussianMixture:
    """A mixture of diagonal Gaussians: its exact density and a fast stateless sampler.

    ``distribution()`` is the TFP ``MixtureSameFamily`` (for densities and metrics).
    ``sample(n, seed)`` draws the same law 4–5× faster than TFP's mixture sampler, which
    draws from every component: a component index from the categorical, then
    loc + scale·ε, with stateless ops keyed by ``seed``.
    """

    def __init__(self, locs, scale, weights=None):
        self.locs = np.asarray(locs, np.float32)
        self.scales = np.broadcast_to(np.asarray(scale, np.float32), self.locs.shape).copy()
        probs = np.ones(len(self.locs)) if weights is None else np.asarray(weights, np.float64)
        self.probs = (probs / probs.sum()).astype(np.float32)

    def distribution(self):
        tfd = tfp.distributions
        return tfd.MixtureSameFamily(
            mixture_distribution=tfd.Categorical(probs=self.probs),
            components_distribution=tfd.Independent(tfd.Normal(self.locs, self.scales), reinterpreted_batch_ndims=1),
        )

    def sample(self, n, seed):
        component_seed, noise_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        logits = tf.math.log(tf.constant(self.probs))[None, :]
        component = tf.random.stateless_categorical(logits, n, seed=component_seed)[0]
        noise = tf.random.stateless_normal(tf.concat([[n], self.locs.shape[1:]], 0), seed=noise_seed)
        return tf.gather(tf.constant(self.locs), component) + tf.gather(tf.constant(self.scales), component) * noise


def mixture1d(
    mu1: float = 0.0, sigma1: float = 1.0, mu2: float = 2.5, sigma2: float = 0.6, weight: float = 0.5
) -> Dataset:
    """The reference's 1-D target P = w·N(μ₁, σ₁²) + (1 − w)·N(μ₂, σ₂²), default 0.5·N(0, 1) + 0.5·N(2.5, 0.6²)."""
    if not (sigma1 > 0 and sigma2 > 0 and 0 < weight < 1):
        raise ValueError("mixture1d needs sigma1, sigma2 > 0 and 0 < weight < 1")
    mixture = GaussianMixture([[mu1], [mu2]], [[sigma1], [sigma2]], [weight, 1 - weight])
    return Dataset(
        name="mixture1d",
        kind="vector",
        shape=(1,),
        value_range=VECTOR_RANGE,
        description=f"1-D mixture {weight:g}·N({mu1:g}, {sigma1:g}²) + {1 - weight:g}·N({mu2:g}, {sigma2:g}²)",
        distribution=mixture.distribution,
        sampler=mixture.sample,
        defaults={"model": "linear"},
        parameters={"mu1": mu1, "sigma1": sigma1, "mu2": mu2, "sigma2": sigma2, "weight": weight},
    )


def ring8() -> Dataset:
    """8 Gaussians at radius 2, angles 2πk/8 for k = 0…7 (not linspace(0, 2π, 8), which repeats one), σ = 0.02."""
    angles = 2 * np.pi * np.arange(8) / 8
    modes = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return Dataset(
        name="ring8",
        kind="vector",
        shape=(2,),
        value_range=VECTOR_RANGE,
        description="8 Gaussians on a circle of radius 2, σ = 0.02",
        distribution=GaussianMixture(modes, 0.02).distribution,
        sampler=GaussianMixture(modes, 0.02).sample,
        modes=modes.astype(np.float32),
        mode_std=0.02,
    )


def grid25() -> Dataset:
    """25 Gaussians at {−4, −2, 0, 2, 4}², σ = 0.05."""
    axis = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
    modes = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    return Dataset(
        name="grid25",
        kind="vector",
        shape=(2,),
        value_range=VECTOR_RANGE,
        description="25 Gaussians on the grid {−4, −2, 0, 2, 4}², σ = 0.05",
        distribution=GaussianMixture(modes, 0.05).distribution,
        sampler=GaussianMixture(modes, 0.05).sample,
        modes=modes.astype(np.float32),
        mode_std=0.05,
    )


def spiral() -> Dataset:
    """A 2-D spiral (t cos t, t sin t)/5 for t ∈ [1.5π, 4.5π], as 200 Gaussians (σ = 0.05) uniform along the arc."""
    t = np.linspace(1.5 * np.pi, 4.5 * np.pi, 200)
    centres = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 5.0
    arc_length_density = np.sqrt(1.0 + t**2)
    return Dataset(
        name="spiral",
        kind="vector",
        shape=(2,),
        value_range=VECTOR_RANGE,
        description="a spiral arm, 200 Gaussians (σ = 0.05) uniform along the arc",
        distribution=GaussianMixture(centres, 0.05, arc_length_density).distribution,
        sampler=GaussianMixture(centres, 0.05, arc_length_density).sample,
    )


def _images_in_range(images: np.ndarray) -> np.ndarray:
    """Images scaled to [−1, 1] (the generator's tanh range), with a channel axis."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise FganBenchError(f"expected images of shape (n, height, width[, channels]), got {images.shape}")
    images = images.astype(np.float32)
    low, high = float(images.min()), float(images.max())
    scale = 255.0 if high > 1.0 else 1.0
    if low < 0.0:
        return np.clip(images, -1.0, 1.0)
    return images / scale * 2.0 - 1.0


#: The digits' fixed train/test split: 360 of the 1,797 images (20 %) are held out.
DIGITS_TEST_SIZE = 360
DIGITS_SPLIT_SEED = 0


def digits() -> Dataset:
    """scikit-learn's bundled 8×8 handwritten digits (1,797 images), scaled to [−1, 1]."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = _images_in_range(bunch.images / 16.0)
    order = np.random.default_rng(DIGITS_SPLIT_SEED).permutation(len(images))
    train, test = order[DIGITS_TEST_SIZE:], order[:DIGITS_TEST_SIZE]
    return Dataset(
        name="digits",
        kind="image",
        shape=(8, 8, 1),
        value_range=IMAGE_RANGE,
        description=f"scikit-learn's 8×8 digits ({len(train)} training + {len(test)} test images, offline)",
        array=images[train],
        labels=bunch.target[train],
        test_array=images[test],
        test_labels=bunch.target[test],
    )


def _keras_cache_file(filename: str) -> Path:
    home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return Path(home) / "datasets" / filename


def _keras_npz(name: str, filename: str, path: str | None) -> Dataset:
    file = Path(path).expanduser() if path else _keras_cache_file(filename)
    if not file.is_file():
        raise FganBenchError(
            f"{name} data not found at {file}: put Keras' {filename} (arrays x_train, y_train, x_test, y_test) there, "
            f"or pass {name}:path=FILE; fgan-bench never downloads"
        )
    archive = validation.load_numpy_file(file)
    if not isinstance(archive, dict) or "x_train" not in archive:
        found = ", ".join(archive) if isinstance(archive, dict) else "a single .npy array"
        raise FganBenchError(f"{file} has no array 'x_train' (found: {found}); save it with numpy.savez(x_train=...)")
    images = validation.check_examples(archive["x_train"], str(file))
    labels = archive.get("y_train")
    test = archive.get("x_test")
    test_labels = archive.get("y_test") if test is not None else None
    array = _images_in_range(images)
    validation.check_image_shape(array.shape[1:], str(file))
    return Dataset(
        name=name,
        kind="image",
        shape=array.shape[1:],
        value_range=IMAGE_RANGE,
        description=f"{name} training images from {file}",
        array=array,
        labels=labels,
        test_array=None if test is None else _images_in_range(validation.check_examples(test, f"{file} (x_test)")),
        test_labels=test_labels,
        parameters={"path": str(file)} if path else {},
        fingerprint=content_fingerprint(file) if path else None,
    )


def mnist(path: str | None = None) -> Dataset:
    """MNIST from Keras' ``mnist.npz`` ($KERAS_HOME/datasets or ~/.keras/datasets, or ``path``)."""
    return _keras_npz("mnist", "mnist.npz", path)


def fashion_mnist(path: str | None = None) -> Dataset:
    """Fashion-MNIST from a Keras-format ``fashion_mnist.npz`` (same layout as ``mnist.npz``)."""
    return _keras_npz("fashion_mnist", "fashion_mnist.npz", path)


BUILTIN_DATASETS = {
    "mixture1d": mixture1d,
    "ring8": ring8,
    "grid25": grid25,
    "spiral": spiral,
    "digits": digits,
    "mnist": mnist,
    "fashion_mnist": fashion_mnist,
}
