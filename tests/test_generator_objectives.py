"""Generator objectives: each one's gradient at the optimal critic is the gradient of the divergence it claims.

P = N(0.4, 1²) is fixed; Q_θ = N(μ, σ²) is reparameterised, x = μ + σz. The critic is the exact
optimal critic for θ₀, v*(x) = g_f⁻¹(f'(p(x)/q_θ₀(x))), a fixed TF function of x. E_z[·] is a
150-node Gauss–Hermite rule (exact for polynomials of degree < 300; the integrands here are a
Gaussian weight times exp(quadratic)), and TF differentiates through x = μ + σz only. The
reference ∇_(μ,σ) D_h(P‖Q_θ) is a central difference (step 1e−4) of D_h by Simpson's rule on a
fine grid. Everything is float64; no training.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from fgan_bench import get_divergence, losses
from fgan_bench._lazy import tf
from fgan_bench.config import RunConfig
from fgan_bench.divergences.validation import evaluate_float64, validate_divergence
from fgan_bench.errors import FganBenchError

MU_P, SIGMA_P = 0.4, 1.0
THETA0 = (-0.2, 1.25)

#: The exact critic's raw output as a function of s = log(p/q): v* = g_f⁻¹(f'(eˢ)); checked below.
OPTIMAL_V = {
    "gan": lambda s: s,
    "jensen_shannon": lambda s: s,
    "reverse_kl": lambda s: s,
    "kl": lambda s: 1.0 + s,
    "squared_hellinger": lambda s: 0.5 * s,
    "neyman": lambda s: 2.0 * s,
    "pearson": lambda s: 2.0 * tf.math.expm1(s),
}


def _log_ratio(x):
    """log p(x) − log q_θ₀(x), with θ₀ held fixed (the critic does not move with θ)."""
    mu0, sigma0 = THETA0
    log_p = -0.5 * ((x - MU_P) / SIGMA_P) ** 2 - np.log(SIGMA_P)
    log_q = -0.5 * ((x - mu0) / sigma0) ** 2 - np.log(sigma0)
    return log_p - log_q


def _loss_gradient(critic: str, objective: str, generator_divergence: str | None) -> np.ndarray:
    nodes, weights = np.polynomial.hermite_e.hermegauss(150)
    weights = tf.constant(weights / np.sqrt(2 * np.pi))
    z = tf.constant(nodes)
    theta = tf.Variable(np.array(THETA0, np.float64))
    h = None if generator_divergence is None else get_divergence(generator_divergence)
    with tf.GradientTape() as tape:
        x = theta[0] + theta[1] * z
        v = OPTIMAL_V[critic](_log_ratio(x))
        loss = tf.reduce_sum(weights * losses.generator_loss(get_divergence(critic), v, objective, h))
    return tape.gradient(loss, theta).numpy()


def _divergence(spec: str, mu: float, sigma: float) -> float:
    x = np.linspace(-14.0, 14.0, 28001)
    log_p, log_q = stats.norm.logpdf(x, MU_P, SIGMA_P), stats.norm.logpdf(x, mu, sigma)
    integrand = np.exp(log_q) * evaluate_float64(get_divergence(spec).f, np.exp(log_p - log_q))
    return float(integrate.simpson(integrand, x=x))


def _divergence_gradient(spec: str) -> np.ndarray:
    step, (mu, sigma) = 1e-4, THETA0
    return np.array(
        [
            (_divergence(spec, mu + step, sigma) - _divergence(spec, mu - step, sigma)) / (2 * step),
            (_divergence(spec, mu, sigma + step) - _divergence(spec, mu, sigma - step)) / (2 * step),
        ]
    )


@pytest.mark.parametrize("critic", sorted(OPTIMAL_V))
def test_the_test_critic_is_the_optimal_critic(critic):
    divergence = get_divergence(critic)
    log_ratio = np.linspace(-6.0, 6.0, 25)
    t = evaluate_float64(divergence.activation, OPTIMAL_V[critic](tf.constant(log_ratio)).numpy())
    np.testing.assert_allclose(t, evaluate_float64(divergence.optimal_critic, np.exp(log_ratio)), rtol=1e-10)


CLAIMS = [
    # (critic, objective, --generator-divergence, the divergence whose gradient it follows)
    ("gan", "saddle", None, "gan"),
    ("kl", "saddle", None, "kl"),
    ("pearson", "saddle", None, "pearson"),
    ("gan", "maximum_likelihood", None, "kl"),
    ("squared_hellinger", "maximum_likelihood", None, "kl"),
    ("gan", "log_ratio", None, "reverse_kl"),
    ("neyman", "log_ratio", None, "reverse_kl"),
    ("gan", "saddle", "reverse_kl", "reverse_kl"),
    ("kl", "saddle", "reverse_kl", "reverse_kl"),
    ("gan", "saddle", "kl", "kl"),
    ("reverse_kl", "saddle", "pearson", "pearson"),
    ("jensen_shannon", "saddle", "squared_hellinger", "squared_hellinger"),
    ("pearson", "saddle", "gan", "gan"),
    ("kl", "saddle", "alpha:0.5", "alpha:0.5"),
    ("gan", "maximum_likelihood", "kl", "kl"),
]


@pytest.mark.parametrize(("critic", "objective", "generator_divergence", "claimed"), CLAIMS)
def test_generator_gradient_at_the_optimal_critic_is_the_claimed_divergence_gradient(
    critic, objective, generator_divergence, claimed
):
    expected = _divergence_gradient(claimed)
    actual = _loss_gradient(critic, objective, generator_divergence)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-7)


def test_the_gradients_differ_between_claims():
    """Guards the test itself: the divergences compared above have clearly different gradients."""
    assert np.abs(_divergence_gradient("kl") - _divergence_gradient("reverse_kl")).max() > 0.05
    assert np.abs(_loss_gradient("gan", "nonsaturating", None) - _divergence_gradient("gan")).max() > 0.05


def test_gan_critic_payoffs_are_the_lecture_notes():
    gan = get_divergence("gan")
    v = tf.constant(np.linspace(-20.0, 20.0, 81), tf.float32)
    np.testing.assert_allclose(losses.generator_loss(gan, v, "log_ratio"), -v.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(losses.generator_loss(gan, v, "maximum_likelihood"), -np.exp(v.numpy()), rtol=1e-5)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"divergence": "total_variation", "objective": "log_ratio"}, "no density ratio"),
        ({"divergence": "total_variation", "generator_divergence": "kl"}, "no density ratio"),
        ({"divergence": "gan", "generator_divergence": "total_variation"}, "no invertible f'"),
        ({"divergence": "gan", "objective": "maximum_likelihood", "generator_divergence": "pearson"}, "minimises kl"),
    ],
)
def test_impossible_objective_and_divergence_pairs_are_one_line_errors(options, message):
    with pytest.raises(FganBenchError, match=message) as error:
        RunConfig(**options).resolved()
    assert "\n" not in str(error.value)


def test_generator_divergence_is_resolved_to_its_spec():
    config = RunConfig(divergence="gan", generator_divergence="rkl").resolved()
    assert config.generator_divergence == "reverse_kl"
    assert RunConfig(divergence="gan").resolved().generator_divergence is None


def test_density_ratio_check_does_not_apply_without_an_invertible_f_prime():
    """(A wrong map failing the check is in test_validator.py's BROKEN table.)"""
    assert validate_divergence(get_divergence("total_variation"))["density_ratio"].passed is None


def test_list_divergences_shows_which_density_ratio_maps_are_checked(capsys):
    from fgan_bench import cli

    assert cli.main(["list", "divergences"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[2:]}
    assert "checked" in rows["kl"] and "checked" in rows["alpha:<alpha>"]
    assert "checked" not in rows["total_variation"]


@pytest.mark.parametrize(
    ("objective", "generator_divergence"), [("log_ratio", None), ("saddle", "reverse_kl"), ("maximum_likelihood", None)]
)
def test_the_trainer_applies_the_objective_s_generator_loss(objective, generator_divergence):
    """One alternating step's generator loss is the objective's, evaluated on the critic's output."""
    import keras

    from fgan_bench.datasets import get_dataset, training_batches
    from fgan_bench.models import build_models
    from fgan_bench.trainer import FGAN

    keras.utils.set_random_seed(0)
    generator, critic = build_models("mlp", kind="vector", shape=(2,), latent_dim=4, width=8, depth=1, filters=0)
    h = None if generator_divergence is None else get_divergence(generator_divergence)
    gan = FGAN(generator, critic, get_divergence("gan"), objective=objective, generator_divergence=h,
               schedule="alternating", critic_steps=1)
    gan.compile(generator_optimizer=keras.optimizers.SGD(0.0), critic_optimizer=keras.optimizers.SGD(0.0))
    data = training_batches(get_dataset("ring8"), batch_size=32, real_slots=1, noise_slots=2, latent_dim=4, seed=0)
    batch = next(iter(data))
    logs = gan.train_step(batch)
    v = tf.squeeze(critic(generator(batch["noise"][:, 1])), -1)
    expected = {"log_ratio": -v, "saddle": -v + 1.0, "maximum_likelihood": -tf.exp(v)}[objective]
    np.testing.assert_allclose(float(logs["generator_loss"]), float(tf.reduce_mean(expected)), rtol=1e-5)
