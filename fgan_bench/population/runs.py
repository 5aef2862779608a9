"""Population runs: each member an ordinary run, written as the population trains.

:func:`run_population` is :func:`fgan_bench.runner.run` for K configs at once. Each member has
its run directory, lock, ``config.json``, ``metrics.csv``, checkpoint, samples and
``result.json`` exactly as a single run writes them — the same callbacks
(:func:`fgan_bench.runner.start_session`) see the member's own trainer, into which the
population copies the member's state every ``log_every`` steps, before the callbacks run.
So:

* a member that is done is skipped; a checkpointed member resumes from its checkpoint (its
  data stream continues at its step), whatever step the others are at;
* a member stopped by its callbacks — the NaN guard (diverged), a protocol trial's pruner
  (successive halving at a rung), its last step — is masked; the others go on;
* a killed population resumes every unfinished member (``resume=True``).

:func:`group_compatible` splits configs into populations: same architecture, data, batch,
divergence, schedule, optimizer and ``log_every``; at most ``size`` each, like critic steps together.
Once half a population's members have stopped, it is rebuilt with the others alone
(:mod:`fgan_bench.population.compaction`).
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fgan_bench.baselines import is_baseline
from fgan_bench.config import RunConfig
from fgan_bench.resolved import ResolvedRun, resolve
from fgan_bench.run_records import RunResult
from fgan_bench.rundir import RunDirectory

#: Options members of one population share; every other option may differ.
SHARED = ("dataset", "model", "width", "depth", "filters", "latent_dim", "batch_size", "divergence",
          "generator_divergence", "schedule", "optimizer", "log_every", "strategy", "mixed_precision", "plugins",
          "population", "isolate")


def population_key(config: RunConfig) -> tuple:
    """What must be equal for two resolved configs to train in one population."""
    return tuple(getattr(config, name) for name in SHARED)


def group_compatible(configs: Sequence[RunConfig], size: int, *, at_least: int = 1) -> list[list[RunConfig]]:
    """Resolved configs split into populations of at most ``size`` compatible members.

    Within each compatible set the configs are ordered by ``critic_steps`` (stable) before they
    are cut into populations: an alternating step runs max(critic_steps) critic updates for
    every member, so members with like critic steps mask as few updates as possible. A set is
    cut into ⌈n / size⌉ populations of even sizes (20 runs at ``size`` 16: two of 10, not 16
    and 4), and into more where that gives fewer than ``at_least`` populations in all (the
    sweep's jobs: one population per job keeps every worker busy).
    """
    groups: dict[tuple, list[RunConfig]] = {}
    for config in configs:
        groups.setdefault(population_key(config), []).append(config)
    sets = [sorted(members, key=lambda config: config.critic_steps) for members in groups.values()]
    counts = [math.ceil(len(members) / size) for members in sets]
    while sets and sum(counts) < at_least:
        widest = max(range(len(sets)), key=lambda k: len(sets[k]) / counts[k])
        if len(sets[widest]) <= counts[widest]:
            break  # every population is one run already
        counts[widest] += 1
    return [chunk for members, count in zip(sets, counts, strict=True) for chunk in even_cuts(members, count)]


def even_cuts(members: Sequence[RunConfig], count: int) -> list[list[RunConfig]]:
    """``members`` cut in order into ``count`` pieces whose sizes differ by at most one."""
    base, extra = divmod(len(members), count)
    cuts, start = [], 0
    for piece in range(count):
        end = start + base + (piece < extra)
        cuts.append(list(members[start:end]))
        start = end
    return cuts


def stackable_reason(configs: Sequence[RunConfig]) -> str | None:
    """Why these configs cannot share one stacked step, or ``None`` if they can."""
    if len({population_key(c) for c in configs}) > 1:
        return "the runs differ in architecture, data, divergence, schedule or optimizer"
    if configs[0].strategy != "default" or configs[0].mixed_precision:
        return "populations train on one device in float32 (strategy default, no mixed precision)"
    if any(is_baseline(c.divergence) for c in configs):
        return "baselines train one run per step (the stacked step computes f-GAN losses)"
    if any(c.conditional or c.labelled for c in configs):
        return "conditional and semi-supervised runs train one run per step (the stacked step takes no labels)"
    return None


def run_population(
    configs: Sequence[RunConfig], out: str | Path = "reports", *, resume: bool = False, overwrite: bool = False,
    wait: bool = False, announce: bool = True, callbacks_for: Callable[[ResolvedRun, RunDirectory], list] | None = None,
) -> list[RunResult]:
    """Trains K runs as one population; returns their results in order (see the module doc).

    Runs that cannot stack (a plugin layer without a stacked rule, mixed architectures) are
    trained one run per step, with one line saying why. ``callbacks_for(run, directory)``:
    each member's extra callbacks (a sweep's pruning of protocol trials), as ``run(callbacks=)``.
    """
    from fgan_bench.runner import run

    resolved = [resolve(config) for config in configs]
    extra = [tuple(callbacks_for(r, RunDirectory.of(out, r.run_id))) if callbacks_for else () for r in resolved]
    reason = stackable_reason([r.config for r in resolved])
    if reason is None:
        with contextlib.ExitStack() as stack:
            opened = [_open(stack, r, e, out, resume=resume, overwrite=overwrite, wait=wait)
                      for r, e in zip(resolved, extra, strict=True)]
            todo = [member for member in opened if member["result"] is None]
            try:
                results = _train_members(todo, announce=announce) if todo else []
            except _NotStackable as error:
                reason = str(error)
            else:
                trained = iter(results)
                return [m["result"] if m["result"] is not None else next(trained) for m in opened]
    print(f"population: {reason}; training the {len(configs)} runs one run per step", file=sys.stderr, flush=True)
    return [run(r, out, resume=resume, overwrite=overwrite, progress=False, wait=wait, callbacks=e)
            for r, e in zip(resolved, extra, strict=True)]


class _NotStackable(Exception):
    pass


def _open(stack, run: ResolvedRun, callbacks: tuple, out, *, resume, overwrite, wait) -> dict[str, Any]:
    from fgan_bench.runner import opened_run_directory

    directory = RunDirectory.of(out, run.run_id)
    run.skipped_metrics  # noqa: B018 - refuses a run no metric can evaluate before any member trains
    done = stack.enter_context(opened_run_directory(run.config, directory, resume=resume, overwrite=overwrite,
                                                    wait=wait))
    return {"run": run, "config": run.config, "directory": directory, "callbacks": callbacks, "result": done}


def _train_members(members: list[dict[str, Any]], *, announce: bool) -> list[RunResult]:
    import keras

    from fgan_bench.population.compaction import LivePopulation
    from fgan_bench.population.stacked import NotStackable
    from fgan_bench.runner import finish_session, start_session

    sessions = [start_session(m["run"], m["directory"], progress=False, extra_callbacks=m["callbacks"])
                for m in members]
    log_every = members[0]["config"].log_every
    epochs = [s.start_step // log_every for s in sessions]
    active = {k for k, m in enumerate(members) if epochs[k] < _epochs(m["config"])}
    steps = [s.start_step for s in sessions]
    try:
        population = LivePopulation(sessions, [m["run"] for m in members], sorted(active), steps) if active else None
    except NotStackable as error:
        raise _NotStackable(str(error)) from None
    if announce and population:
        print(f"population of {population.size} runs in one compiled step", flush=True)
    lists = [keras.callbacks.CallbackList(s.callbacks, model=s.gan) for s in sessions]
    for callbacks in lists:
        callbacks.on_train_begin()
    started = time.perf_counter()
    while active:
        population.train(log_every, sorted(active))
        for k in sorted(active):
            _member_epoch_end(lists[k], population.member_logs(k), epochs[k])
            epochs[k], steps[k] = epochs[k] + 1, steps[k] + log_every
            if sessions[k].gan.stop_training or epochs[k] >= _epochs(members[k]["config"]):
                population.stop(k)
                active.discard(k)
        population.compact(sorted(active), steps)
    seconds = time.perf_counter() - started
    for callbacks in lists:
        callbacks.on_train_end()
    return [finish_session(s, m["run"], m["directory"], seconds) for m, s in zip(members, sessions, strict=True)]


def _epochs(config: RunConfig) -> int:
    return config.steps // config.log_every


def _member_epoch_end(callbacks, logs: dict[str, float], epoch: int) -> None:
    """The member's callbacks at the end of one ``log_every`` chunk, as ``fit`` calls them (the
    NaN guard sees the chunk's logs first; a diverged member's checkpoint is not written)."""
    callbacks.on_epoch_begin(epoch)
    callbacks.on_train_batch_end(0, dict(logs))
    callbacks.on_epoch_end(epoch, logs)
