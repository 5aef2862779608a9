"""``python -m fgan_bench sweep FILE``: expand, filter, run and report a sweep.

The sweep folder ``<out>/<name>/`` holds ``sweep.toml`` (a copy of the file), ``sweep.json``
(its resolved runs, so ``report`` needs nothing else), ``runs/<run-id>/`` for each run, and
the tables and report written when the sweep ends.
"""

from __future__ import annotations

import fnmatch
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from fgan_bench import rundir
from fgan_bench.config import RunConfig
from fgan_bench.errors import FganBenchError
from fgan_bench.sweeps.definition import load_sweep
from fgan_bench.sweeps.execute import SweepInterrupted
from fgan_bench.sweeps.state import write_sweep_state


def select(configs: Sequence[RunConfig], patterns: Sequence[str]) -> list[RunConfig]:
    """Runs whose id, or ``dataset/divergence/seed``, matches any glob pattern (all when none)."""
    if not patterns:
        return list(configs)
    chosen = []
    for config in configs:
        names = (config.run_id, f"{config.dataset}/{config.divergence}/{config.seed}")
        if any(fnmatch.fnmatch(name, pattern) for name in names for pattern in patterns):
            chosen.append(config)
    return chosen


def run_sweep(
    path: str | Path,
    *,
    out: str | Path = "reports",
    jobs: int = 1,
    executor: str = "local",
    patterns: Sequence[str] = (),
    dry_run: bool = False,
    report: bool = True,
    plugins: Sequence[str] = (),
    storage: str | None = None,
    cpus_per_run: float | None = None,
    gpus_per_run: float = 0,
    population: int | None = None,
) -> int:
    """Runs a sweep file; returns the number of failed runs (the CLI's exit status, capped).

    ``plugins`` (paths from ``--plugins`` or ``FGAN_BENCH_PLUGINS``) join the file's own, so
    that every run's process loads them too. ``cpus_per_run`` and ``gpus_per_run`` are each
    run's resources on Ray (:func:`~fgan_bench.sweeps.execute.execute`); ``storage`` is a
    protocol's Optuna storage URL (default: a journal file in the sweep folder). ``population``
    trains up to that many compatible runs in one compiled step (``docs/population.md``).
    """
    import dataclasses

    from fgan_bench.plugins import load_plugins
    from fgan_bench.sweeps.execute import execute

    sweep = load_sweep(path)
    extra = tuple(str(Path(p).resolve()) for p in plugins if str(Path(p).resolve()) not in sweep.plugins)
    sweep = dataclasses.replace(sweep, plugins=sweep.plugins + extra)
    if population is not None and population < 1:
        raise FganBenchError(f"--population must be at least 1, got {population}")
    if population is not None:  # --population K: as `population = K` in [defaults]
        sweep = dataclasses.replace(sweep, defaults={**sweep.defaults, "population": population})
    load_plugins(sweep.plugins)
    sweep_dir = Path(out) / sweep.name
    from fgan_bench.sweeps.protocol import load_protocol, run_protocol

    protocol = load_protocol(sweep)
    if protocol is not None:  # every name, metric and bound, before a dry run lists it or any trial starts
        from fgan_bench.sweeps.protocol_checks import check_protocol
        from fgan_bench.sweeps.protocol_spec import select_pairs

        check_protocol(sweep, protocol, select_pairs(sweep, patterns))
    if protocol is not None and dry_run:
        from fgan_bench.sweeps.protocol import describe_protocol

        print(describe_protocol(sweep, protocol, patterns))
        return 0
    if protocol is not None:  # [search] + [confirm]: equal tuning budget, then fresh seeds
        started = time.perf_counter()
        outcomes = run_protocol(sweep, protocol, sweep_dir, jobs=jobs, executor=executor, storage=storage,
                                patterns=patterns)
        return _finish(sweep.name, sweep_dir, outcomes, started, report)
    all_configs = sweep.resolved_configs()  # each run resolved once
    configs = select(all_configs, patterns)
    if dry_run:
        for config in configs:
            done = rundir.is_done(rundir.run_path(sweep_dir, config.run_id))
            print(
                f"{config.run_id}  {config.dataset} × {config.divergence}, seed {config.seed}, "
                f"{config.steps} steps{'  (done)' if done else ''}"
            )
        print(f"{len(configs)} runs")
        return 0
    write_sweep_state(sweep, all_configs, sweep_dir)
    todo = [c for c in configs if not rundir.is_done(rundir.run_path(sweep_dir, c.run_id))]
    print(
        f"sweep {sweep.name}: {len(configs)} runs, {len(configs) - len(todo)} already done, "
        f"{len(todo)} to run with {jobs} job(s) ({executor})",
        flush=True,
    )
    started = time.perf_counter()
    from fgan_bench.sweeps.progress import Progress

    progress = Progress(len(configs), initial=len(configs) - len(todo))
    try:
        outcomes = execute(todo, sweep_dir, jobs=jobs, executor=executor, report=progress.update,
                           cpus_per_run=cpus_per_run, gpus_per_run=gpus_per_run)
    except SweepInterrupted as interrupted:
        progress.close()
        _print_interrupted(sweep.name, sweep_dir, interrupted)
        raise KeyboardInterrupt from None
    finally:
        progress.close()
    return _finish(sweep.name, sweep_dir, outcomes, started, report)


def _finish(name: str, sweep_dir: Path, outcomes: list[dict], started: float, report: bool) -> int:
    """Prints the summary and every failure (before the report, so they show even if it fails)."""
    failed = [o for o in outcomes if o["status"] == "failed"]
    print(f"sweep {name}: {len(outcomes)} run(s) in {time.perf_counter() - started:.0f} s; {len(failed)} failed",
          flush=True)
    for outcome in failed:
        print(f"failed: {outcome['run_id']}: {outcome['reason']}", file=sys.stderr, flush=True)
    if report:
        from fgan_bench.sweeps.report import write_report

        print(f"report: {write_report(sweep_dir)}")
    return len(failed)


def _print_interrupted(name: str, sweep_dir: Path, interrupted: SweepInterrupted) -> None:
    """What a Ctrl-C left: the runs finished in this session, and those pending (to stderr)."""
    finished = ", ".join(f"{o['run_id']} ({o['status']})" for o in interrupted.outcomes) or "none"
    pending = [c.run_id for c in interrupted.pending]
    shown = ", ".join(pending[:10]) + (f" and {len(pending) - 10} more" if len(pending) > 10 else "")
    print(
        f"sweep {name} interrupted: finished this time: {finished}; pending ({len(pending)}): {shown or 'none'}. "
        f"Their checkpoints stay in {sweep_dir / 'runs'}; the same command continues them.",
        file=sys.stderr,
        flush=True,
    )
