"""Metrics with known answers: two-sample statistics, modes, the true D_f, Parzen, Fréchet,
the feature classifier, and the metric registry."""

import math

import numpy as np
import pytest

from fgan_bench import get_divergence
from fgan_bench.datasets import get_dataset
from fgan_bench.errors import RegistrationError, UnknownNameError
from fgan_bench.metrics import (
    Metric,
    density,
    evaluate,
    get_metric,
    list_metrics,
    metric_direction,
    parzen,
    register_metric,
    samples,
    unregister_metric,
)
from fgan_bench.metrics.classifier import _LOADED, classifier_features, feature_classifier
from fgan_bench.metrics.modes import mode_metrics


@pytest.fixture
def rng():
    """A generator seeded afresh for each test: its draws do not depend on which tests ran before it
    in this process (under pytest-xdist, which tests a worker runs varies)."""
    return np.random.default_rng(0)


@pytest.mark.parametrize("dimension", [2, 32])  # tree and brute-force neighbour search
def test_two_sample_metrics_near_zero_for_one_distribution_and_large_for_disjoint(dimension, rng):
    x, y = rng.normal(size=(3000, dimension)), rng.normal(size=(3000, dimension))
    far = rng.normal(size=(3000, dimension)) + 10.0
    assert abs(samples.mmd2(x, y)) < 5e-3 and samples.mmd2(x, far) > 0.5
    assert abs(samples.kid(x, y)) < 0.05 * samples.kid(x, far) and samples.kid(x, far) > 1.0
    precision, recall = samples.precision_recall(x, y)
    # k-NN balls cover less of a high-dimensional distribution from 3,000 samples (≈ 0.7 at 32-D).
    expected = 0.9 if dimension == 2 else 0.6
    assert precision > expected and recall > expected
    assert samples.precision_recall(x, far) == (0.0, 0.0)
    assert samples.sliced_wasserstein(x, y) < 0.1 < 5.0 < samples.sliced_wasserstein(x, far)


def test_precision_and_recall_tell_mode_dropping_from_noise():
    ring = get_dataset("ring8")
    real = ring.sample(4000, seed=1)
    half = real[real[:, 0] > 0.1]  # 3 of 8 modes: precise, low recall
    precision, recall = samples.precision_recall(ring.sample(4000, seed=2), half)
    assert precision > 0.9 and recall < 0.5


def test_frechet_distance_of_shifted_gaussians_is_the_squared_shift(rng):
    x, y = rng.normal(size=(20000, 3)), rng.normal(size=(20000, 3)) + np.array([1.0, 2.0, 0.0])
    assert samples.frechet_distance(x, y) == pytest.approx(5.0, abs=0.1)
    assert samples.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_exact_mixture_samples_capture_every_mode(name):
    dataset = get_dataset(name)
    values = mode_metrics(dataset.sample(2500, seed=4), dataset.modes, dataset.mode_std)
    assert values["modes_captured"] == values["modes_total"] == len(dataset.modes)
    assert values["high_quality_fraction"] == pytest.approx(1 - math.exp(-4.5), abs=0.01)  # P(χ²₂ ≤ 9)
    assert values["mode_kl"] < 0.02


def test_mode_metrics_count_a_collapsed_generator():
    ring = get_dataset("ring8")
    values = mode_metrics(np.repeat(ring.modes[:2], 50, axis=0), ring.modes, ring.mode_std)
    assert values["modes_captured"] == 2 and values["mode_kl"] == pytest.approx(math.log(4))


GAUSSIAN = "mixture1d:mu1=0,sigma1=1,mu2=0,sigma2=1,weight=0.5"  # N(0, 1)


@pytest.mark.parametrize("spec", ["kl", "reverse_kl", "squared_hellinger", "pearson"])
def test_true_divergence_of_two_gaussians_matches_the_closed_form(spec, rng):
    divergence = get_divergence(spec)
    p = get_dataset(GAUSSIAN)
    real = p.sample(20000, seed=1)
    exact = divergence.gaussian_closed_form(0.0, 1.0, 0.5, 1.1)
    q = density.DiagonalGaussian(np.array([0.5]), np.array([1.1]))
    values = density.true_divergences(p, None, [divergence], real=real, generator_density=q)
    assert values[f"true_{spec}"] == pytest.approx(exact, rel=1e-4)
    assert values["kde_bandwidth"] == 0.0
    fake = rng.normal(0.5, 1.1, size=(20000, 1))
    estimated = density.true_divergences(p, fake, [divergence], real=real)
    assert estimated[f"true_{spec}"] == pytest.approx(exact, rel=0.1, abs=0.005)
    assert 0 < estimated["kde_bandwidth"] < 0.5


def test_true_divergence_is_small_for_a_perfect_generator_and_grows_when_modes_are_dropped():
    ring = get_dataset("ring8")
    real, perfect = ring.sample(10000, seed=1), ring.sample(10000, seed=2)
    dropped = perfect[perfect[:, 0] > 0.1]  # 3 of 8 modes
    divergences = [get_divergence(s) for s in ("kl", "pearson", "jensen_shannon")]
    good = density.true_divergences(ring, perfect, divergences, real=real)
    bad = density.true_divergences(ring, dropped, divergences, real=real)
    for spec in ("kl", "pearson", "jensen_shannon"):
        assert good[f"true_{spec}"] < 0.15 and bad[f"true_{spec}"] > 5 * good[f"true_{spec}"] + 0.1


def test_best_gaussian_fit_of_kl_is_moment_matching_and_neyman_has_two_optima():
    mixture = get_dataset("mixture1d")
    best = density.best_gaussian_fit(get_divergence("kl"), mixture)[0]
    # Minimising KL(P‖N(μ, σ²)) matches P's mean and variance.
    assert best["mu"] == pytest.approx(1.25, abs=1e-3)
    assert best["sigma"] == pytest.approx(math.sqrt(0.5 * 1 + 0.5 * 0.36 + 0.25 * 2.5**2), abs=1e-3)
    assert len(density.best_gaussian_fit(get_divergence("neyman"), mixture)) == 2


def test_best_gaussian_fit_scores_mixture_targets_exactly():
    # P = N(0, 1) as a mixture of two equal components; Neyman D(P‖N(0.5, 1.35²)) = 6.19 exactly,
    # where the grid quadrature the fit used to run on gave 6.04.
    standard = get_dataset("mixture1d:mu1=0,sigma1=1,mu2=0,sigma2=1")
    neyman = get_divergence("neyman")
    value = density._exact_objective(neyman, standard)([0.5, math.log(1.35)])
    # ∫ q²/p − 1 for p = N(0, 1), q = N(m, σ²), σ² < 2: exp(m²/(2 − σ²)) / (σ·√(2 − σ²)) − 1
    exact = math.exp(0.5**2 / (2 - 1.35**2)) / (1.35 * math.sqrt(2 - 1.35**2)) - 1
    assert value == pytest.approx(exact, rel=1e-6)
    assert value == pytest.approx(6.19, abs=0.01)
    # The fit's optimum is the exact one: no (μ, σ) nearby scores lower on the exact divergence.
    best = density.best_gaussian_fit(neyman, standard, starts=[(0.2, 0.9)])[0]
    nearby = [density._exact_objective(neyman, standard)([best["mu"] + dm, math.log(best["sigma"]) + ds])
              for dm in (-1e-3, 1e-3) for ds in (-1e-3, 1e-3)]
    assert best["divergence"] <= min(nearby)


def test_parzen_log_likelihood_of_gaussian_samples_matches_the_smoothed_density(rng):
    d, h = 2, 0.3
    kde_samples, test = rng.normal(size=(20000, d)), rng.normal(size=(4000, d))
    values = parzen.parzen_log_likelihood(kde_samples, test, h)
    # E_p[log N(x; 0, (1 + h²)I)]: the KDE of N(0, I) is N(0, I) smoothed by the kernel.
    expected = -0.5 * d * math.log(2 * math.pi * (1 + h**2)) - 0.5 * d / (1 + h**2)
    assert values.mean() == pytest.approx(expected, abs=0.05)
    window = parzen.parzen_window(kde_samples / 4, test[:500] / 4, test[500:] / 4)
    assert window["parzen_bandwidth"] in parzen.BANDWIDTHS and window["parzen_log_likelihood_sem"] > 0


def test_parzen_log_likelihoods_of_several_bandwidths_match_scipys_logsumexp(rng):
    from scipy.spatial.distance import cdist
    from scipy.special import logsumexp

    samples, points = rng.normal(size=(700, 3)), rng.normal(size=(1100, 3)) * 2
    widths = (1e-3, 0.05, 0.3, 2.0)  # 1e-3: every kernel term underflows unless shifted
    values = parzen.parzen_log_likelihoods(samples, points, widths, chunk=256)
    squared = cdist(points, samples, "sqeuclidean")
    for row, h in enumerate(widths):
        expected = logsumexp(-squared / (2 * h**2), axis=1) - math.log(700) - 1.5 * math.log(2 * math.pi * h**2)
        np.testing.assert_allclose(values[row], expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(parzen.parzen_log_likelihood(samples, points, 0.3, chunk=256), values[2])


def test_feature_classifier_is_accurate_on_digits_and_cached(tmp_path):
    digits = get_dataset("digits")
    model, accuracy = feature_classifier(digits, tmp_path)
    assert accuracy >= 0.95
    assert len(list(tmp_path.glob("classifier-digits-*.keras"))) == 1
    _LOADED.clear()
    reloaded, cached_accuracy = feature_classifier(digits, tmp_path)  # from the file, not retrained
    assert cached_accuracy == accuracy
    np.testing.assert_allclose(
        classifier_features(reloaded, digits.test_array[:8]),
        classifier_features(model, digits.test_array[:8]),
        rtol=1e-5,
    )


def test_digits_image_metrics_rank_real_images_above_noise(rng):
    digits = get_dataset("digits")
    real_like = digits.array[:1000]
    noise = rng.uniform(-1, 1, size=(1000, 8, 8, 1)).astype(np.float32)
    good, bad = evaluate(digits, real_like, seed=0), evaluate(digits, noise, seed=0)
    assert good["classifier_accuracy"] >= 0.95
    assert good["classifier_frechet_distance"] < 0.2 * bad["classifier_frechet_distance"]
    assert good["parzen_log_likelihood"] > bad["parzen_log_likelihood"]
    assert good["classifier_precision"] > 0.5 > bad["classifier_precision"]
    assert "modes_captured" not in good and "true_kl" not in good


def test_evaluate_ring8_gives_the_vector_metrics():
    ring = get_dataset("ring8")
    values = evaluate(ring, ring.sample(2500, seed=7))
    assert values["modes_captured"] == 8 and values["high_quality_fraction"] > 0.97
    assert {"mmd2", "kid", "precision", "recall", "sliced_wasserstein", "true_kl", "true_alpha:0.5"} <= set(values)
    assert "parzen_log_likelihood" not in values and "variational_estimate" not in values  # no critic given
    assert metric_direction("true_kl") == "lower" and metric_direction("recall") == "higher"


def test_metrics_plug_in_and_clash_unless_replacing():
    metric = Metric(
        "mean_norm",
        lambda inputs: {"mean_norm": float(np.linalg.norm(inputs.fake, axis=-1).mean())},
        "mean Euclidean norm of the samples",
        directions={"mean_norm": "lower"},
    )
    register_metric(metric)
    try:
        assert "mean_norm" in list_metrics()
        ring = get_dataset("ring8")
        values = evaluate(ring, ring.sample(500, seed=1), ["mean_norm", "modes"])
        assert values["mean_norm"] == pytest.approx(2.0, abs=0.01) and "modes_captured" in values
        with pytest.raises(RegistrationError, match="mean_norm"):
            register_metric(metric)
        register_metric(metric, replace=True)
    finally:
        unregister_metric("mean_norm")
    with pytest.raises(UnknownNameError, match="precision_recall"):
        get_metric("precision_recal")


def test_cli_lists_the_metrics(capsys):
    from fgan_bench import cli

    assert cli.main(["list", "metrics"]) == 0
    out = capsys.readouterr().out
    for name in ("true_divergence", "parzen", "classifier", "precision_recall", "modes"):
        assert name in out
