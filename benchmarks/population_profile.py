"""Protocol-like ring8 runs trained one by one and as populations, side by side in one process.

16 runs (alternating schedule, critic_steps 1–3, learning rate log-uniform 1e-5…1e-2, clip 0/1/10,
saddle/nonsaturating objectives, KL) as a protocol's trials train them. ``--pruned`` stops the
members where successive halving would at rungs steps/4 and 3·steps/4 (half stop at the first
rung, half of the rest at the second), by a callback as a protocol's pruner does. Modes, each
run ``--trials`` times, interleaved:

* ``single``: one run per step (``fgan_bench.run``);
* ``masked``: one population, stopped members masked to the end (compaction off);
* ``population``: one population with compaction (the default);
* ``by-critic-steps``: one population per critic_steps value (no masked critic updates).

Prints each mode's wall time (training + evaluation + checkpoints) and the ratio to ``single``,
with the load beside it::

    nice -n 19 python benchmarks/population_profile.py --steps 2000 --pruned --trials 2
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MODES = ("single", "masked", "population", "by-critic-steps")


def configs(count: int, steps: int, population: int):
    import numpy as np

    from fgan_bench import RunConfig

    rng = np.random.default_rng(0)
    made = []
    for k in range(count):
        lr = float(10 ** rng.uniform(-5, -2))
        made.append(RunConfig(
            dataset="ring8", divergence="kl", steps=steps, log_every=steps // 20, schedule="alternating", seed=k,
            generator_lr=lr,
            critic_lr=lr, beta1=float(rng.uniform(0, .9)), critic_steps=int(rng.integers(1, 4)),
            clip_norm=float(rng.choice([0., 1., 10.])), objective=str(rng.choice(["saddle", "nonsaturating"])),
            population=population))
    return made


def pruner(lengths: dict):
    """``callbacks_for``: stops the run of seed s after ``lengths[s]`` steps (its rung)."""
    import keras

    class Pruned(keras.callbacks.Callback):
        def __init__(self, length, log_every):
            super().__init__()
            self.length, self.log_every = length, log_every

        def on_epoch_end(self, epoch, logs=None):
            if (epoch + 1) * self.log_every >= self.length:
                self.model.stop_training = True

    def callbacks_for(run, directory):
        return [Pruned(lengths[run.config.seed], run.config.log_every)]

    return callbacks_for


def train(mode: str, count: int, steps: int, pruned: bool, out: str) -> float:
    from fgan_bench import run
    from fgan_bench.population import compaction, run_population
    from fgan_bench.resolved import resolve

    lengths = [steps // 4] * (count // 2) + [3 * steps // 4] * (count // 4) if pruned else []
    lengths = dict(enumerate(lengths + [steps] * (count - len(lengths))))
    callbacks_for = pruner(lengths)
    started = time.perf_counter()
    if mode == "single":
        for config in configs(count, steps, 1):
            resolved = resolve(config)
            run(resolved, out, progress=False, callbacks=tuple(callbacks_for(resolved, None)))
        return time.perf_counter() - started
    members = configs(count, steps, count)
    original = compaction.worth_compacting
    if mode == "masked":
        compaction.worth_compacting = lambda active, size: False
    try:
        if mode == "by-critic-steps":
            for _, group in itertools.groupby(sorted(members, key=lambda c: c.critic_steps),
                                              key=lambda c: c.critic_steps):
                run_population(list(group), out, announce=False, callbacks_for=callbacks_for)
        else:
            run_population(members, out, announce=False, callbacks_for=callbacks_for)
    finally:
        compaction.worth_compacting = original
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--runs", type=int, default=16)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--pruned", action="store_true")
    parser.add_argument("--trials", type=int, default=1)
    args = parser.parse_args()
    seconds: dict[str, list[float]] = {mode: [] for mode in args.modes}
    for _ in range(args.trials):
        for mode in args.modes:
            out = tempfile.mkdtemp(prefix=f"population_profile_{mode}_")
            try:
                seconds[mode].append(train(mode, args.runs, args.steps, args.pruned, out))
            finally:
                shutil.rmtree(out, ignore_errors=True)
            load = os.getloadavg()[0]
            print(f"{mode}: {seconds[mode][-1]:.1f} s (load {load:.1f})", flush=True)
    reference = min(seconds.get("single", [0.0]) or [0.0])
    for mode, values in seconds.items():
        ratio = f", single/{mode} {reference / min(values):.2f}x" if reference else ""
        print(f"{mode}: best {min(values):.1f} s of {[round(v, 1) for v in values]}{ratio}")


if __name__ == "__main__":
    main()
