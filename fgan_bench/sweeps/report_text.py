"""The report's sentences: numbers with their intervals, and the answer per dataset in words.

The answer: the best mean on the dataset's main metric with its Student-t 95 % interval and how
many values stand behind it, the divergences that are best or not distinguishable from the best
and those that are worse (Welch, Holm over all pairs; :mod:`fgan_bench.verdicts`), each
divergence's P(best) — what a rerun would likely say —, the metric families that name another
best (:mod:`fgan_bench.sweeps.answer`), and the budget behind the claim.
"""

from __future__ import annotations

import math

import numpy as np

from fgan_bench import stats


def format_value(value) -> str:
    """A number with 4 significant digits; ``inf``/``-inf`` as such; missing as empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, int | np.integer):
        return str(value)
    value = float(value)
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.4g}"


def format_estimate(mean, low, high, n: int, unit: str = "seed") -> str:
    """``0.238 [0.221, 0.257] (n = 5 seeds)``; one value: ``0.238 (1 seed)``; never "± 0"."""
    if n == 0:
        return "no value"
    if n == 1:
        return f"{format_value(mean)} (1 {unit})"
    if n < stats.MIN_VALUES_FOR_CI:
        return f"{format_value(mean)} (n = {n} {unit}s: too few for a CI)"
    if math.isnan(low) or math.isnan(high):
        return f"{format_value(mean)} (n = {n} {unit}s; no CI: a value is not finite)"
    return f"{format_value(mean)} [{format_value(low)}, {format_value(high)}] (n = {n} {unit}s)"


def format_interval(low, high, n: int) -> str:
    """``[0.221, 0.257]``, or why there is none (``1 seed``, ``too few seeds``, ``not finite``)."""
    if n <= 1:
        return "1 seed" if n == 1 else ""
    if n < stats.MIN_VALUES_FOR_CI:
        return "too few seeds"
    if math.isnan(low) or math.isnan(high):
        return "a value is not finite"
    return f"[{format_value(low)}, {format_value(high)}]"


def budget_sentences(state: dict, seeds_by_dataset: dict[str, int]) -> dict[str, str]:
    """Per dataset, the budget behind the answer: the protocol's search and confirmation, or one
    shared setting and its seeds."""
    protocol = state.get("protocol")
    sentences = {}
    for dataset, seeds in seeds_by_dataset.items():
        if protocol:
            replicates = protocol.get("replicates", 1)
            sentences[dataset] = (
                f"budget: {replicates} independent search replicate{'s' if replicates > 1 else ''} per divergence, "
                f"each {protocol['trials']} {protocol['sampler']}-search trials over the same space and its best "
                f"re-run with {len(protocol['confirm_seeds'])} fresh seed(s)"
            )
        else:
            sentences[dataset] = f"budget: one shared setting for every divergence (no tuning), {seeds} seed(s)"
    return sentences


def _percent(value) -> str:
    return f"{100 * value:.0f} %"


def _verdict_clause(rows: list[dict], unit: str) -> str:
    """Which divergences are best / best or not distinguishable / worse, or why there is no verdict."""
    missing = [r for r in rows if r["verdict"] == "no verdict"]
    if len(missing) == len(rows) or len(rows) - len(missing) < 2:
        counts = ", ".join(f"{r['divergence']} {int(r['n'])}" for r in missing)
        hint = " — set [search] replicates ≥ 3" if unit == "search replicate" else ""
        return f"no verdict: a verdict needs {stats.MIN_VALUES_FOR_CI} {unit}s per divergence, there are {counts}{hint}"
    named = {v: [r["divergence"] for r in rows if r["verdict"] == v] for v in
             ("best", "best or not distinguishable", "worse", "no verdict")}
    parts = [f"{', '.join(named['best'])} is best (better than every other)"] if named["best"] else []
    if named["best or not distinguishable"]:
        parts.append(f"best or not distinguishable: {', '.join(named['best or not distinguishable'])}")
    if named["worse"]:
        parts.append(f"worse: {', '.join(named['worse'])}")
    if named["no verdict"]:
        parts.append(f"no verdict (fewer than {stats.MIN_VALUES_FOR_CI} {unit}s): {', '.join(named['no verdict'])}")
    return "; ".join(parts) + " (Welch t-tests, Holm over all pairs, α = 0.05)"


def _stability_clause(rows: list[dict], unit: str) -> str:
    """P(best) per divergence and what a rerun would likely say."""
    probabilities = [r for r in rows if r.get("p_best") == r.get("p_best") and r.get("p_best") is not None]
    if not probabilities:
        return ""
    ordered = sorted(probabilities, key=lambda r: -r["p_best"])
    top = ordered[0]
    text = ("P(best) over a bootstrap of the whole protocol: "
            + ", ".join(f"{r['divergence']} {_percent(r['p_best'])}" for r in ordered) + " — " + _rerun_clause(ordered))
    share = top.get("best_share")
    if share == share and share is not None:
        text += f"; it was best in {_percent(share)} of the {unit}s"
    return text


LIKELY = 0.9
"""The P(best) from which the answer says a rerun would likely name that divergence best. Below it
the answer names every divergence a rerun may name (P(best) ≥ 5 %): from 3–5 replicates P(best) is
itself noisy — in the README's two-seed rerun of ``protocol_compare.toml`` a 64 % favourite on
ring8 had P(best) 0.4 % in the rerun."""


def _rerun_clause(ordered: list[dict]) -> str:
    """What a rerun would likely say, from P(best) sorted high to low."""
    top = ordered[0]
    if top["p_best"] >= LIKELY:
        return f"a rerun would likely name {top['divergence']} best ({_percent(top['p_best'])})"
    candidates = [r["divergence"] for r in ordered if r["p_best"] >= 0.05]
    return f"a rerun may name any of {', '.join(candidates)} best (none has P(best) ≥ {_percent(LIKELY)})"


def answer_sentence(dataset: str, decision: dict, budget: str) -> str:
    """The answer for one dataset in one sentence (best mean, verdicts, P(best), disagreeing
    metric families, budget)."""
    rows, unit = decision["rows"], decision["unit"]
    best = rows[0]
    estimate = format_estimate(best["mean"], best["ci_low"], best["ci_high"], int(best["n"]), unit)
    kind = ", Student-t 95 % interval" if best["ci_low"] == best["ci_low"] else ""
    better = "lower" if decision["direction"] == "lower" else "higher"
    text = (f"On {dataset}, by {decision['metric']} (main metric, {better} is better), {best['divergence']} has the "
            f"best mean: {estimate}{kind}; {_verdict_clause(rows, unit)}")
    stability = _stability_clause(rows, unit)
    if stability:
        text += f". {stability}"
    if decision["disagree"]:
        text += ". Other metric families name another best: " + "; ".join(
            f"{d['family']} ({', '.join(f'best by {m}: {w}' for m, w in d['metrics'].items())})"
            for d in decision["disagree"])
    return text + f" ({budget})."

