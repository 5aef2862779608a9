"""The synthetic targets read as diagonal Gaussian mixtures, and P * K_h in closed form."""

from __future__ import annotations

import numpy as np
import pytest

from fgan_bench.datasets import Dataset, get_dataset
from fgan_bench.divergences import get_divergence
from fgan_bench.metrics import density
from fgan_bench.metrics.mixture import DiagonalGaussianMixture


def test_every_builtin_synthetic_target_is_read_as_its_mixture():
    ring = DiagonalGaussianMixture.of(get_dataset("ring8"))
    assert ring.dimension == 2 and ring.means.shape == (8, 2)
    np.testing.assert_allclose(ring.means, get_dataset("ring8").modes, atol=1e-6)
    np.testing.assert_allclose(ring.stds, 0.02, rtol=1e-6)
    np.testing.assert_allclose(ring.weights, 1 / 8, rtol=1e-6)
    mixture = DiagonalGaussianMixture.of(get_dataset("mixture1d:mu1=-1,sigma1=0.5,mu2=3,sigma2=2,weight=0.3"))
    np.testing.assert_allclose(mixture.means[:, 0], [-1, 3])
    np.testing.assert_allclose(mixture.stds[:, 0], [0.5, 2])
    np.testing.assert_allclose(mixture.weights, [0.3, 0.7], rtol=1e-6)
    spiral = DiagonalGaussianMixture.of(get_dataset("spiral"))
    assert spiral.weights.sum() == pytest.approx(1.0) and spiral.weights[-1] > 2 * spiral.weights[0]


def test_a_target_that_is_no_gaussian_mixture_is_not_read_as_one():
    from fgan_bench._lazy import tfp

    tfd = tfp.distributions
    square = Dataset(name="square", kind="vector", shape=(2,), value_range=(-1.0, 1.0),
                     distribution=lambda: tfd.Independent(tfd.Uniform([-1.0, -1.0], [1.0, 1.0]), 1))
    assert DiagonalGaussianMixture.of(square) is None
    assert DiagonalGaussianMixture.of(get_dataset("digits")) is None


@pytest.mark.parametrize(("name", "bandwidth"), [("ring8", 0.03), ("ring8", 0.3), ("mixture1d", 0.2)])
def test_the_smoothed_density_is_the_target_convolved_with_the_kernel(name, bandwidth):
    """P * K_h in closed form against P tabulated on a fine grid and smoothed numerically."""
    dataset = get_dataset(name)
    real = dataset.sample(5000, seed=0)
    grid = density.make_grid(real, 0.005 if name == "ring8" else 0.01, padding=2.0)
    tabulated = np.exp(density.target_log_density(dataset, grid.points())).reshape(grid.shape)
    numerical = density.gaussian_smooth(tabulated, bandwidth / grid.spacing)
    closed = DiagonalGaussianMixture.of(dataset).smoothed_density(grid.axes, bandwidth)
    assert closed.sum() * grid.cell_volume == pytest.approx(1.0, abs=1e-3)
    significant = numerical > 1e-4 * numerical.max()
    np.testing.assert_allclose(closed[significant], numerical[significant], rtol=2e-3)


@pytest.mark.parametrize("case", ["blurred", "diffuse", "dropped"])
def test_the_true_divergence_in_closed_form_agrees_with_numerical_smoothing(case, monkeypatch):
    """The KDE path's D_f(P * K_h‖Q̂) with P * K_h in closed form (on a grid for h alone) and with the
    target tabulated and smoothed on a grid that also resolves its σ = 0.02 (the fallback path)."""
    ring = get_dataset("ring8")
    real, perfect = ring.sample(10000, seed=1), ring.sample(1000, seed=2)
    rng = np.random.default_rng(0)
    fake = {"blurred": perfect + rng.normal(0, 0.1, perfect.shape), "diffuse": rng.normal(0, 1.5, (1000, 2)),
            "dropped": perfect[perfect[:, 0] > 0.1]}[case]
    divergences = [get_divergence(spec) for spec in ("jensen_shannon", "kl", "reverse_kl")]
    closed = density.true_divergences(ring, fake, divergences, real=real)
    monkeypatch.setattr(DiagonalGaussianMixture, "of", classmethod(lambda cls, dataset: None))
    numerical = density.true_divergences(ring, fake, divergences, real=real)
    assert closed["kde_bandwidth"] == numerical["kde_bandwidth"]
    for spec in ("jensen_shannon", "kl", "reverse_kl"):
        assert closed[f"true_{spec}"] == pytest.approx(numerical[f"true_{spec}"], rel=0.01)
