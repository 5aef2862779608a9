"""Pearson–Vajda χ^k divergences: χ^k(P‖Q) = ∫ |p − q|^k / q^{k−1}, k > 1.

A family through Pearson χ² (k = 2), not in the f-GAN table. Spec: ``chi_k:3``.

    f(u)   = |u − 1|^k,                          f(1) = 0,  f'(1) = 0
    f'(u)  = k |u − 1|^{k−1} sign(u − 1),  ranging over (−k, ∞) for u ≥ 0
    f*(t)  = t + (k − 1)(|t|/k)^{k/(k−1)}  for t ≥ −k,   and −1 for t < −k
    r(t)   = (f')⁻¹(t) = max(0, 1 + sign(t)(|t|/k)^{1/(k−1)})   (the density ratio a critic value stands for)

For t ≥ −k the supremum of u·t − f(u) sits at u = 1 + sign(t)(|t|/k)^{1/(k−1)}; below −k it
sits at u = 0, where it equals −f(0) = −1 (so, as for Pearson χ², the polynomial alone is
wrong there). The activation g_f(v) = softplus(v) − k maps ℝ onto (−k, ∞), the range of f'.
Large k/(k − 1) (k near 1) overflows float32 for large v; the validator's float32 check
says from where.
"""

import tensorflow as tf

from fgan_bench import Divergence, DivergenceFamily, Interval, register_divergence


def chi_k(k: float) -> Divergence:
    if not k > 1.0:
        raise ValueError(f"k must be greater than 1, got {k!r}")
    power = k / (k - 1.0)

    def conjugate(t):
        t = tf.maximum(t, -k)
        return t + (k - 1.0) * tf.pow(tf.abs(t) / k, power)

    return Divergence(
        name="chi_k",
        f=lambda u: tf.pow(tf.abs(u - 1.0), k),
        conjugate=conjugate,
        activation=lambda v: tf.math.softplus(v) - k,
        optimal_critic=lambda u: k * tf.pow(tf.abs(u - 1.0), k - 1.0) * tf.sign(u - 1.0),
        density_ratio=lambda t: tf.nn.relu(1.0 + tf.sign(t) * tf.pow(tf.abs(t) / k, 1.0 / (k - 1.0))),
        domain=Interval(),
        f_prime_at_1=0.0,
        f_formula=f"|u − 1|^k, k = {k:g}",
        description=f"Pearson–Vajda χ^k, k = {k:g}",
        parameters={"k": k},
    )


register_divergence(
    DivergenceFamily(
        name="chi_k",
        build=chi_k,
        parameters=("k",),
        examples=({"k": 1.5}, {"k": 2.0}, {"k": 3.0}),
        f_formula="|u − 1|^k",
        domain_formula="ℝ (f* = −1 below −k)",
        f_prime_at_1_formula="0",
        description="Pearson–Vajda χ^k ∫|p − q|^k/q^{k−1}, k > 1",
    )
)
