"""Calibration of the protocol's answer: the report's own decision functions on synthetic scores with known truth.

    python benchmarks/protocol_calibration.py            # a few minutes on 2 cores
    python benchmarks/protocol_calibration.py --quick    # fewer simulations (a smoke check)

No training. A synthetic protocol replaces it (lower is better, as for the true JS):

* divergence d has a mean configuration quality μ_d; a configuration drawn by the random
  search has quality q = μ_d + τ·z (z ~ N(0, 1): the spread across configurations);
* a run of it scores q + σ·e (e ~ N(0, 1): seed noise);
* one **search replicate**: ``trials`` configurations, each run once; the one with the best
  (lowest) run score is selected and re-run on ``seeds`` fresh seeds; the replicate's value is
  the mean of those runs — exactly what :mod:`fgan_bench.sweeps.answer` feeds the decision;
* R replicates per divergence ("values per divergence") go to :func:`fgan_bench.verdicts.decide`,
  the function the report calls.

The truth a rerun estimates is each divergence's *expected tuned score*
E_d = μ_d + τ·E[z_selected] (the selection offset is the same for every divergence and is
computed by Monte Carlo with 10⁶ draws). Gaps are in units of the sd of one replicate's value.

Printed: interval coverage of E_d; family-wise false-"worse" rate under equal means for
k = 2…14; power at 0.5/1/2-sd gaps; how often the true best is in the "best or not
distinguishable" set; and how often two independent runs contradict each other
(:func:`fgan_bench.verdicts.contradicts`).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from fgan_bench import verdicts

TAU, SIGMA, TRIALS, SEEDS = 1.0, 0.5, 4, 1


def replicate_values(means: np.ndarray, replicates: int, rng, trials: int = TRIALS, seeds: int = SEEDS) -> np.ndarray:
    """Values (k × R) of one synthetic protocol: each replicate's selected configuration, confirmed."""
    k = means.size
    quality = means[:, None, None] + TAU * rng.standard_normal((k, replicates, trials))
    observed = quality + SIGMA * rng.standard_normal(quality.shape)
    selected = np.take_along_axis(quality, observed.argmin(axis=2)[..., None], axis=2)[..., 0]
    return selected + SIGMA * rng.standard_normal((k, replicates, seeds)).mean(axis=2)


def selection_offset_and_sd(rng) -> tuple[float, float]:
    """E[value] − μ and the sd of one replicate's value (Monte Carlo, 10⁶ replicates)."""
    values = replicate_values(np.zeros(1), 1_000_000, rng)[0]
    return float(values.mean()), float(values.std())


def decide(values: np.ndarray, resamples: int = 0) -> pd.DataFrame:
    names = [f"d{i}" for i in range(values.shape[0])]
    scores = pd.DataFrame({"divergence": np.repeat(names, values.shape[1]),
                           "unit": np.tile(np.arange(values.shape[1]), values.shape[0]),
                           "value": values.ravel()})
    return verdicts.decide(scores, "lower", resamples=resamples)


def coverage(replicates: int, sims: int, offset: float, rng, k: int = 4) -> float:
    means = np.linspace(0.0, 1.0, k)
    hits = []
    for _ in range(sims):
        table = decide(replicate_values(means, replicates, rng)).set_index("divergence")
        truth = means + offset
        hits += [table.loc[f"d{i}", "ci_low"] <= truth[i] <= table.loc[f"d{i}", "ci_high"] for i in range(k)]
    return float(np.mean(hits))


def false_worse_rate(k: int, replicates: int, sims: int, rng) -> float:
    return float(np.mean([(decide(replicate_values(np.zeros(k), replicates, rng))["verdict"] == "worse").any()
                          for _ in range(sims)]))


def power(gap_sd: float, replicates: int, sims: int, sd: float, rng) -> float:
    """k = 2, one divergence gap_sd replicate-sds worse: how often it is called worse."""
    means = np.array([0.0, gap_sd * sd])
    worse = [decide(replicate_values(means, replicates, rng)).set_index("divergence").loc["d1", "verdict"] == "worse"
             for _ in range(sims)]
    return float(np.mean(worse))


def best_in_set(k: int, step_sd: float, replicates: int, sims: int, sd: float, rng) -> float:
    """Means 0, step, 2·step, … (d0 is the true best): how often d0 is not called worse."""
    means = np.arange(k) * step_sd * sd
    return float(np.mean([decide(replicate_values(means, replicates, rng)).set_index("divergence")
                          .loc["d0", "verdict"] != "worse" for _ in range(sims)]))


def contradiction_rate(k: int, step_sd: float, replicates: int, sims: int, sd: float, rng) -> float:
    means = np.arange(k) * step_sd * sd
    return float(np.mean([verdicts.contradicts(decide(replicate_values(means, replicates, rng)),
                                               decide(replicate_values(means, replicates, rng)))
                          for _ in range(sims)]))


def p_best_calibration(replicates: int, sims: int, sd: float, rng, k: int = 3) -> float:
    """Means 0, 0.5 sd, 1 sd: the mean P(best) given to d0 against how often an independent rerun's best mean is d0."""
    means = np.arange(k) * 0.5 * sd
    given = [decide(replicate_values(means, replicates, rng), resamples=400).set_index("divergence")
             .loc["d0", "p_best"] for _ in range(sims)]
    reruns = [int(np.argmin(replicate_values(means, replicates, rng).mean(axis=1)) == 0) for _ in range(20 * sims)]
    return float(np.mean(given)), float(np.mean(reruns))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer simulations (a smoke check)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sims = 60 if args.quick else 400
    rng = np.random.default_rng(args.seed)
    start = time.time()
    offset, sd = selection_offset_and_sd(rng)
    print(f"synthetic protocol: τ = {TAU} (configurations), σ = {SIGMA} (seeds), {TRIALS} trials per replicate, "
          f"{SEEDS} confirmation seed; one replicate's value has sd {sd:.3f}; {sims} simulated protocols per cell; "
          f"α = {verdicts.ALPHA}")
    print("\n| values per divergence (replicates) | 3 | 5 | 10 |\n|---|---|---|---|")
    print("| coverage of E_d (k = 4, nominal 0.95) | "
          + " | ".join(f"{coverage(r, sims // 2, offset, rng):.3f}" for r in (3, 5, 10)) + " |")
    for gap in (0.5, 1.0, 2.0):
        print(f"| power, gap {gap} sd (k = 2) | "
              + " | ".join(f"{power(gap, r, sims // 2, sd, rng):.3f}" for r in (3, 5, 10)) + " |")
    print("| true best in 'best or not distinguishable' (k = 4, 0.5-sd steps) | "
          + " | ".join(f"{best_in_set(4, 0.5, r, sims // 2, sd, rng):.3f}" for r in (3, 5, 10)) + " |")
    print("| contradictions between two runs (k = 4, 0.5-sd steps) | "
          + " | ".join(f"{contradiction_rate(4, 0.5, r, sims // 2, sd, rng):.3f}" for r in (3, 5, 10)) + " |")
    given, observed = p_best_calibration(5, sims // 4, sd, rng)
    print(f"\nP(best) of the true best (k = 3, 0.5-sd steps, 5 replicates): mean reported {given:.3f}, "
          f"share of reruns whose best mean is the true best {observed:.3f}")
    ks = list(range(2, 15))
    print("\n| k (divergences, equal means, 5 replicates) | " + " | ".join(map(str, ks)) + " |")
    print("|---|" + "---|" * len(ks))
    print("| family-wise false 'worse' rate | "
          + " | ".join(f"{false_worse_rate(k, 5, sims, rng):.3f}" for k in ks) + " |")
    print("| true best in set, 0.5-sd steps | "
          + " | ".join(f"{best_in_set(k, 0.5, 5, sims // 4, sd, rng):.3f}" for k in (ks)) + " |")
    print("| contradictions, 0.5-sd steps | "
          + " | ".join(f"{contradiction_rate(k, 0.5, 5, sims // 4, sd, rng):.3f}" for k in ks) + " |")
    print(f"\n{time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
