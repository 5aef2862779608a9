"""Evaluation speed: every default metric on 10,000 ring8 samples (target: under 10 s on 2 cores).

    python benchmarks/perf_metrics.py [--samples 10000] [--trials 3]

The samples are drawn from the target itself (a perfect generator, so the values are
near their ideal); the timing is what matters here. Prints each metric's wall time (median
of the trials) and the total.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from fgan_bench.datasets import get_dataset  # noqa: E402
from fgan_bench.metrics import evaluate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ring8")
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    dataset = get_dataset(args.dataset)
    fake = dataset.sample(args.samples, seed=123)
    evaluate(dataset, fake[:500])  # imports and first-call set-up are not what is measured
    totals, per_metric = [], {}
    for trial in range(args.trials):
        timings: dict[str, float] = {}
        started = time.perf_counter()
        values = evaluate(dataset, fake, seed=trial, timings=timings)
        totals.append(time.perf_counter() - started)
        for name, seconds in timings.items():
            per_metric.setdefault(name, []).append(seconds)
    print(
        f"{args.samples} {args.dataset} samples, every default metric ({len(values)} values), "
        f"median of {args.trials} trials:"
    )
    for name, seconds in per_metric.items():
        print(f"  {name:<22} {statistics.median(seconds):6.2f} s")
    total = statistics.median(totals)
    print(f"  {'total':<22} {total:6.2f} s   (target < 10 s: {'met' if total < 10 else 'MISSED'})")


if __name__ == "__main__":
    main()
