"""The built-in divergences: every formula validated, errata E1–E7 fixed, specs parsed."""

import math

import numpy as np
import pytest
import scipy.special
import tensorflow as tf

import fgan_bench
from fgan_bench.divergences import validate
from fgan_bench.divergences.special import log1mexp, wright_omega
from fgan_bench.divergences.validation import numerical_conjugate

BUILTIN_SPECS = [
    "total_variation",
    "kl",
    "reverse_kl",
    "pearson",
    "neyman",
    "squared_hellinger",
    "jeffrey",
    "jensen_shannon",
    "gan",
    "js_weighted:0.3",
    "alpha:-1",
    "alpha:0.5",
    "alpha:2",
    "alpha:3",
]


def test_registry_lists_the_eleven_rows_of_the_table():
    assert fgan_bench.list_divergences()[:11] == [
        "total_variation",
        "kl",
        "reverse_kl",
        "pearson",
        "neyman",
        "squared_hellinger",
        "jeffrey",
        "jensen_shannon",
        "gan",
        "js_weighted:<weight>",
        "alpha:<alpha>",
    ]


@pytest.mark.parametrize("spec", BUILTIN_SPECS)
def test_builtin_passes_every_validator_check(spec):
    (report,) = validate(fgan_bench.get_divergence(spec))
    assert report.ok, report.format()
    assert {c.name for c in report.checks if c.passed} >= {"conjugate", "fenchel_young", "float32_stability"}


@pytest.mark.parametrize("spec", BUILTIN_SPECS)
def test_float32_critic_loss_and_gradient_are_finite_on_minus_50_to_50(spec):
    divergence = fgan_bench.get_divergence(spec)
    v_real = tf.Variable(tf.linspace(-50.0, 50.0, 2001))
    v_fake = tf.Variable(tf.linspace(50.0, -50.0, 2001))
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(divergence.activation(v_real)) - tf.reduce_mean(
            divergence.conjugate_of_activation(v_fake)
        )
    gradients = tape.gradient(loss, [v_real, v_fake])
    assert loss.dtype == tf.float32 and np.isfinite(loss.numpy())
    for gradient in gradients:
        assert np.all(np.isfinite(gradient.numpy()))


def test_gaussian_closed_forms_are_declared_for_the_four_textbook_cases():
    for spec in ("kl", "reverse_kl", "squared_hellinger", "pearson"):
        assert validate(fgan_bench.get_divergence(spec))[0]["closed_form"].passed is True


def test_kl_closed_form_value():
    kl = fgan_bench.get_divergence("kl")
    # KL(N(0,1) ‖ N(1,2²)) = log 2 + (1 + 1)/8 − 1/2.
    assert kl.gaussian_closed_form(0.0, 1.0, 1.0, 2.0) == pytest.approx(math.log(2) + 0.25 - 0.5)


def test_functions_accept_numpy_and_keep_float64():
    kl = fgan_bench.get_divergence("kl")
    value = kl.conjugate(np.array([1.0, 2.0]))
    assert value.dtype == tf.float64
    np.testing.assert_allclose(value.numpy(), [1.0, math.e])
    assert kl.f(1.0).dtype == tf.float32


def test_e1_pearson_conjugate_is_exact_below_minus_two():
    pearson = fgan_bench.get_divergence("pearson")
    t = np.array([-10.0, -3.0, -2.0, 0.0, 2.0])
    np.testing.assert_allclose(pearson.conjugate(t).numpy(), [-1.0, -1.0, -1.0, 0.0, 3.0])
    table_formula = t**2 / 4 + t
    assert table_formula[0] > -1.0  # the table's t²/4 + t is wrong (too large) there


def test_e1_validator_rejects_the_tables_pearson_conjugate():
    pearson = fgan_bench.get_divergence("pearson")
    wrong = fgan_bench.Divergence(
        name="pearson_table",
        f=pearson.f,
        conjugate=lambda t: t * t / 4 + t,
        activation=lambda v: v,
        domain=fgan_bench.Interval(),
        f_prime_at_1=0.0,
    )
    (report,) = validate(wrong)
    assert report["conjugate"].passed is False
    assert "v = -8" in report["conjugate"].detail


def test_e2_gan_is_the_one_unnormalised_row():
    assert fgan_bench.get_divergence("gan").f_at_1 == pytest.approx(-math.log(4))
    for spec in BUILTIN_SPECS:
        if spec != "gan":
            assert fgan_bench.get_divergence(spec).f_at_1 == 0.0


def test_e2_jensen_shannon_reports_twice_jsd():
    js = fgan_bench.get_divergence("jensen_shannon")
    # For disjoint P, Q: D_f = q-mass · f(0) + p-mass · lim f(u)/u = 2 log 2 (= 2·JSD max).
    assert js.f(0.0).numpy() == pytest.approx(math.log(2))
    assert (js.f(1e12) / 1e12).numpy() == pytest.approx(math.log(2), rel=1e-3)


def test_e3_js_weighted_f_prime_is_zero_and_weight_is_a_probability():
    divergence = fgan_bench.get_divergence("js_weighted:0.3")
    assert divergence.f_prime_at_1 == 0.0
    assert divergence.domain.upper == pytest.approx(-0.3 * math.log(0.3))
    with pytest.raises(fgan_bench.SpecError, match="strictly between 0 and 1"):
        fgan_bench.get_divergence(f"js_weighted:{math.pi}")


def test_e4_alpha_above_one_activation_stays_in_domain_where_the_papers_does_not():
    divergence = fgan_bench.get_divergence("alpha:2")
    v = np.linspace(-30, 30, 61)  # beyond, 1/(1 − α) + softplus(v) rounds to the end point in float64
    assert np.all(divergence.activation(v).numpy() > divergence.domain.lower)
    papers = fgan_bench.Divergence(
        name="alpha2_paper",
        f=divergence.f,
        conjugate=lambda t: (t + 1.0) ** 2 / 2 - 0.5,  # the formula, used below 1/(1 − α) = −1 too
        activation=lambda v: v,
        domain=divergence.domain,
        f_prime_at_1=0.0,
    )
    (report,) = validate(papers)
    assert report["activation_domain"].passed is False
    assert report["conjugate"].passed is False


@pytest.mark.parametrize("alpha", ["0", "1", "inf"])
def test_alpha_zero_and_one_are_refused_with_the_alternative(alpha):
    with pytest.raises(fgan_bench.SpecError, match="reverse_kl"):
        fgan_bench.get_divergence(f"alpha:{alpha}")


def test_e5_jeffrey_conjugate_has_a_gradient():
    jeffrey = fgan_bench.get_divergence("jeffrey")
    t = tf.Variable([-3.0, 0.0, 2.5])
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(jeffrey.conjugate(t))
    gradient = tape.gradient(value, t).numpy()
    # (f*)'(t) is the maximiser u*(t), which solves f'(u) = log u + 1 − 1/u = t.
    u = gradient
    np.testing.assert_allclose(np.log(u) + 1 - 1 / u, t.numpy(), atol=1e-4)


def test_e6_fused_forms_match_the_reference_examples():
    v = np.linspace(-5, 5, 11)
    np.testing.assert_allclose(
        fgan_bench.get_divergence("squared_hellinger").conjugate_of_activation(v).numpy(), np.expm1(v)
    )
    np.testing.assert_allclose(fgan_bench.get_divergence("gan").conjugate_of_activation(v).numpy(), np.logaddexp(0, v))


def test_optimal_critic_matches_the_reference_examples():
    u = np.array([0.25, 1.0, 4.0])
    np.testing.assert_allclose(fgan_bench.get_divergence("kl").optimal_critic(u).numpy(), 1 + np.log(u))
    np.testing.assert_allclose(fgan_bench.get_divergence("reverse_kl").optimal_critic(u).numpy(), -1 / u)
    np.testing.assert_allclose(fgan_bench.get_divergence("gan").optimal_critic(u).numpy(), np.log(u / (1 + u)))


def test_default_optimal_critic_is_the_derivative_of_f():
    kl = fgan_bench.get_divergence("kl")
    plain = fgan_bench.Divergence(
        name="kl_plain",
        f=kl.f,
        conjugate=kl.conjugate,
        activation=kl.activation,
        domain=kl.domain,
        f_prime_at_1=1.0,
    )
    u = np.array([0.5, 1.0, 3.0])
    np.testing.assert_allclose(plain.optimal_critic(u).numpy(), 1 + np.log(u))
    np.testing.assert_allclose(plain.conjugate_of_activation(u).numpy(), np.exp(u - 1))


def test_numerical_conjugate_against_known_conjugates():
    t = np.linspace(-5, 3, 17)
    f_kl = lambda u: scipy.special.xlogy(u, u)  # noqa: E731
    np.testing.assert_allclose(numerical_conjugate(f_kl, t), np.exp(t - 1), rtol=1e-10)
    f_pearson = lambda u: (u - 1) ** 2  # noqa: E731
    np.testing.assert_allclose(numerical_conjugate(f_pearson, t), np.maximum(0, t / 2 + 1) ** 2 - 1, atol=1e-10)
    f_reverse = lambda u: -np.log(u)  # noqa: E731
    assert np.all(np.isinf(numerical_conjugate(f_reverse, np.array([0.5, 1.0]))))  # outside dom f*


def test_wright_omega_matches_scipy_and_survives_overflow():
    x = np.array([-40.0, -1.0, 0.0, 1.0, 30.0, 700.0])
    expected = np.real(scipy.special.lambertw(np.exp(x)))
    np.testing.assert_allclose(wright_omega(tf.constant(x)).numpy(), expected, rtol=1e-12)
    huge = wright_omega(tf.constant([1e4, 1e30], tf.float64)).numpy()
    np.testing.assert_allclose(huge + np.log(huge), [1e4, 1e30], rtol=1e-14)
    assert np.all(np.isfinite(wright_omega(tf.constant([100.0, 1e6], tf.float32)).numpy()))


def test_log1mexp_gradient_is_finite_for_tiny_arguments_in_float32():
    x = tf.Variable([2.8e-8, 1e-3, 5.0, 166.0])
    with tf.GradientTape() as tape:
        y = log1mexp(x)
    np.testing.assert_allclose(y.numpy(), np.log(-np.expm1(-x.numpy().astype(np.float64))), rtol=1e-5)
    assert np.all(np.isfinite(tape.gradient(y, x).numpy()))


def test_specs_positional_and_keyword():
    assert fgan_bench.get_divergence("alpha:0.5").parameters == {"alpha": 0.5}
    assert fgan_bench.get_divergence("js_weighted:weight=0.3").spec == "js_weighted:0.3"
    assert fgan_bench.get_divergence("alpha:-1").spec == "alpha:-1"
    assert fgan_bench.get_divergence("rkl").name == "reverse_kl"  # alias
    kl = fgan_bench.get_divergence("kl")
    assert fgan_bench.get_divergence(kl) is kl


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("revers_kl", "did you mean 'reverse_kl'"),
        ("alpha", "needs parameter"),
        ("kl:2", "takes no parameters"),
        ("alpha:0.5,2", "takes 1 parameter"),
        ("alpha:beta=2", "has no parameter 'beta'"),
        ("alpha:half", "must be a number"),
        ("alpha:", "no parameters"),
        ("", "expected a name"),
    ],
)
def test_bad_specs_get_one_line_errors(spec, message):
    with pytest.raises(fgan_bench.FganBenchError, match=message) as info:
        fgan_bench.get_divergence(spec)
    assert "\n" not in str(info.value)


def test_unknown_name_lists_known_names():
    with pytest.raises(fgan_bench.UnknownNameError) as info:
        fgan_bench.get_divergence("hellinger_squared")
    assert "Known divergences:" in str(info.value) and "squared_hellinger" in str(info.value)


def test_tracing_the_losses_of_every_divergence_logs_no_autograph_warning(caplog):
    """Each divergence function runs as written inside a tf.function: AutoGraph no longer tries
    (and fails) to read the source of the registry's lambdas, which it reported once per lambda."""
    tf.get_logger().addHandler(caplog.handler)  # TensorFlow's logger may not propagate to the root
    try:
        for spec in BUILTIN_SPECS:
            divergence = fgan_bench.get_divergence(spec)

            @tf.function
            def step(v, divergence=divergence):
                return fgan_bench.losses.critic_loss(divergence, v, -v) + divergence.optimal_critic(tf.exp(v))

            assert np.isfinite(step(tf.constant([0.1, 0.3])).numpy()).all()
    finally:
        tf.get_logger().removeHandler(caplog.handler)
    assert not [r for r in caplog.records if "AutoGraph could not transform" in r.getMessage()]
