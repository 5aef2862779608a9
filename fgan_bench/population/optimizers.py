"""Adam and SGD for K members at once, each with its own hyperparameters (pure functions).

State and weights are lists of stacked tensors ``(K, *shape)``; hyperparameters are vectors
``(K,)``. The arithmetic is Keras' own, operation for operation, so a member trains exactly as
its single run with ``keras.optimizers.Adam``/``SGD`` (``global_clipnorm``) does:

* global clipping, per member: ‖g‖ = √(Σ_variables Σ g²); g ← g · c·min(1/‖g‖, 1/c) (c = 0: none);
* Adam (t = iterations + 1): α = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ); m ← m + (g − m)(1 − β₁);
  v ← v + (g² − v)(1 − β₂); w ← w − α·m/(√v + ε);
* SGD with momentum μ: b ← μ·b − lr·g; w ← w + b.

``active`` (a boolean (K,)) freezes members: their weights, slots and step counts stay.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class Hyperparameters:
    """Per-member optimizer settings, each a float32 vector (K,)."""

    learning_rate: tf.Tensor
    beta_1: tf.Tensor
    beta_2: tf.Tensor
    momentum: tf.Tensor
    clip_norm: tf.Tensor
    #: 1 − β₁ and 1 − β₂ computed in float64, then rounded, as Keras does (1 − β in float32
    #: differs by ~1e-5 relative for β = 0.999).
    one_minus_beta_1: tf.Tensor
    one_minus_beta_2: tf.Tensor
    #: 1/c computed in float64 (0 where c = 0).
    reciprocal_clip: tf.Tensor
    epsilon: float = 1e-7

    @classmethod
    def of(cls, learning_rate, beta_1, beta_2, momentum, clip_norm) -> Hyperparameters:
        """From per-member Python floats (lists of K)."""
        import numpy as np

        def f32(values):
            return tf.constant(np.asarray(values, np.float64), tf.float32)

        clip = np.asarray(clip_norm, np.float64)
        return cls(f32(learning_rate), f32(beta_1), f32(beta_2), f32(momentum), f32(clip),
                   f32(1 - np.asarray(beta_1, np.float64)), f32(1 - np.asarray(beta_2, np.float64)),
                   f32(np.divide(1.0, clip, out=np.zeros_like(clip), where=clip > 0)))


def _per_member(vector, like):
    """(K,) → (K, 1, …, 1), broadcastable against a stacked tensor like ``like``."""
    return tf.reshape(vector, [-1] + [1] * (len(like.shape) - 1))


def global_norms(gradients):
    """‖g_k‖ over all of member k's variables: a (K,) vector."""
    squares = [tf.reduce_sum(tf.square(g), axis=list(range(1, len(g.shape)))) for g in gradients]
    return tf.sqrt(tf.add_n(squares))


def clip_by_global_norm(gradients, hp: Hyperparameters):
    """Keras' ``global_clipnorm`` per member; members with clip norm 0 are not clipped."""
    norms = global_norms(gradients)
    clipping = hp.clip_norm > 0
    scale = hp.clip_norm * tf.minimum(1.0 / norms, hp.reciprocal_clip) + (norms - norms)
    scale = tf.where(clipping, scale, tf.ones_like(scale))
    return [g * _per_member(scale, g) for g in gradients]


def _keep_active(active, new, old):
    return tf.where(_per_member(active, new), new, old)


def adam_update(weights, slots, iterations, gradients, hp: Hyperparameters, active):
    """One Adam step: (weights, slots = [m…, v…], iterations) after it."""
    count = len(weights)
    momenta, velocities = slots[:count], slots[count:]
    step = tf.cast(iterations + 1, tf.float32)
    alpha = hp.learning_rate * tf.sqrt(1 - tf.pow(hp.beta_2, step)) / (1 - tf.pow(hp.beta_1, step))
    new_weights, new_m, new_v = [], [], []
    for w, m, v, g in zip(weights, momenta, velocities, gradients, strict=True):
        m_next = m + (g - m) * _per_member(hp.one_minus_beta_1, g)
        v_next = v + (tf.square(g) - v) * _per_member(hp.one_minus_beta_2, g)
        w_next = w - (m_next * _per_member(alpha, g)) / (tf.sqrt(v_next) + hp.epsilon)
        new_weights.append(_keep_active(active, w_next, w))
        new_m.append(_keep_active(active, m_next, m))
        new_v.append(_keep_active(active, v_next, v))
    return new_weights, new_m + new_v, tf.where(active, iterations + 1, iterations)


def sgd_update(weights, slots, iterations, gradients, hp: Hyperparameters, active):
    """One SGD step with momentum: slots = [b…]."""
    new_weights, new_b = [], []
    for w, b, g in zip(weights, slots, gradients, strict=True):
        b_next = _per_member(hp.momentum, g) * b - g * _per_member(hp.learning_rate, g)
        new_weights.append(_keep_active(active, w + b_next, w))
        new_b.append(_keep_active(active, b_next, b))
    return new_weights, new_b, tf.where(active, iterations + 1, iterations)


#: Optimizer name (``RunConfig.optimizer``) → (update, slots per weight, Keras slot attributes).
UPDATES = {"adam": (adam_update, ("_momentums", "_velocities")), "sgd": (sgd_update, ("momentums",))}


def apply(name: str, weights, slots, iterations, gradients, hp: Hyperparameters, active):
    """Clips per member, then one step of optimizer ``name``."""
    update, _ = UPDATES[name]
    return update(weights, slots, iterations, clip_by_global_norm(gradients, hp), hp, active)
