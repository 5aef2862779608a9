"""The validator itself: each check, fed a divergence broken in exactly its way, fails alone."""

import dataclasses
import math

import pytest
import tensorflow as tf

import fgan_bench
from fgan_bench.divergences import validation
from fgan_bench.divergences.validation import CHECKS, validate_divergence


def _kl():
    return fgan_bench.get_divergence("kl")


def _broken_convexity():
    """KL continued linearly past U = 5000, minus 2·√(u − U): concave kink at U.

    The conjugate check's t ≤ 8 have maximisers u* ≤ e⁷ < U, and the Gaussian pairs put
    negligible mass where p/q > U, so only the convexity check can see this.
    """
    kl, upper = _kl(), 5000.0
    f_upper, slope = upper * math.log(upper), math.log(upper) + 1.0

    def f(u):
        tail = f_upper + slope * (u - upper) - 2.0 * tf.sqrt(tf.nn.relu(u - upper))
        return tf.where(u <= upper, tf.math.xlogy(u, u), tail)

    return dataclasses.replace(kl, name="kl_kinked", f=f)


def _broken_conjugate():
    """f* off by a factor 1 + 0.01·(t − 6)² above t = 6, where the Gaussian pairs' T* has no mass."""

    def conjugate(t):
        return tf.exp(t - 1.0) * (1.0 + 0.01 * tf.square(tf.nn.relu(t - 6.0)))

    return dataclasses.replace(_kl(), name="kl_bad_conjugate", conjugate=conjugate, conjugate_of_activation=conjugate)


def _broken_float32():
    hellinger = fgan_bench.get_divergence("squared_hellinger")
    composition = lambda v: hellinger.conjugate(hellinger.activation(v))  # noqa: E731 - t/(1 − t) at t → 1
    return dataclasses.replace(hellinger, name="hellinger_composed", conjugate_of_activation=composition)


BROKEN = {
    "f_at_1": lambda: dataclasses.replace(_kl(), name="kl_bad_f1", f_at_1=0.1),
    "convexity": _broken_convexity,
    "conjugate": _broken_conjugate,
    "activation_domain": lambda: dataclasses.replace(
        _kl(), name="kl_bad_domain", domain=fgan_bench.Interval(upper=10.0)
    ),
    "f_prime_at_1": lambda: dataclasses.replace(_kl(), name="kl_bad_fprime", f_prime_at_1=0.0),
    "fused_conjugate": lambda: dataclasses.replace(_kl(), name="kl_bad_fused", conjugate_of_activation=tf.exp),
    "float32_stability": _broken_float32,
    # T* = log u with its own inverse r = exp(t), so that only the Fenchel–Young check sees it.
    "fenchel_young": lambda: dataclasses.replace(
        _kl(), name="kl_bad_critic", optimal_critic=tf.math.log, density_ratio=tf.exp
    ),
    "closed_form": lambda: dataclasses.replace(
        _kl(), name="kl_bad_closed_form", gaussian_closed_form=lambda *a: 0.5 * _kl().gaussian_closed_form(*a)
    ),
    "density_ratio": lambda: dataclasses.replace(_kl(), name="kl_bad_ratio", density_ratio=tf.exp),
}


def test_every_check_has_a_broken_divergence():
    assert set(BROKEN) == set(CHECKS)


@pytest.mark.parametrize("check", CHECKS)
def test_a_divergence_broken_one_way_fails_exactly_that_check(check):
    report = validate_divergence(BROKEN[check]())
    assert [c.name for c in report.failed] == [check], report.format()
    failed = report[check]
    assert failed.error > failed.tolerance
    assert check in report.summary() and "\n" not in report.summary()


def test_a_check_that_raises_fails_with_the_message():
    kl = _kl()
    broken = dataclasses.replace(kl, name="kl_reducing", f=lambda u: tf.reduce_sum(tf.math.xlogy(u, u)))
    report = validate_divergence(broken)
    assert report["f_at_1"].passed is False
    assert "element-wise" in report["f_at_1"].detail


def test_numerical_conjugate_is_independent_of_the_declared_one():
    kl = _kl()
    t = tf.constant([0.0, 1.0, 3.0], tf.float64).numpy()
    value = validation.numerical_conjugate(lambda u: kl.f(u).numpy(), t)
    assert value == pytest.approx([1 / 2.718281828459045, 1.0, 2.718281828459045**2])


def test_report_format_names_each_check():
    text = validate_divergence(_kl()).format()
    for check in CHECKS:
        assert check in text
    assert "all checks passed" in text
