"""Statistics of a benchmark answer: pure functions on tidy tables (pandas, NumPy, SciPy).

* :func:`expected_max` — the expected best score of ``n`` random-search trials and its
  spread (Dodge et al., "Show Your Work", 2019). With the N observed scores sorted
  ``v₁ ≤ … ≤ v_N`` (higher is better) and ``n`` trials drawn with replacement,

      P(max = vᵢ) = pᵢ = (i/N)ⁿ − ((i − 1)/N)ⁿ,
      E[max_n]  = Σᵢ pᵢ vᵢ,          spread = sqrt(Σᵢ pᵢ (vᵢ − E[max_n])²).

  ``n = 1`` gives the mean. For lower-is-better metrics the scores are negated, so the
  curve is the expected *lowest* value. Valid for i.i.d. (random-search) trials only.
* :func:`t_interval` — mean and the Student-t 95 % interval ``ȳ ± t_{0.975, n−1} s/√n``: it
  holds its level at the 3–10 values people have (simulated: 95 % at n = 3 and 5 under normal
  noise, where a BCa bootstrap covers 72 % and 84 %); the report's intervals use it.
* :func:`expected_max_band` — a bootstrap band over trials for an expected-max curve.
* :func:`bootstrap_ci` — mean and a 95 % BCa bootstrap interval (``scipy.stats.bootstrap``);
  a single value has no interval ("1 seed"). Too narrow below ~10 values; kept for large samples.
* The verdicts (all pairs, Holm, P(best)) are in :mod:`fgan_bench.verdicts`.
* :func:`friedman_nemenyi` — average ranks across datasets, Friedman's test (SciPy) and
  Nemenyi's post-hoc test (``scikit-posthocs``), for a critical-difference diagram.

Non-finite values (``inf`` from a divergent exact integral) are kept: they sort last in
every ranking and make a mean ``inf``; they are never replaced by a number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

#: The confidence level of every interval and the significance level of every test.
CONFIDENCE = 0.95
ALPHA = 0.05
#: Bootstrap resamples; 2,000 keeps the Monte-Carlo error of a 95 % BCa bound well below
#: the interval's width for 3–50 seeds while a report with hundreds of cells stays fast.
N_RESAMPLES = 2000
#: Values needed for a bootstrap interval: with 2 values there are 3 distinct resamples and
#: the "interval" is an artefact. (With fewer than ~10 values every bootstrap interval is too
#: narrow — coverage below nominal — which the report says.)
MIN_VALUES_FOR_CI = 3
#: Datasets needed before a critical-difference diagram is drawn (Friedman's test over
#: fewer blocks has almost no power; Demšar 2006 uses ≥ 10, we draw from 4 and say so).
MIN_DATASETS_FOR_CD = 4


def _sign(direction: str) -> float:
    if direction not in ("higher", "lower"):
        raise ValueError(f"direction must be 'higher' or 'lower', got {direction!r}")
    return 1.0 if direction == "higher" else -1.0


def expected_max(scores: Sequence[float], budgets: Sequence[int], direction: str = "higher"):
    """Expected best score of ``n`` trials for each ``n`` in ``budgets``, and its spread.

    Args:
        scores: the N observed trial scores (finite or ±inf).
        budgets: trial counts n ≥ 1.
        direction: ``"higher"`` or ``"lower"`` is better.

    Returns:
        two arrays (expected best, spread), one entry per budget.
    """
    sign = _sign(direction)
    values = np.sort(sign * np.asarray(scores, dtype=float))
    if values.size == 0:
        nan = np.full(len(budgets), np.nan)
        return nan, nan.copy()
    count = values.size
    quantiles = np.arange(count + 1) / count
    expected, spread = [], []
    for n in budgets:
        weights = np.diff(quantiles**n)  # pᵢ = (i/N)ⁿ − ((i−1)/N)ⁿ
        used = weights > 0
        with np.errstate(invalid="ignore"):
            mean = float(np.sum(weights[used] * values[used]))
            variance = float(np.sum(weights[used] * (values[used] - mean) ** 2)) if math.isfinite(mean) else np.nan
        expected.append(sign * mean)
        spread.append(math.sqrt(max(variance, 0.0)) if math.isfinite(variance) else np.nan)
    return np.array(expected), np.array(spread)


def expected_max_table(trials: pd.DataFrame, direction_of) -> pd.DataFrame:
    """``expected_max.csv``: per (dataset, divergence, metric), expected best vs budget 1…N.

    Args:
        trials: one row per trial with columns ``dataset``, ``divergence``, ``metric``, ``value``.
        direction_of: metric name → ``"higher"``/``"lower"``.
    """
    rows = []
    for (dataset, divergence, metric), group in trials.groupby(["dataset", "divergence", "metric"], sort=False):
        values = group["value"].dropna().to_numpy(float)
        budgets = np.arange(1, len(values) + 1)
        expected, spread = expected_max(values, budgets, direction_of(metric))
        low, high = expected_max_band(values, budgets, direction_of(metric))
        rows.extend(
            {
                "dataset": dataset,
                "divergence": divergence,
                "metric": metric,
                "budget": int(n),
                "expected_best": e,
                "spread": s,
                "band_low": lo,
                "band_high": hi,
            }
            for n, e, s, lo, hi in zip(budgets, expected, spread, low, high, strict=True)
        )
    return pd.DataFrame(rows, columns=["dataset", "divergence", "metric", "budget", "expected_best", "spread",
                                       "band_low", "band_high"])


def t_interval(values, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean and Student-t interval of the mean: ``ȳ ± t_{(1+c)/2, n−1} · s/√n``.

    Fewer than :data:`MIN_VALUES_FOR_CI` values, or a non-finite one, give (mean, nan, nan)
    (an ``inf`` mean stays ``inf``); a constant sample gives (v, v, v).
    """
    from scipy import stats

    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return math.nan, math.nan, math.nan
    if not np.all(np.isfinite(data)):
        mean = math.inf if np.any(data == np.inf) and not np.any(data == -np.inf) else float(np.mean(data))
        return mean, math.nan, math.nan
    mean = float(data.mean())
    if data.size < MIN_VALUES_FOR_CI:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf((1 + confidence) / 2, data.size - 1) * data.std(ddof=1) / math.sqrt(data.size))
    return mean, mean - half, mean + half


def expected_max_band(scores: Sequence[float], budgets: Sequence[int], direction: str = "higher",
                      confidence: float = CONFIDENCE, resamples: int = 500, seed: int = 0):
    """Percentile bootstrap band of the expected-max curve: the N trials resampled with
    replacement, :func:`expected_max` recomputed on each resample.

    Returns:
        two arrays (low, high), one entry per budget (nan with fewer than 2 finite scores).
    """
    values = np.asarray(scores, dtype=float)
    if values.size < 2 or not np.all(np.isfinite(values)):
        nan = np.full(len(budgets), np.nan)
        return nan, nan.copy()
    rng = np.random.default_rng(seed)
    curves = np.array([expected_max(values[rng.integers(0, values.size, values.size)], budgets, direction)[0]
                       for _ in range(resamples)])
    tail = (1 - confidence) / 2
    return np.quantile(curves, tail, axis=0), np.quantile(curves, 1 - tail, axis=0)


def bootstrap_ci(values, confidence: float = CONFIDENCE, n_resamples: int = N_RESAMPLES, seed: int = 0):
    """Mean and BCa bootstrap interval of the mean along the last axis.

    ``values`` may be 1-D (one sample) or 2-D (one sample per row, computed at once). A
    sample with one value, or with a non-finite value, has the interval (nan, nan) — the
    report then says "1 seed" or shows the ``inf``; a constant sample has (v, v).

    Returns:
        (mean, low, high), scalars for 1-D input, arrays for 2-D input.
    """
    from scipy import stats

    data = np.asarray(values, dtype=float)
    single = data.ndim == 1
    data = np.atleast_2d(data)
    with np.errstate(invalid="ignore"):
        mean = data.mean(axis=-1)
    low, high = np.full(len(data), np.nan), np.full(len(data), np.nan)
    finite = np.isfinite(data).all(axis=-1) & (data.shape[-1] >= MIN_VALUES_FOR_CI)
    constant = finite & (np.ptp(np.where(np.isfinite(data), data, 0.0), axis=-1) == 0)
    low[constant], high[constant] = mean[constant], mean[constant]
    varying = finite & ~constant
    if varying.any():
        result = stats.bootstrap(
            (data[varying],),
            np.mean,
            axis=-1,
            vectorized=True,
            confidence_level=confidence,
            n_resamples=n_resamples,
            method="BCa",
            rng=np.random.default_rng(seed),
        )
        low[varying], high[varying] = result.confidence_interval.low, result.confidence_interval.high
    if single:
        return float(mean[0]), float(low[0]), float(high[0])
    return mean, low, high


def sort_key(values: pd.Series, direction: str) -> pd.Series:
    """A key that sorts best first with every non-finite (or missing) value last."""
    sign = _sign(direction)
    key = -sign * values.astype(float)
    return key.where(np.isfinite(key), np.inf)


def summarise(scores: pd.DataFrame, groups: Sequence[str]) -> pd.DataFrame:
    """Mean, Student-t 95 % CI and n of ``value`` per group (``groups`` must include ``metric``)."""
    rows = []
    keys, samples = [], []
    for key, group in scores.groupby(list(groups), sort=False, dropna=False):
        keys.append(key if isinstance(key, tuple) else (key,))
        samples.append(group["value"].dropna().to_numpy(float))
    for key, sample in zip(keys, samples, strict=True):
        mean, low, high = t_interval(sample)
        rows.append({**dict(zip(groups, key, strict=True)), "mean": mean, "ci_low": low, "ci_high": high,
                     "n": int(sample.size)})
    return pd.DataFrame(rows)


def friedman_nemenyi(table: pd.DataFrame, direction: str) -> dict | None:
    """Average ranks across datasets, Friedman's p and Nemenyi's pairwise p-values.

    Args:
        table: rows = datasets, columns = divergences, values = the mean score (complete
            rows only are used; non-finite values rank last).

    Returns:
        ``{"ranks": Series, "friedman_p": float, "nemenyi": DataFrame, "datasets": int}``,
        or None with fewer than :data:`MIN_DATASETS_FOR_CD` complete datasets or 3 divergences.
    """
    import scikit_posthocs
    from scipy import stats

    table = table.dropna(axis=0, how="any")
    if len(table) < MIN_DATASETS_FOR_CD or table.shape[1] < 3:
        return None
    keys = table.apply(lambda row: sort_key(row, direction), axis=1).replace(np.inf, 1e300)
    ranks = keys.rank(axis=1, method="average")
    friedman = stats.friedmanchisquare(*(ranks[c].to_numpy() for c in ranks.columns))
    nemenyi = scikit_posthocs.posthoc_nemenyi_friedman(ranks.to_numpy())
    nemenyi.index = nemenyi.columns = list(ranks.columns)
    return {
        "ranks": ranks.mean(axis=0).sort_values(),
        "friedman_p": float(friedman.pvalue),
        "nemenyi": nemenyi,
        "datasets": len(table),
    }
