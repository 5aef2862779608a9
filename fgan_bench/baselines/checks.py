"""A baseline's own checks: the divergence validator needs f, f* and g_f, which a baseline lacks.

Each check probes the two loss functions on a grid of critic outputs v ∈ [−4, 4]:

* ``per_example``: both losses return one finite value per example (shape (n,)), for
  ``tf.nn.compute_average_loss`` to scale by the global batch;
* ``differentiable``: their gradients with respect to v are finite, and not all zero;
* ``critic_separates``: the critic's loss is lower when it scores real data high and
  generated data low (v_real = 1, v_fake = −1) than the other way round — else it trains
  backwards;
* ``generator_climbs``: the generator's loss does not increase from v_fake = −1 to 1 — it
  wants its samples scored like real data;
* ``penalty_weight``: a named gradient-penalty weight is one of the parameters, finite and ≥ 0.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from fgan_bench.baselines.base import Baseline


@dataclasses.dataclass(frozen=True)
class BaselineCheck:
    name: str
    ok: bool
    detail: str = ""


def _numpy(value) -> np.ndarray:
    return np.asarray(value, np.float64)


def _per_example(baseline: Baseline, grid) -> BaselineCheck:
    critic = _numpy(baseline.critic_losses(grid, grid[::-1]))
    generator = _numpy(baseline.generator_losses(grid))
    ok = critic.shape == grid.shape and generator.shape == grid.shape
    ok = ok and bool(np.isfinite(critic).all() and np.isfinite(generator).all())
    return BaselineCheck("per_example", ok, f"shapes {critic.shape}, {generator.shape} for {grid.shape}")


def _differentiable(baseline: Baseline, grid) -> BaselineCheck:
    import tensorflow as tf

    v = tf.constant(grid)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(v)
        critic = tf.reduce_sum(baseline.critic_losses(v, -v))
        generator = tf.reduce_sum(baseline.generator_losses(v))
    gradients = [tape.gradient(critic, v), tape.gradient(generator, v)]
    ok = all(g is not None and np.isfinite(g.numpy()).all() and np.abs(g.numpy()).max() > 0 for g in gradients)
    return BaselineCheck("differentiable", ok, "gradients finite and not all zero" if ok else "a gradient is "
                         "missing, non-finite or zero everywhere")


def _critic_separates(baseline: Baseline) -> BaselineCheck:
    one = np.ones(1)
    right = float(_numpy(baseline.critic_losses(one, -one))[0])
    wrong = float(_numpy(baseline.critic_losses(-one, one))[0])
    return BaselineCheck("critic_separates", right < wrong, f"loss {right:.4g} (real 1, fake −1) vs {wrong:.4g}")


def _generator_climbs(baseline: Baseline) -> BaselineCheck:
    one = np.ones(1)
    low, high = float(_numpy(baseline.generator_losses(-one))[0]), float(_numpy(baseline.generator_losses(one))[0])
    return BaselineCheck("generator_climbs", high <= low, f"loss {low:.4g} at v = −1, {high:.4g} at v = 1")


def _penalty_weight(baseline: Baseline) -> BaselineCheck:
    if baseline.penalty_weight is None:
        return BaselineCheck("penalty_weight", True, "no penalty")
    weight = baseline.values.get(baseline.penalty_weight)
    ok = weight is not None and math.isfinite(weight) and weight >= 0
    return BaselineCheck("penalty_weight", ok, f"{baseline.penalty_weight} = {weight}")


def check_baseline(baseline: Baseline) -> list[BaselineCheck]:
    """Every check above, in order; a loss that raises fails the check it was running."""
    grid = np.linspace(-4.0, 4.0, 33)
    checks = []
    for name, run in (
        ("per_example", lambda: _per_example(baseline, grid)),
        ("differentiable", lambda: _differentiable(baseline, grid)),
        ("critic_separates", lambda: _critic_separates(baseline)),
        ("generator_climbs", lambda: _generator_climbs(baseline)),
        ("penalty_weight", lambda: _penalty_weight(baseline)),
    ):
        try:
            checks.append(run())
        except Exception as error:  # noqa: BLE001 - a plugin's loss may raise anything; report it as the failure
            checks.append(BaselineCheck(name, False, f"{type(error).__name__}: {error}"))
    return checks


def failed_checks(baseline: Baseline) -> str:
    """``""`` when every check passes, else one line naming each failed check and its detail."""
    return "; ".join(f"{c.name} failed ({c.detail})" for c in check_baseline(baseline) if not c.ok)
