"""Datasets: the reference's definitions, offline images, user files, the input pipeline."""

import math

import numpy as np
import pytest
import tensorflow as tf

import fgan_bench
from fgan_bench.datasets import get_dataset, list_datasets, training_batches


def test_builtin_names():
    assert list_datasets()[:8] == ["mixture1d", "ring8", "grid25", "spiral", "digits", "mnist", "fashion_mnist", "file"]


def test_ring8_has_eight_distinct_modes_at_radius_two():
    ring = get_dataset("ring8")
    np.testing.assert_allclose(np.linalg.norm(ring.modes, axis=1), 2.0, rtol=1e-6)
    angles = np.sort(np.mod(np.arctan2(ring.modes[:, 1], ring.modes[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(angles, 2 * np.pi * np.arange(8) / 8, atol=1e-6)  # not linspace(0, 2π, 8)
    assert ring.mode_std == 0.02


def test_grid25_modes():
    grid = get_dataset("grid25")
    assert sorted(set(grid.modes[:, 0].tolist())) == [-4, -2, 0, 2, 4] and len(grid.modes) == 25
    assert grid.mode_std == 0.05


@pytest.mark.parametrize("name", ["ring8", "grid25", "mixture1d", "spiral"])
def test_fast_sampler_draws_the_exact_density(name):
    dataset = get_dataset(name)
    samples = dataset.sample(40000, seed=3)
    exact = dataset.distribution()
    np.testing.assert_allclose(samples.mean(0), exact.mean().numpy(), atol=0.03)
    np.testing.assert_allclose(samples.std(0), np.sqrt(exact.variance().numpy()), rtol=0.03)
    # The samples are more likely under the target than shifted copies of it.
    assert exact.log_prob(samples).numpy().mean() > exact.log_prob(samples + 0.1).numpy().mean()


def test_mixture1d_is_configurable():
    default = get_dataset("mixture1d")
    assert default.spec == "mixture1d" and get_dataset("mixture1d:mu2=2.5").spec == "mixture1d"  # defaults left out
    moved = get_dataset("mixture1d:mu2=4")
    assert moved.spec == "mixture1d:mu2=4.0"
    assert moved.distribution().mean().numpy()[0] == pytest.approx(2.0)
    with pytest.raises(fgan_bench.SpecError, match="mixture1d"):
        get_dataset("mixture1d:sigma3=1")


def test_digits_are_real_images_in_tanh_range():
    digits = get_dataset("digits")
    assert digits.kind == "image" and digits.shape == (8, 8, 1) and digits.array.shape == (1437, 8, 8, 1)
    assert digits.test_array.shape == (360, 8, 8, 1) and digits.labelled  # a fixed split for the metrics
    assert set(digits.labels) == set(digits.test_labels) == set(range(10))
    assert digits.array.min() == -1.0 and digits.array.max() == 1.0


def test_mnist_missing_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(fgan_bench.FganBenchError) as info:
        get_dataset("mnist")
    message = str(info.value)
    assert str(tmp_path / "datasets" / "mnist.npz") in message and "mnist:path=FILE" in message and "\n" not in message


def test_mnist_from_a_keras_npz(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(10, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "mnist.npz", x_train=images, y_train=np.zeros(10), x_test=images, y_test=np.zeros(10))
    mnist = get_dataset(f"mnist:path={tmp_path / 'mnist.npz'}")
    assert mnist.shape == (28, 28, 1)
    np.testing.assert_allclose(mnist.array[..., 0], images / 255.0 * 2 - 1, atol=1e-6)


def test_file_dataset_vectors_and_images(tmp_path):
    vectors = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    np.save(tmp_path / "v.npy", vectors)
    dataset = get_dataset(f"file:path={tmp_path / 'v.npy'}")
    assert dataset.kind == "vector" and dataset.shape == (3,) and math.isinf(dataset.value_range[1])
    images = np.random.default_rng(0).integers(0, 256, size=(5, 8, 8, 3))
    np.savez(tmp_path / "im.npz", x=images)
    assert get_dataset(f"file:path={tmp_path / 'im.npz'}").shape == (8, 8, 3)
    with pytest.raises(fgan_bench.FganBenchError, match="does not exist"):
        get_dataset(f"file:path={tmp_path / 'missing.npy'}")


def test_unknown_dataset_suggests():
    with pytest.raises(fgan_bench.UnknownNameError, match="did you mean 'ring8'"):
        get_dataset("ring9")


@pytest.mark.parametrize("name", ["ring8", "digits"])
def test_pipeline_shapes_and_resumes_exactly(name):
    dataset = get_dataset(name)

    def stream(start):
        return training_batches(
            dataset, batch_size=4, real_slots=2, noise_slots=3, latent_dim=5, seed=7, start_step=start
        )

    first = list(stream(0).take(5))
    assert first[0]["real"].shape == (4, 2, *dataset.shape) and first[0]["noise"].shape == (4, 3, 5)
    resumed = list(stream(3).take(2))
    for key in ("real", "noise"):
        np.testing.assert_array_equal(first[3][key], resumed[0][key])
        np.testing.assert_array_equal(first[4][key], resumed[1][key])
    assert not np.array_equal(first[0]["real"], first[1]["real"])


def test_pipeline_depends_on_the_seed():
    ring = get_dataset("ring8")
    a = next(iter(training_batches(ring, batch_size=8, real_slots=1, noise_slots=1, latent_dim=2, seed=0)))
    b = next(iter(training_batches(ring, batch_size=8, real_slots=1, noise_slots=1, latent_dim=2, seed=1)))
    assert not np.allclose(a["real"], b["real"]) and tf.reduce_all(tf.math.is_finite(a["noise"]))
