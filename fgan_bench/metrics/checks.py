"""Whether a metric can run on the samples at hand, and whether its values say the run blew up.

Two rules, both pure functions of a :class:`~fgan_bench.metrics.Metric` or of values:

* **Too few samples.** Each metric declares ``min_samples``, the fewest examples it needs on
  *each* side (held-out real and generated): 2 by default (unbiased MMD²/KID divide by
  n(n − 1); a KDE needs a spread), ``k + 1 = 4`` for the k-NN precision/recall (k = 3) and the
  classifier metrics that use it. With fewer, the metric is skipped and the reason recorded
  (:func:`shortfall`), never a crash after training.
* **Exploded.** A run's final values are *exploded* when any is NaN or ±inf, or has magnitude
  above :data:`DIVERGED_MAGNITUDE` = 10⁶ (:func:`exploded_values`). On data of unit scale,
  which the data checks enforce up to 10⁶, the built-in metrics stay far below it while the
  generator is sane: MMD² ≤ 2, precision/recall ≤ 1, sliced W₁ and Fréchet distances of the
  order of the data's spread (squared), KID of the order of (scale²)³; a KID of 3.8e29 is a
  generator whose outputs have blown up. Runners label such runs ``diverged``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from fgan_bench.metrics.base import Metric

#: Magnitude above which a finite metric value counts as exploded.
DIVERGED_MAGNITUDE = 1e6


def shortfall(metric: Metric, real_count: int, fake_count: int, *, fake_source: str = "") -> str | None:
    """Why ``metric`` cannot run on this many examples, or ``None`` when it can.

    >>> from fgan_bench.metrics import get_metric
    >>> shortfall(get_metric("precision_recall"), 10_000, 1, fake_source="--num-samples")
    'needs at least 4 generated examples (k-NN with k = 3), got 1 from --num-samples'
    """
    need = metric.min_samples
    why = f" ({metric.min_samples_reason})" if metric.min_samples_reason else ""
    if fake_count < need:
        origin = f" from {fake_source}" if fake_source else ""
        return f"needs at least {need} generated examples{why}, got {fake_count}{origin}"
    if real_count < need:
        return f"needs at least {need} real examples{why}, the data has {real_count} for evaluation"
    return None


def exploded_values(values: Mapping[str, float]) -> dict[str, str]:
    """The values that say a run diverged: ``{output: reason}`` for each non-finite one or
    each beyond :data:`DIVERGED_MAGNITUDE` in magnitude; empty for a sane run.

    >>> exploded_values({"mmd2": 0.01, "kid": 3.8e29, "precision": float("nan")})
    {'kid': 'kid = 3.8e+29 exceeds 1e+06 in magnitude', 'precision': 'precision is nan'}
    """
    reasons = {}
    for name, value in values.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        if not math.isfinite(value):
            reasons[name] = f"{name} is {value}"
        elif abs(value) > DIVERGED_MAGNITUDE:
            reasons[name] = f"{name} = {value:.3g} exceeds {DIVERGED_MAGNITUDE:g} in magnitude"
    return reasons
