"""Which divergence is best on one dataset: verdicts with family-wise error control and P(best).

The input is one value per *replicate* and divergence: for a protocol, a replicate is one
whole tuning procedure (its own random search, its best configuration confirmed on fresh
seeds; the replicate's value is the mean of its confirmation seeds); for a plain sweep of
one shared setting, a replicate is a seed. The values of one divergence are i.i.d. draws of
its *tuned score* Y, and the estimand is μ = E[Y] — the mean over search and seed
randomness, the number an independent rerun of the protocol estimates.

One model gives the interval and the test: Y_d ~ Normal(μ_d, σ_d²), divergences independent.

* Interval: Student-t over the n_d values, ``ȳ ± t_{0.975, n−1} · s/√n``
  (:func:`fgan_bench.stats.t_interval`).
* Tests: every pair (a, b) by Welch's t-test (two-sided), the ``k(k−1)/2`` p-values
  Holm-adjusted together. All pairs, not "the best mean against the rest": picking the best
  first and correcting only its ``k − 1`` comparisons lets false "worse" claims grow with
  k. Holm over all pairs keeps the family-wise rate of any false claim ≤ α under any
  configuration of means (strong control), the selection included.
* Verdicts: a divergence is **worse** when some other divergence is significantly better;
  **best** when it is significantly better than every other one; otherwise **best or not
  distinguishable** — the set of divergences no test puts below another (it contains the
  true best unless a false "worse" claim was made, so with probability ≥ 1 − α).
  A divergence with fewer than :data:`MIN_VALUES` finite values gets **no verdict** and is
  left out of the tests (a t-test on 2 values has 1 degree of freedom: its interval is
  ±12.7 s; a claim from it does not survive a rerun).
* P(best): the share of bootstrap resamples of the whole protocol — each divergence's values
  resampled with replacement, independently (stratified) — in which the divergence has the
  best mean: what a rerun of the protocol would likely name best. ``best_share``: the share of
  replicates in which it was best — what one single search (one replicate) would say.

Why Welch and not a paired test: a protocol's replicate r uses the same seed numbers for every
divergence, but different configurations, so the pairing shares a number, not a run; a paired
test would spend half the degrees of freedom on a correlation that is not there, and its
interval would be a different model from the per-divergence interval the report shows.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from fgan_bench.stats import ALPHA, sort_key, t_interval

#: The fewest values (replicates) behind any verdict, and behind P(best).
MIN_VALUES = 3
#: Bootstrap resamples of the whole protocol for P(best); 2,000 keeps its Monte-Carlo error ≤ 0.011.
P_BEST_RESAMPLES = 2000
VERDICTS = ("best", "best or not distinguishable", "worse", "no verdict")
COLUMNS = ["divergence", "mean", "ci_low", "ci_high", "n", "sd", "p_best", "best_share", "worse_than",
           "p_holm", "verdict", "reason"]


def pairwise_tests(groups: dict[str, np.ndarray], alpha: float = ALPHA) -> pd.DataFrame:
    """Welch's t-test for every pair of ``groups``, Holm-adjusted over all pairs.

    Welch (two-sided; the same p as ``scipy.stats.ttest_ind(a, b, equal_var=False)``, computed for
    all pairs at once): ``t = (ȳ_a − ȳ_b)/sqrt(s_a²/n_a + s_b²/n_b)`` with Welch–Satterthwaite
    degrees of freedom ``(v_a + v_b)² / (v_a²/(n_a − 1) + v_b²/(n_b − 1))``, ``v = s²/n``. Two
    constant groups: p = 1 if equal, else 0.

    Returns:
        one row per pair: ``a``, ``b``, ``p_value``, ``p_holm``, ``significant``.
    """
    from scipy import stats

    names = list(groups)
    pairs = np.array(list(itertools.combinations(range(len(names)), 2)), dtype=int).reshape(-1, 2)
    table = pd.DataFrame({"a": [names[i] for i in pairs[:, 0]], "b": [names[j] for j in pairs[:, 1]]})
    if not len(pairs):
        return table.assign(p_value=[], p_holm=[], significant=[])
    n = np.array([groups[name].size for name in names], dtype=float)
    mean = np.array([groups[name].mean() for name in names])
    v = np.array([groups[name].var(ddof=1) for name in names]) / n
    i, j = pairs[:, 0], pairs[:, 1]
    se2 = v[i] + v[j]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (mean[i] - mean[j]) / np.sqrt(se2)
        df = se2**2 / (v[i] ** 2 / (n[i] - 1) + v[j] ** 2 / (n[j] - 1))
        p = 2 * stats.t.sf(np.abs(t), df)
    constant = se2 == 0
    p[constant] = np.where(mean[i][constant] == mean[j][constant], 1.0, 0.0)
    table["p_value"] = p
    table["p_holm"] = holm(p)
    table["significant"] = table["p_holm"] < alpha
    return table


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values: with ``p₍₁₎ ≤ … ≤ p₍ₘ₎``,
    ``p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1) p₍ⱼ₎)`` (equal to statsmodels' ``multipletests(method="holm")``,
    which runs a full garbage collection per call — too slow for the calibration's simulations)."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (p.size - np.arange(p.size)) * p[order])
    adjusted = np.empty_like(p)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def p_best(groups: dict[str, np.ndarray], direction: str, resamples: int = P_BEST_RESAMPLES,
           seed: int = 0) -> dict[str, float]:
    """Share of stratified bootstrap resamples in which each divergence has the best mean."""
    rng = np.random.default_rng(seed)
    names = list(groups)
    sign = 1.0 if direction == "higher" else -1.0
    means = np.column_stack([
        sign * values[rng.integers(0, values.size, size=(resamples, values.size))].mean(axis=1)
        for values in groups.values()
    ])
    means += rng.uniform(0, 1e-12, size=means.shape)  # ties (constant values) broken at random
    wins = np.bincount(np.argmax(means, axis=1), minlength=len(names))
    return {name: float(w / resamples) for name, w in zip(names, wins, strict=True)}


def best_share(scores: pd.DataFrame, direction: str) -> dict[str, float]:
    """Per divergence: the share of replicates (rows of ``unit``) in which it has the best value,
    over the replicates every divergence has."""
    if "unit" not in scores:
        return {}
    names = list(dict.fromkeys(scores["divergence"]))
    units = sorted(set.intersection(*(set(g) for _, g in scores.groupby("divergence", sort=False)["unit"])))
    if not units:
        return {}
    sign = 1.0 if direction == "higher" else -1.0
    wide = np.full((len(units), len(names)), -np.inf)
    rows, columns = {u: i for i, u in enumerate(units)}, {n: j for j, n in enumerate(names)}
    for name, unit, value in zip(scores["divergence"], scores["unit"], scores["value"], strict=True):
        if unit in rows:
            wide[rows[unit], columns[name]] = sign * value if np.isfinite(value) else -np.inf
    wins = np.bincount(np.argmax(wide, axis=1), minlength=len(names))
    return {name: float(w / len(units)) for name, w in zip(names, wins, strict=True)}


def _verdict(name: str, testable: set[str], worse_than: list[str], beats: int, others: int, n: int) -> tuple[str, str]:
    if name not in testable:
        return "no verdict", f"{n} value{'s' if n != 1 else ''}, a verdict needs {MIN_VALUES} finite ones"
    if worse_than:
        return "worse", "worse than " + ", ".join(worse_than)
    if others and beats == others:
        return "best", "better than every other divergence"
    return "best or not distinguishable", "no divergence is significantly better"


def decide(scores: pd.DataFrame, direction: str, alpha: float = ALPHA, resamples: int = P_BEST_RESAMPLES,
           seed: int = 0) -> pd.DataFrame:
    """The verdict table of one dataset and metric.

    Args:
        scores: one row per (divergence, replicate): ``divergence``, ``value`` and optionally
            ``unit`` (the replicate's index, shared across divergences, for ``best_share``).
        direction: ``"higher"``/``"lower"`` is better.
        resamples: bootstrap resamples for P(best); 0 skips it.

    Returns:
        one row per divergence, best mean first, columns :data:`COLUMNS`: the mean and t-interval,
        n, sd, ``p_best``, ``best_share``, ``worse_than`` (names), ``p_holm`` (the smallest adjusted
        p against a divergence with a better mean), ``verdict`` (:data:`VERDICTS`) and ``reason``.
    """
    groups = {name: group["value"].to_numpy(float) for name, group in scores.groupby("divergence", sort=False)}
    testable = {name for name, v in groups.items() if v.size >= MIN_VALUES and np.all(np.isfinite(v))}
    rows = []
    for name, values in groups.items():
        mean, low, high = t_interval(values)
        sd = float(np.std(values, ddof=1)) if values.size > 1 and np.all(np.isfinite(values)) else math.nan
        rows.append({"divergence": name, "mean": mean, "ci_low": low, "ci_high": high, "n": int(values.size),
                     "sd": sd})
    table = pd.DataFrame(rows, columns=["divergence", "mean", "ci_low", "ci_high", "n", "sd"])
    tests = pairwise_tests({n: groups[n] for n in groups if n in testable}, alpha)
    key = dict(zip(table["divergence"], sort_key(table["mean"], direction), strict=True))
    worse_than = {name: [] for name in groups}
    beats = dict.fromkeys(groups, 0)
    p_against_better = dict.fromkeys(groups, math.nan)
    for test in tests.itertuples():
        better, worse = (test.a, test.b) if key[test.a] <= key[test.b] else (test.b, test.a)
        p_against_better[worse] = np.nanmin([p_against_better[worse], test.p_holm])
        if test.significant:
            worse_than[worse].append(better)
            beats[better] += 1
    everyone_testable = len(testable) == len(groups) >= 2
    probabilities = (p_best({n: groups[n] for n in groups}, direction, resamples, seed)
                     if resamples and len(testable) == len(groups) else {})
    shares = best_share(scores, direction)
    table["p_best"] = table["divergence"].map(probabilities).astype(float)
    table["best_share"] = table["divergence"].map(shares).astype(float)
    table["worse_than"] = table["divergence"].map(lambda n: ", ".join(worse_than[n]))
    table["p_holm"] = table["divergence"].map(p_against_better).astype(float)
    others = len(groups) - 1 if everyone_testable else -1
    verdicts = [_verdict(n, testable, worse_than[n], beats[n], others, int(c)) for n, c in
                zip(table["divergence"], table["n"], strict=True)]
    table["verdict"] = [v for v, _ in verdicts]
    table["reason"] = [r for _, r in verdicts]
    order = np.argsort(sort_key(table["mean"], direction).to_numpy(), kind="stable")
    return table.iloc[order].reset_index(drop=True)[COLUMNS]


def contradicts(first: pd.DataFrame, second: pd.DataFrame) -> bool:
    """Whether two verdict tables (of two independent runs) contradict each other: one says
    a is worse than b, the other that b is worse than a, or that a is best."""
    def claims(table):
        worse = {(row.divergence, other.strip()) for row in table.itertuples() for other in
                 row.worse_than.split(",") if other.strip()}
        best = set(table.loc[table["verdict"] == "best", "divergence"])
        return worse, best

    worse_1, best_1 = claims(first)
    worse_2, best_2 = claims(second)
    flipped = {(b, a) for a, b in worse_1} & worse_2
    return bool(flipped or {a for a, _ in worse_1} & best_2 or {a for a, _ in worse_2} & best_1)


def best_by_metric(summary: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, metric) of a summary (``mean``, ``direction``): the divergence with the best mean."""
    rows = []
    ranked = summary[summary["direction"].isin(["higher", "lower"]) & summary["mean"].notna()]
    for (dataset, metric), group in ranked.groupby(["dataset", "metric"], sort=False):
        key = sort_key(group["mean"], group["direction"].iloc[0])
        rows.append({"dataset": dataset, "metric": metric, "best": group.loc[key.idxmin(), "divergence"]})
    return pd.DataFrame(rows, columns=["dataset", "metric", "best"])


def disagreements(best: pd.DataFrame, dataset: str, main: str, family_of) -> list[dict]:
    """The metric families whose metrics name another best divergence than the main metric.

    Args:
        best: :func:`best_by_metric`'s table.
        family_of: metric output → its family (the registered metric that computes it).

    Returns:
        one entry per disagreeing family: ``family``, ``metrics`` (output → its best).
    """
    rows = best[best["dataset"] == dataset].set_index("metric")["best"]
    if main not in rows:
        return []
    families: dict[str, dict[str, str]] = {}
    for metric, winner in rows.items():
        if metric != main and winner != rows[main]:
            families.setdefault(family_of(metric), {})[metric] = winner
    return [{"family": family, "metrics": metrics} for family, metrics in families.items()]


def critical_difference(k: int, datasets: int, alpha: float = ALPHA) -> float:
    """Nemenyi's critical difference of average ranks, ``q_α · sqrt(k(k+1)/(6N))`` (Demšar 2006),
    with ``q_α`` the studentised range quantile over √2."""
    from scipy.stats import studentized_range

    q_alpha = studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q_alpha * math.sqrt(k * (k + 1) / (6 * datasets)))
