"""The WGAN-GP gradient penalty (Gulrajani et al., 2017), a pure function of a critic and two batches.

For real x and generated x̃, with ε ~ U[0, 1] drawn per example,

    x̂ = ε·x + (1 − ε)·x̃,     penalty(x̂) = λ·(‖∇_x̂ V(x̂)‖₂ − 1)²,

added to the critic's loss: it keeps the critic near 1-Lipschitz along the lines between the
two distributions, where the optimal Wasserstein critic has unit gradient norm. The gradient
of each example is taken through the sum of the critic's outputs, which is exact for a critic
that treats examples independently (no batch normalisation in the critic, as the paper says).
"""

from __future__ import annotations

from fgan_bench._lazy import tf

#: Added under the square root so that the norm's gradient is finite at a zero gradient.
NORM_EPSILON = 1e-12


def gradient_norms(critic, points):
    """‖∇_x V(x)‖₂ per example, the norm over every axis but the first (vectors or images)."""
    points = tf.convert_to_tensor(points)
    with tf.GradientTape() as tape:
        tape.watch(points)
        values = critic(points)
    gradients = tape.gradient(values, points)  # of the sum: row i holds ∇V(x_i)
    axes = list(range(1, len(points.shape)))
    return tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=axes) + NORM_EPSILON)


def interpolates(real, fake, seed):
    """x̂ = ε·x + (1 − ε)·x̃, one ε ~ U[0, 1] per example, drawn statelessly from ``seed`` (shape [2]).

    The trainer seeds it with the critic optimizer's step count and the run's seed, so a resumed
    run (whose optimizer state is restored) draws the same ε as an uninterrupted one.
    """
    real = tf.convert_to_tensor(real)
    fake = tf.cast(fake, real.dtype)
    shape = tf.concat([tf.shape(real)[:1], tf.ones([len(real.shape) - 1], tf.int32)], axis=0)
    epsilon = tf.random.stateless_uniform(shape, seed=tf.cast(seed, tf.int64), dtype=real.dtype)
    return epsilon * real + (1 - epsilon) * fake


def penalty_at(critic, points, weight: float):
    """λ·(‖∇V(x̂)‖₂ − 1)² per example at the given points."""
    return weight * tf.square(gradient_norms(critic, points) - 1)


def gradient_penalty(critic, real, fake, weight: float = 10.0, seed=(0, 0)):
    """λ·(‖∇_x̂ V(x̂)‖₂ − 1)² per example on random interpolates of ``real`` and ``fake``."""
    return penalty_at(critic, interpolates(real, fake, seed), weight)
