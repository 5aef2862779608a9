"""Triangular discrimination (Vincze–Le Cam): Δ(P, Q) = ∫ (p − q)² / (p + q).

A symmetric divergence bounded by 2, not in the f-GAN table; Le Cam's distance is Δ/2.

    f(u)   = (u − 1)² / (u + 1),                 f(1) = 0,  f'(1) = 0
    f'(u)  = 1 − 4/(u + 1)²,  ranging over (−3, 1) for u ≥ 0
    f*(t)  = (2 − s)² − 1,  s = min(√(1 − t), 2),  dom f* = {t < 1}
    r(t)   = (f')⁻¹(t) = max(0, 2/√(1 − t) − 1)   (the density ratio a critic value stands for)

The supremum of u·t − f(u) sits at u + 1 = 2/√(1 − t) for −3 ≤ t < 1, and at u = 0 for
t < −3, where f*(t) = −f(0) = −1 (the min(·, 2) above). The activation
g_f(v) = 1 − 4σ(−v) maps ℝ onto (−3, 1), the range of f'; with it 1 − t = 4σ(−v), so
s = 2 exp(−softplus(v)/2) and the fused conjugate is
f*(g_f(v)) = 4·expm1(−softplus(v)/2)² − 1, stable for all v.
"""

import tensorflow as tf

from fgan_bench import Divergence, Interval, register_divergence


def conjugate(t):
    s = tf.minimum(tf.sqrt(1.0 - t), 2.0)
    return tf.square(2.0 - s) - 1.0


register_divergence(
    Divergence(
        name="triangular",
        aliases=("triangular_discrimination",),
        f=lambda u: tf.square(u - 1.0) / (u + 1.0),
        conjugate=conjugate,
        activation=lambda v: 1.0 - 4.0 * tf.sigmoid(-v),
        conjugate_of_activation=lambda v: 4.0 * tf.square(tf.math.expm1(-0.5 * tf.math.softplus(v))) - 1.0,
        optimal_critic=lambda u: 1.0 - 4.0 / tf.square(u + 1.0),
        density_ratio=lambda t: tf.nn.relu(2.0 * tf.math.rsqrt(1.0 - t) - 1.0),
        domain=Interval(upper=1.0),
        f_prime_at_1=0.0,
        f_formula="(u − 1)²/(u + 1)",
        description="triangular discrimination ∫(p − q)²/(p + q): f*(t) = (2 − min(√(1 − t), 2))² − 1",
    )
)
