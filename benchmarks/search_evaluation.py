"""What a protocol's search trial spends on evaluation: every metric (as before, and as a
confirmation run) against what the trial now evaluates (the score and the cheap metrics).

    python -m fgan_bench run --dataset ring8 --divergence kl --out /tmp/m   # any finished run
    python benchmarks/search_evaluation.py /tmp/m/runs/<run-id> [--trials 3]

Both evaluations use the run's own final samples (``num_samples`` from its checkpoint's
generator) and critic, side by side in one process, alternating trials; each trial prints both
wall times with the per-metric split and the load average (1 min), since another process on the
cores moves every figure. The run's ``evaluation.json`` and ``result.json`` ``quality`` are
rewritten by ``evaluate_run`` (with the same values). A benchmark, not a test: it exits 0.
"""

from __future__ import annotations

import argparse
import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from fgan_bench import rundir  # noqa: E402
from fgan_bench.evaluation import evaluate_run  # noqa: E402
from fgan_bench.sweeps.protocol_spec import Protocol  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    dataset = rundir.RunDirectory(args.run_dir).read_config().dataset
    decision = Protocol(trials=1, sampler="random", seed=0, metric=None, space=(), pruning=None, storage=None,
                        confirm_seeds=(1,))
    chosen = list(decision.trial_metrics(dataset))
    print(f"{args.run_dir}: a search trial evaluates {', '.join(chosen)}")
    evaluate_run(args.run_dir, metrics=chosen)  # imports and first-call set-up are not what is measured
    ratios = []
    for trial in range(args.trials):
        every = evaluate_run(args.run_dir)
        trial_only = evaluate_run(args.run_dir, metrics=chosen)
        ratios.append(trial_only["seconds"] / every["seconds"])
        split = ", ".join(f"{name} {seconds:.2f}" for name, seconds in every["seconds_per_metric"].items())
        print(f"trial {trial}: every metric {every['seconds']:.2f} s ({split}); search trial "
              f"{trial_only['seconds']:.2f} s; ratio {ratios[-1]:.3f}; load {os.getloadavg()[0]:.2f}", flush=True)
    print(f"search trial / every metric: median {statistics.median(ratios):.3f} "
          f"(range {min(ratios):.3f}-{max(ratios):.3f}) over {args.trials} trials")


if __name__ == "__main__":
    main()
