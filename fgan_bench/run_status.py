"""A finished run's status, decided from its final values, and the one line that explains it.

``diverged`` means the run *failed*: a non-finite loss or weight stopped training
(:class:`~fgan_bench.callbacks.NonFiniteGuard`), or a final loss, estimate, sample or quality
metric is NaN, ±inf or beyond :data:`~fgan_bench.metrics.DIVERGED_MAGNITUDE` = 10⁶
(:func:`~fgan_bench.metrics.exploded_values`).

A *saturated critic* is not a failure. The mean critic outputs ``t_real`` = E_P[T] and
``t_fake`` = E_Q[T] with T = g_f(V) may grow without bound while everything the run is judged
by stays finite: for reverse KL, f*(t) = −1 − log(−t), so a critic certain on generated samples
(T → −∞ on them) gives f*(T) ≈ −log|T|, a loss of ≈ 21 at T = −7e8 — the critic loss, the
divergence estimate, the samples and every quality metric are normal. Such a run stays
``completed`` with ``result["warnings"]``, each a line naming the value.

``pruned`` (stopped early by its protocol's pruner) is decided by the runner; it carries no
final evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: Logged values that are the critic's raw mean outputs, unbounded by design on some divergences.
CRITIC_OUTPUTS = ("t_real", "t_fake")

#: What each status means, in one line (printed beside it).
MEANINGS = {
    "completed": "trained every step; final losses, samples and quality metrics are finite",
    "diverged": "failed: non-finite or exploded losses, samples or quality metrics",
    "pruned": "stopped early by its protocol's pruner (worse than the trials before it)",
    "failed": "crashed; failure.json holds the error",
    "unfinished": "no result.json yet (interrupted or still training)",
}


def saturation_warnings(final_metrics: Mapping[str, float]) -> list[str]:
    """One warning line per finite critic output beyond 10⁶ in magnitude.

    >>> saturation_warnings({"t_fake": -7.32e8, "t_real": 1.0})
    ['critic saturated: t_fake = -7.32e+08 (certain on one side; losses and samples are finite)']
    """
    from fgan_bench.metrics import DIVERGED_MAGNITUDE

    return [
        f"critic saturated: {name} = {value:.3g} (certain on one side; losses and samples are finite)"
        for name, value in final_metrics.items()
        if name in CRITIC_OUTPUTS and math.isfinite(value) and abs(value) > DIVERGED_MAGNITUDE
    ]


def judge(result: dict[str, Any]) -> None:
    """Marks a ``completed`` result ``diverged`` when its final values exploded (with the
    values in ``result["diverged"]["reason"]``), and records a saturated critic as
    ``result["warnings"]``. Closed-form ``true_*`` divergences (unbounded by nature: χ² reaches
    e^50 against an exact density) and NaN evaluations (undefined, e.g. mode KL with no mode
    captured) are no blow-up."""
    from fgan_bench.metrics import exploded_values

    if result["status"] != "completed":
        return
    final = {k: v for k, v in result["final_metrics"].items() if k != "wall_time_s"}
    warnings = saturation_warnings(final)
    if warnings:
        result["warnings"] = warnings
        final = {k: v for k, v in final.items() if k not in CRITIC_OUTPUTS or not math.isfinite(v)}
    quality = {k: v for k, v in result.get("quality", {}).items() if not k.startswith("true_") and not math.isnan(v)}
    exploded = exploded_values({**final, **quality})
    if exploded:
        result["status"] = "diverged"
        result["diverged"] = {"step": result["steps"], "exploded": exploded, "reason": "; ".join(exploded.values())}


def explain(result: Mapping[str, Any]) -> str:
    """The status with its reason, one line: ``diverged: kid = 3.8e+29 exceeds 1e+06 ...``."""
    status = result.get("status", "unfinished")
    reason = (result.get("diverged") or {}).get("reason")
    if status == "diverged" and not reason:
        reason = f"non-finite loss or weights at step {(result.get('diverged') or {}).get('step')}"
    warnings = len(result.get("warnings", ()))
    noted = f" ({warnings} warning{'s' if warnings > 1 else ''} above, not a failure)" if warnings else ""
    return f"{status}: {reason or MEANINGS.get(status, '')}{noted}"
