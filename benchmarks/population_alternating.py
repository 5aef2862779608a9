"""Populations on the alternating schedule: member-steps/s and compile time against the single-run trainer.

A protocol's trials (benchmarks/protocol_compare.toml) alternate, with critic steps drawn from
1–3. A population runs max(critic_steps) critic updates for every member (masking the rest),
and compiles its step (XLA) once per build. For the ring8 MLP (batch 256, KL) this prints:
the single-run trainer (``FGAN.fit``, critic steps 2) — its first 100 steps (trace) and its
steps/s —, then for each K (``--sizes``) a population with every member at critic steps 2 and
one with critic steps 1, 2, 3, 1, … — the seconds to build, compile and run 10 steps, and
member-steps/s (median of ``--trials`` chunks of ``--steps``).

    python benchmarks/population_alternating.py [--sizes 1 4 10 16] [--steps 300] [--trials 3]

A benchmark, not a test: it prints the figures (and the load average) and exits 0.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _trainer(seed: int, critic_steps: int):
    import keras
    import tensorflow as tf

    from fgan_bench import RunConfig
    from fgan_bench.build import build_trainer
    from fgan_bench.datasets import get_dataset, training_batches

    dataset = get_dataset("ring8")
    config = RunConfig(divergence="kl", seed=seed, dataset="ring8", schedule="alternating",
                       critic_steps=critic_steps).resolved()
    keras.utils.set_random_seed(seed)
    gan = build_trainer(config, tf.distribute.get_strategy(), dataset)
    data = training_batches(dataset, batch_size=config.batch_size, real_slots=critic_steps,
                            noise_slots=critic_steps + 1, latent_dim=config.latent_dim, seed=seed)
    return gan, data


def population(size: int, mixed: bool, steps: int, trials: int) -> tuple[float, float]:
    """(seconds to build, compile and run 10 steps; member-steps/s) of a population of ``size``."""
    from fgan_bench.population import PopulationTrainer, population_batches

    members = [_trainer(seed, 1 + seed % 3 if mixed else 2) for seed in range(size)]
    started = time.perf_counter()
    stacked = PopulationTrainer([gan for gan, _ in members])
    batches = iter(population_batches([data for _, data in members], stacked.real_slots, stacked.noise_slots))
    stacked.train(batches, 10)
    stacked.generator.weights[0].numpy()
    compile_seconds = time.perf_counter() - started
    rates = []
    for _ in range(trials):
        started = time.perf_counter()
        stacked.train(batches, steps)
        stacked.generator.weights[0].numpy()
        rates.append(size * steps / (time.perf_counter() - started))
    return compile_seconds, statistics.median(rates)


def single(steps: int, trials: int) -> tuple[float, float]:
    """(seconds of the trainer's first 100 steps; its steps/s), critic steps 2."""
    gan, data = _trainer(0, 2)
    started = time.perf_counter()
    gan.fit(data, epochs=1, steps_per_epoch=100, verbose=0)
    first = time.perf_counter() - started
    rates = []
    for _ in range(trials):
        started = time.perf_counter()
        gan.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
        rates.append(steps / (time.perf_counter() - started))
    return first, statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 10, 16])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    print(f"load {os.getloadavg()[0]:.2f}")
    first, rate = single(max(args.steps, 1000), args.trials)
    print(f"single-run trainer, critic steps 2: first 100 steps {first:.2f} s, {rate:.0f} steps/s", flush=True)
    for size in args.sizes:
        for mixed in (False, True):
            seconds, rate = population(size, mixed, args.steps, args.trials)
            label = "mixed 1-3" if mixed else "all 2    "
            print(f"population K = {size:2d}, critic steps {label}: build + compile + 10 steps {seconds:5.2f} s, "
                  f"{rate:6.0f} member-steps/s", flush=True)
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
