"""Population throughput: member-steps per second for K runs in one compiled step.

For K = 1, 4, 16, 64 (``--sizes``) it builds K trainers of one task (seeds 0…K−1), stacks them
(:class:`fgan_bench.population.PopulationTrainer`, XLA) and times ``--steps`` steps after a
warm-up chunk; the figure is K × steps / seconds, median of ``--trials``. Tasks as in
``perf_train.py``: the MLP on ring8 (batch 256) and the DCGAN on digits (batch 64).

``--protocol FILE`` also times a protocol sweep end to end twice, into two folders under
``--out``: one run per step, then ``--population K`` (the answer must be the same ranking).

    python benchmarks/population.py [--steps 200] [--trials 3] [--sizes 1 4 16 64]
    python benchmarks/population.py --protocol benchmarks/protocol_compare.toml --population 16 --jobs 2

Target on 2 quiet CPU cores: member-steps/s at K = 16 ≥ 0.9 × K = 1; the protocol ≥ 2× faster.
A benchmark, not a test: it prints the figures and exits 0.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TASKS = {
    "mlp-ring8": dict(dataset="ring8", model="mlp", batch_size=256, latent_dim=16, width=128, depth=2),
    "dcgan-digits": dict(dataset="digits", model="dcgan", batch_size=64, latent_dim=32, filters=64),
}


def member_steps_per_second(task: str, size: int, steps: int, trials: int) -> float:
    import keras
    import tensorflow as tf

    from fgan_bench import RunConfig
    from fgan_bench.build import build_trainer
    from fgan_bench.datasets import get_dataset, training_batches
    from fgan_bench.population import PopulationTrainer, population_batches

    options = TASKS[task]
    dataset = get_dataset(options["dataset"])
    gans, streams = [], []
    for seed in range(size):
        config = RunConfig(divergence="gan", seed=seed, **options).resolved()
        keras.utils.set_random_seed(seed)
        gan = build_trainer(config, tf.distribute.get_strategy(), dataset)
        gans.append(gan)
        streams.append(training_batches(dataset, batch_size=config.batch_size, real_slots=1, noise_slots=1,
                                        latent_dim=config.latent_dim, seed=seed))
    population = PopulationTrainer(gans)
    batches = iter(population_batches(streams, 1, 1))
    population.train(batches, 10)  # compile and warm up
    population.generator.weights[0].numpy()
    rates = []
    for _ in range(trials):
        started = time.perf_counter()
        population.train(batches, steps)
        population.generator.weights[0].numpy()  # wait for the step to finish
        rates.append(size * steps / (time.perf_counter() - started))
    return statistics.median(rates)


def protocol_seconds(path: str, out: str, jobs: int, population: int | None) -> float:
    command = [sys.executable, "-m", "fgan_bench", "sweep", path, "--jobs", str(jobs), "--out", out, "--no-report"]
    if population:
        command += ["--population", str(population)]
    started = time.perf_counter()
    subprocess.run(command, check=False)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--protocol", metavar="FILE", help="also time this protocol with and without populations")
    parser.add_argument("--population", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default="reports/population_benchmark")
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.1f} (1-min average), {os.cpu_count()} cores", flush=True)
    for task in args.tasks:
        base = None
        for size in args.sizes:
            rate = member_steps_per_second(task, size, args.steps, args.trials)
            base = base or rate
            print(f"{task:13s} K={size:3d}: {rate:9.1f} member-steps/s  ({rate / base:.2f}× K={args.sizes[0]})",
                  flush=True)
    if args.protocol:
        single = protocol_seconds(args.protocol, os.path.join(args.out, "single"), args.jobs, None)
        stacked = protocol_seconds(args.protocol, os.path.join(args.out, "population"), args.jobs, args.population)
        print(f"protocol {args.protocol}: {single:.0f} s one run per step, {stacked:.0f} s with population "
              f"{args.population} ({single / stacked:.2f}× faster); compare the two reports' rankings", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
