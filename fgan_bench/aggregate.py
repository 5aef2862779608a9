"""Across datasets: interquartile mean and probability of improvement with stratified bootstrap intervals.

The rliable view (Agarwal et al., "Deep RL at the Edge of the Statistical Precipice", 2021) of a
comparison over several datasets, on the values of each dataset's main metric (one value per
divergence and replicate — a protocol's search replicate or a plain sweep's seed).

* **Normalisation** (:func:`normalise`): a dataset's values are put on one scale by min–max over
  every value of every divergence on that dataset, oriented so that higher is better::

      score = (s·v − min s·v) / (max s·v − min s·v),   s = +1 (higher is better) or −1 (lower is better)

  so 1 is the best value any divergence reached on the dataset and 0 the worst. Min–max keeps the
  size of the gaps (ranks, the critical-difference diagram's scale, do not); it depends on which
  divergences are compared. Non-finite values clip to 0 (``inf`` of a lower-is-better metric) or 1;
  a dataset whose values are all equal scores 0.5.
* **IQM** (:func:`iqm`): the interquartile mean of a divergence's normalised scores pooled over
  datasets — the mean of the middle 50 % (``scipy.stats.trim_mean(x, 0.25)``): robust to one
  outlying run, less noisy than the median.
* **Probability of improvement** (:func:`probability_of_improvement`): for divergences X and Y,
  ``P(X > Y) = 1/D Σ_d P(X_d > Y_d)``, each dataset's term the Mann–Whitney estimate over all pairs
  of their values, ties counting ½: ``(#{x > y} + ½ #{x = y}) / (n_x n_y)``. 0.5 means neither
  improves on the other.
* **Intervals**: a 95 % percentile interval from a *stratified* bootstrap (``scipy.stats.bootstrap``,
  :data:`RESAMPLES` resamples): each dataset's values of each divergence are resampled with
  replacement within that dataset × divergence, never pooled across datasets (a dataset with few
  values keeps its weight). They need :data:`MIN_VALUES` values per dataset × divergence.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fgan_bench.stats import CONFIDENCE
from fgan_bench.verdicts import MIN_VALUES

#: Bootstrap resamples of each interval (rliable uses 2,000 to 50,000; 2,000 keeps a 95 % percentile
#: bound's Monte-Carlo error well below the interval's width at the 3–10 values per dataset we have).
RESAMPLES = 2000
#: Datasets needed before the across-dataset view is drawn.
MIN_DATASETS = 2
NORMALISATION = "min-max over every value of every divergence on the dataset, 1 = best, 0 = worst"


@dataclass(frozen=True)
class Estimate:
    """A statistic of ``divergence`` (against ``versus`` for a probability of improvement) and its interval
    (NaN without one: fewer than :data:`MIN_VALUES` values on some dataset)."""

    statistic: str
    divergence: str
    versus: str
    value: float
    ci_low: float
    ci_high: float
    values: int
    datasets: int


@dataclass(frozen=True)
class AcrossDatasets:
    """The across-dataset view: one IQM per divergence (best first) and one probability of improvement per pair."""

    iqm: tuple[Estimate, ...]
    improvement: tuple[Estimate, ...]
    datasets: tuple[str, ...]
    left_out: tuple[str, ...]
    normalisation: str = NORMALISATION

    @property
    def has_intervals(self) -> bool:
        return bool(self.iqm) and all(np.isfinite(e.ci_low) for e in self.iqm)

    def inseparable_from_best(self) -> tuple[str, ...]:
        """The divergences whose IQM interval overlaps the best IQM's interval (the best included)."""
        best = self.iqm[0]
        return tuple(e.divergence for e in self.iqm if e.ci_high >= best.ci_low and e.ci_low <= best.ci_high)

    def table(self) -> pd.DataFrame:
        """``aggregate.csv``: one row per estimate."""
        rows = [vars(e) | {"normalisation": self.normalisation} for e in (*self.iqm, *self.improvement)]
        return pd.DataFrame(rows, columns=[*Estimate.__dataclass_fields__, "normalisation"])


def normalise(values: np.ndarray, direction: str) -> np.ndarray:
    """A dataset's values on the 0 (worst) … 1 (best) scale of the module docstring."""
    sign = 1.0 if direction == "higher" else -1.0
    oriented = sign * np.asarray(values, dtype=float)
    finite = oriented[np.isfinite(oriented)]
    if finite.size == 0 or finite.max() == finite.min():
        return np.full(oriented.shape, 0.5)
    with np.errstate(invalid="ignore"):
        return np.clip((oriented - finite.min()) / (finite.max() - finite.min()), 0.0, 1.0)


def iqm(scores, axis: int = -1):
    """Interquartile mean: the mean of the middle 50 % of ``scores`` (25 % trimmed from each end)."""
    from scipy.stats import trim_mean

    return trim_mean(scores, 0.25, axis=axis)


def probability_of_improvement(x, y, axis: int = -1):
    """Mann–Whitney ``P(X > Y) + ½ P(X = Y)`` over all pairs of ``x`` and ``y`` (along ``axis``)."""
    x = np.moveaxis(np.asarray(x, dtype=float), axis, -1)[..., :, None]
    y = np.moveaxis(np.asarray(y, dtype=float), axis, -1)[..., None, :]
    return ((x > y) + 0.5 * (x == y)).mean(axis=(-2, -1))


def _interval(samples: list[np.ndarray], statistic, seed: int) -> tuple[float, float]:
    """Stratified percentile bootstrap: each sample resampled on its own (``scipy.stats.bootstrap``)."""
    from scipy.stats import bootstrap

    if any(sample.size < MIN_VALUES for sample in samples):
        return np.nan, np.nan
    result = bootstrap(samples, statistic, n_resamples=RESAMPLES, confidence_level=CONFIDENCE, method="percentile",
                       vectorized=True, rng=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def iqm_estimate(name: str, per_dataset: list[np.ndarray], seed: int = 0) -> Estimate:
    """The IQM of one divergence's normalised scores (one array per dataset) with its stratified interval."""
    def statistic(*samples, axis=-1):
        return iqm(np.concatenate(samples, axis=axis), axis=axis)

    low, high = _interval(per_dataset, statistic, seed)
    return Estimate("iqm", name, "", float(statistic(*per_dataset)), low, high,
                    sum(s.size for s in per_dataset), len(per_dataset))


def improvement_estimate(names: tuple[str, str], x: list[np.ndarray], y: list[np.ndarray], seed: int = 0) -> Estimate:
    """P(``names[0]`` improves on ``names[1]``), averaged over datasets, with its stratified interval."""
    def statistic(*samples, axis=-1):
        pairs = zip(samples[0::2], samples[1::2], strict=True)
        return np.mean([probability_of_improvement(a, b, axis=axis) for a, b in pairs], axis=0)

    samples = [s for pair in zip(x, y, strict=True) for s in pair]
    low, high = _interval(samples, statistic, seed)
    return Estimate("probability_of_improvement", names[0], names[1], float(statistic(*samples)), low, high,
                    sum(s.size for s in x) + sum(s.size for s in y), len(x))


def across_datasets(scores: pd.DataFrame, direction_of, seed: int = 0) -> AcrossDatasets | None:
    """The across-dataset view of a comparison.

    Args:
        scores: one row per value: ``dataset``, ``divergence``, ``value`` (a replicate's or seed's
            value of the dataset's main metric).
        direction_of: dataset → ``"higher"``/``"lower"`` (its main metric's direction).

    Returns:
        the view over the divergences that have values on every dataset (the others in
        ``left_out``), or None with fewer than :data:`MIN_DATASETS` datasets or 2 such divergences.
    """
    scores = scores[scores["value"].notna()]
    datasets = tuple(dict.fromkeys(scores["dataset"]))
    everywhere = set.intersection(*(set(scores.loc[scores["dataset"] == d, "divergence"]) for d in datasets)) \
        if datasets else set()
    names = [n for n in dict.fromkeys(scores["divergence"]) if n in everywhere]
    if len(datasets) < MIN_DATASETS or len(names) < 2:
        return None
    normalised = {}
    for dataset in datasets:
        rows = scores[(scores["dataset"] == dataset) & scores["divergence"].isin(everywhere)]
        values = normalise(rows["value"].to_numpy(float), direction_of(dataset))
        for name in names:
            normalised.setdefault(name, []).append(values[(rows["divergence"] == name).to_numpy()])
    estimates = sorted((iqm_estimate(n, normalised[n], seed) for n in names), key=lambda e: -e.value)
    order = [e.divergence for e in estimates]
    improvement = tuple(improvement_estimate((a, b), normalised[a], normalised[b], seed)
                        for a, b in itertools.combinations(order, 2))
    left_out = tuple(n for n in dict.fromkeys(scores["divergence"]) if n not in everywhere)
    return AcrossDatasets(tuple(estimates), improvement, datasets, left_out)
