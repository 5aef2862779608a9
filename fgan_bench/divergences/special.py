"""Numerically stable special functions used by the divergence table."""

from __future__ import annotations

import numpy as np

from fgan_bench._lazy import tf, tfp


def log_softplus(x):
    """log(softplus(x)) = log(log(1 + eˣ)), finite for all x.

    For x < −30, softplus(x) = eˣ(1 + O(eˣ)), so log softplus(x) = x to float64 precision;
    computing it directly would underflow to log(0) for x ≲ −745 (−104 in float32).
    """
    threshold = tf.constant(-30.0, x.dtype)
    safe = tf.maximum(x, threshold)
    return tf.where(x < threshold, x, tf.math.log(tf.math.softplus(safe)))


def wright_omega(x):
    """The Wright omega function ω(x) = W₀(eˣ), with W₀ the principal Lambert W branch.

    ``tfp.math.lambertw`` (differentiable) is applied to eˣ while eˣ is representable. Above
    that, ω solves w + log w = x; three Newton steps from the asymptotic w₀ = x − log x reach
    machine precision, since the error of w₀ is O(log x / x) and Newton converges
    quadratically.
    """
    threshold = tf.constant(float(np.log(np.finfo(x.dtype.as_numpy_dtype).max)) - 1.0, x.dtype)
    small = tf.minimum(x, threshold)
    omega_small = tfp.math.lambertw(tf.exp(small))
    large = tf.maximum(x, threshold)
    w = large - tf.math.log(large)
    for _ in range(3):
        w = w - (w + tf.math.log(w) - large) / (1.0 + 1.0 / w)
    return tf.where(x <= threshold, omega_small, w)


def log1mexp(x):
    """log(1 − e⁻ˣ) for x > 0, as log(−expm1(−x)).

    Accurate for tiny x (where 1 − e⁻ˣ ≈ x) and large x alike, with a finite gradient:
    ``tfp.math.log1mexp`` returns a NaN gradient in float32 for x ≲ 1e−7, from the
    unselected branch of its ``tf.where``.
    """
    return tf.math.log(-tf.math.expm1(-x))
