"""The answer of a sweep or protocol, per dataset: verdicts on the main metric, P(best), and the
metric families that disagree — the data behind the report's answer box and ``answer.csv``.

What one value is (the unit of replication):

* a **protocol**'s value is one *search replicate*: its own random search, its best
  configuration confirmed on its own fresh seeds; the value is the mean of those seeds. Its
  spread is what a rerun of the whole protocol shows (the search's randomness included).
  A protocol with one replicate has one value per divergence: no interval and no verdict
  (the spread of its confirmation seeds leaves the search out; the report says so).
* a **plain sweep** (one shared setting, no tuning): one value per seed.

The decision itself is :func:`fgan_bench.verdicts.decide` (Welch, Holm over all pairs,
Student-t intervals, P(best) by a stratified bootstrap of the whole protocol).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fgan_bench import verdicts
from fgan_bench.baselines import is_baseline
from fgan_bench.metrics import metric_direction


def run_label(row, varying: list[str]) -> str:
    """A divergence and the varying options of its run: ``kl critic_steps=2``; a baseline is marked
    ``wgan_gp (baseline)``."""
    mark = " (baseline)" if is_baseline(str(row["divergence"])) else ""
    return str(row["divergence"]) + mark + "".join(f" {k}={row[k]}" for k in varying)


def replicate_scores(scores: pd.DataFrame, replicate_of_seed: dict[str, int] | None) -> pd.DataFrame:
    """One value per (divergence, unit): a protocol's replicate (mean of its seeds), or a plain sweep's seed.

    Args:
        scores: the main metric's rows: ``divergence`` (label), ``seed``, ``value``.
        replicate_of_seed: a protocol's confirmation seed → its replicate (``None``: a plain sweep;
            an empty dict: a protocol of one replicate, written before replicates existed).
    """
    if replicate_of_seed is None:
        units = scores["seed"].astype(int)
    else:
        units = scores["seed"].map(lambda seed: replicate_of_seed.get(str(int(seed)), 0))
    grouped = scores.assign(unit=units).groupby(["divergence", "unit"], sort=False)["value"]
    return grouped.agg(value="mean", seeds="size").reset_index()


def family_of(metric: str) -> str:
    """The registered metric that computes an output (``modes_captured`` → ``modes``)."""
    from fgan_bench.metrics import metric_of_output

    giver = metric_of_output(metric)
    return metric if giver is None else giver.name


def answers(finished: pd.DataFrame, varying: list[str], metrics: dict[str, str], summary: pd.DataFrame,
            replicate_of_seed: dict[str, int] | None) -> tuple[dict, pd.DataFrame]:
    """Per dataset: the verdict table on its main metric, and the families that disagree.

    Args:
        finished: the evaluation runs (a protocol's confirmation runs), one row per run × metric.
        metrics: dataset → its main metric.
        summary: the report's summary (mean per dataset × divergence × metric, with ``direction``).
        replicate_of_seed: see :func:`replicate_scores`.

    Returns:
        (per dataset ``{"metric", "direction", "rows", "units", "unit", "disagree"}``, the
        ``answer.csv`` table: one row per dataset × divergence).
    """
    decisions, tables = {}, []
    best = verdicts.best_by_metric(summary.assign(divergence=summary.apply(lambda r: run_label(r, varying), axis=1))
                                   if not summary.empty else summary)
    for dataset, group in finished.groupby("dataset", sort=False):
        metric = metrics.get(dataset)
        direction = metric_direction(metric) if metric else None
        scores = group[group["metric"] == metric]
        if scores.empty or direction is None:
            continue
        scores = scores.assign(divergence=scores.apply(lambda row: run_label(row, varying), axis=1))
        units = replicate_scores(scores, replicate_of_seed)
        table = verdicts.decide(units, direction)
        seeds = units.groupby("divergence")["seeds"].sum()
        table.insert(5, "seeds", table["divergence"].map(seeds).astype(int))
        disagree = verdicts.disagreements(best, dataset, metric, family_of)
        table["disagreeing_families"] = "; ".join(
            f"{d['family']} ({', '.join(f'{m}: {w}' for m, w in d['metrics'].items())})" for d in disagree)
        table.insert(0, "metric", metric)
        table.insert(0, "dataset", dataset)
        decisions[dataset] = {
            "metric": metric,
            "direction": direction,
            "rows": table.to_dict("records"),
            "unit": "seed" if replicate_of_seed is None else "search replicate",
            "disagree": disagree,
        }
        tables.append(table)
    return decisions, (pd.concat(tables, ignore_index=True) if tables else pd.DataFrame())


def rank_separation(result: dict | None) -> dict | None:
    """The critical difference next to the spread of the average ranks: can the diagram separate anything?

    Returns:
        ``{"cd", "range", "separates"}`` (``separates``: the best and worst average ranks differ by
        more than the CD), or None without a Friedman/Nemenyi result.
    """
    if result is None:
        return None
    ranks = result["ranks"]
    cd = verdicts.critical_difference(len(ranks), result["datasets"])
    spread = float(np.max(ranks) - np.min(ranks))
    return {"cd": cd, "range": spread, "max_range": float(len(ranks) - 1), "separates": spread > cd}
