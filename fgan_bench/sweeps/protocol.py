"""A fair protocol: the same random-search budget for every divergence, then fresh seeds.

A sweep file with a ``[search]`` table is a protocol (Lucic et al. 2018: every loss gets the
same number of trials over the same wide space; the best configuration is re-run with fresh
seeds); :mod:`fgan_bench.sweeps.protocol_spec` parses it and shows the tables.

Replicates (the unit of replication is the tuning procedure, see docs/protocol.md): replicate
r of a study is its trials ``r·trials … (r+1)·trials − 1`` — its own sampler draws (seeded by
the trial number), its own training seed ``seed₀ + r·(c + 1)`` and, for its best trial, its
own fresh confirmation seeds ``seed₀ + r·(c + 1) + 1 … + c`` (``c`` confirmation seeds, the
same numbers for every divergence). One replicate is what a rerun of the whole search would
give, so the spread of the replicates' confirmed scores is the spread a rerun shows.

Each (dataset, divergence) is one Optuna study, driven by ask/tell; every trial is an
ordinary run directory (its id is its config's hash) trained by the sweep executor. The
study lives in a journal file inside the sweep folder unless a storage URL is given, so
several ``sweep`` processes — on one machine, or on several sharing the sweep folder and a
database — share it: trial numbers are handed out by the storage, a trial numbered beyond
the budget is marked surplus and never run, and a trial left ``RUNNING`` by a killed process
is taken over only when no process trains it (its run directory's lock) and no process has it
queued (its claim, :func:`fgan_bench.rundir.try_claim`); the run then resumes from its
checkpoint. Confirmation runs are shared the same way. Trials run by the sweep's first seed;
confirmation seeds must differ.

This module is the driver loop: claim trials (:mod:`fgan_bench.sweeps.studies`), train them
with the sweep executor, tell the studies, then run the confirmation runs; the sweep folder's
state is written by :mod:`fgan_bench.sweeps.state`, ``trials.csv`` by
:mod:`fgan_bench.sweeps.trials`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fgan_bench import rundir
from fgan_bench.config import RunConfig
from fgan_bench.pruning import JOURNAL, storage_record
from fgan_bench.sweeps.definition import Sweep
from fgan_bench.sweeps.protocol_spec import (  # noqa: F401 - the protocol's names, importable from here
    KINDS,
    PRUNING_KEYS,
    SAMPLERS,
    SEARCH_KEYS,
    Parameter,
    Protocol,
    describe_protocol,
    load_protocol,
    select_pairs,
    study_name,
)
from fgan_bench.sweeps.state import STATE, write_sweep_state

if TYPE_CHECKING:
    from fgan_bench.sweeps.studies import Studies



def _write_state(search: Studies, confirm: dict[tuple, list[RunConfig]]) -> None:
    """``sweep.json``/``sweep.toml`` now: every run drawn so far (search, then confirmation)."""
    configs, phase = [], {}
    for pair in search.pairs:
        for trial in search.in_budget(pair):
            if trial.params:
                config = search.trial_run(pair, trial)
                if config.run_id not in phase:
                    configs.append(config)
                    phase[config.run_id] = "search"
        for config in confirm.get(pair, []):
            configs.append(config)
            phase[config.run_id] = "confirm"
    write_sweep_state(search.sweep, configs, search.sweep_dir, protocol_record(search, phase))


def protocol_record(search: Studies, phase: dict[str, str]) -> dict[str, Any]:
    """``sweep.json``'s ``protocol``: storage, budget, metrics (the score, what trials evaluate), space,
    seeds, studies and each run's phase (``search`` or ``confirm``), all the report needs."""
    protocol, sweep = search.protocol, search.sweep
    return {
        "storage": storage_record(search.storage, search.sweep_dir),
        "trials": protocol.trials,
        "replicates": protocol.replicates,
        "sampler": protocol.sampler,
        "metrics": {pair[0]: protocol.metric_for(pair[0]) for pair in search.pairs},
        "trial_metrics": {d: None if m is None else list(m) for d, m in search.trial_metrics.items()},
        "space": {p.name: [p.kind, list(p.values)] for p in protocol.space},
        "pruning": protocol.pruning,
        "search_seed": sweep.seeds[0],
        "confirm_seeds": list(protocol.confirm_seeds),
        "replicate_of_seed": {
            str(seed): r for r in range(protocol.replicates) for seed in protocol.confirm_seeds_of(r)
        },
        "studies": {f"{d}/{v}": study_name(sweep.name, d, v) for d, v in search.pairs},
        "phase": phase,
    }


def run_protocol(
    sweep: Sweep,
    protocol: Protocol,
    sweep_dir: str | Path,
    *,
    jobs: int = 1,
    executor: str = "local",
    storage: str | None = None,
    patterns: Sequence[str] = (),
    poll_seconds: float = 5.0,
    show_progress: bool = True,
) -> list[dict[str, Any]]:
    """Runs the search (until every study has its trials) and the confirmation runs.

    Returns the outcomes of the runs this process trained (``status``, ``reason``).
    """
    from fgan_bench.sweeps.execute import execute
    from fgan_bench.sweeps.progress import Progress
    from fgan_bench.sweeps.studies import Studies
    from fgan_bench.sweeps.trials import write_trials
    from fgan_bench.sweeps.worker_pools import WorkerPools

    sweep_dir = Path(sweep_dir)
    (sweep_dir / "runs").mkdir(parents=True, exist_ok=True)
    storage = storage or protocol.storage or str((sweep_dir / JOURNAL).resolve())
    pairs = select_pairs(sweep, patterns)
    search = Studies(sweep, protocol, sweep_dir, storage, pairs)
    _write_state(search, {})
    done_before = sum(t.state.is_finished() for pair in pairs for t in search.in_budget(pair))
    damaged = search.damaged_runs()
    total = len(pairs) * protocol.replicates * (protocol.trials + len(protocol.confirm_seeds)) + len(damaged)
    print(
        f"protocol {sweep.name}: {len(pairs)} dataset × divergence pairs, {protocol.replicates} replicate(s) of "
        f"{protocol.trials} {protocol.sampler} trials each, then {len(protocol.confirm_seeds)} confirmation seeds; "
        f"study storage {storage}",
        flush=True,
    )
    progress = Progress(total, initial=done_before, enabled=show_progress)
    outcomes: list[dict[str, Any]] = []
    # A batch fills every job; with ``population = K`` each job trains K trials in one step.
    batch_size = jobs * int(sweep.defaults.get("population", 1)) * (2 if protocol.sampler == "random" else 1)
    confirm: dict[tuple, list[RunConfig]] = {}
    workers = WorkerPools(jobs)  # the same worker processes for every batch, search and confirmation
    try:
        while True:
            batch, all_done = _claim_batch(search, batch_size, progress)
            if not batch:
                if all_done:
                    break
                time.sleep(poll_seconds)  # other processes hold the remaining trials
                continue
            for pair, number, config in batch:
                search.prepare(pair, number, config)
            _write_state(search, {})
            by_run = {config.run_id: (pair, number, config) for pair, number, config in batch}

            retried: set[int] = set()  # outcomes (by identity) whose next attempt counts instead

            def told(outcome: Mapping[str, Any], by_run=by_run, retried=retried) -> None:
                pair, number, config = by_run[outcome["run_id"]]
                retry = search.tell(pair, number, config, outcome)
                if retry:
                    retried.add(id(outcome))
                progress.write(retry) if retry else progress.update(outcome)

            try:
                ran = execute([c for _, _, c in batch], sweep_dir, jobs=jobs, executor=executor, report=told,
                              workers=workers)
                outcomes += [o for o in ran if not o.get("already_done") and id(o) not in retried]
            finally:
                search.release()
        confirm = _confirmation_runs(search, progress)
        _write_state(search, confirm)
        configs = damaged + [c for group in confirm.values() for c in group]
        outcomes += _confirm(search, configs, jobs, executor, progress, poll_seconds, workers)
    except KeyboardInterrupt:
        progress.close()
        print(interrupted_summary(search, confirm), file=sys.stderr, flush=True)
        raise KeyboardInterrupt from None
    finally:
        workers.close()
        progress.close()
    write_trials(sweep_dir, rundir.read_json(sweep_dir / STATE))
    return outcomes


def interrupted_summary(search: Studies, confirm: dict[tuple, list[RunConfig]]) -> str:
    """What a Ctrl-C of a protocol left: per dataset × divergence, the trials finished and pending
    (and the confirmation runs, once chosen), and how to resume."""
    lines = [f"protocol {search.sweep.name} interrupted; finished trials and runs are kept:"]
    for pair in search.pairs:
        finished = sum(t.state.is_finished() for t in search.in_budget(pair))
        line = (f"  {pair[0]} × {pair[1]}: {finished} of {search.protocol.total_trials} trials finished, "
                f"{search.protocol.total_trials - finished} pending")
        if pair in confirm:
            done = sum(rundir.is_done(rundir.run_path(search.sweep_dir, c.run_id)) for c in confirm[pair])
            line += f"; {done} of {len(confirm[pair])} confirmation runs done"
        lines.append(line)
    lines.append(f"The same command resumes it (unfinished runs continue from their checkpoints in "
                 f"{search.sweep_dir / 'runs'}): python -m fgan_bench sweep {search.sweep.path} "
                 f"--out {search.sweep_dir.parent}")
    return "\n".join(lines)


def _claim_batch(search: Studies, batch_size: int, progress) -> tuple[list, bool]:
    """Up to ``batch_size`` claimed trials to train now (a trial whose run is already done is told
    at once), and whether every study is done."""
    from fgan_bench.sweeps.studies import ClaimedTrial, NoTrial

    batch, claims = [], []
    while len(batch) < batch_size:
        claims = []
        for pair in search.pairs:
            if len(batch) >= batch_size:
                break
            claim = search.claim(pair)
            claims.append(claim)
            if isinstance(claim, ClaimedTrial):
                _take(search, pair, claim, batch, progress)
        if not any(claim is NoTrial.AGAIN or isinstance(claim, ClaimedTrial) for claim in claims):
            break
    done = sum(claim is NoTrial.DONE for claim in claims)
    return batch, done == len(search.pairs) and not any(claim is NoTrial.WAIT for claim in claims)


def _take(search: Studies, pair, claim, batch: list, progress) -> None:
    """Adds a claimed trial to ``batch``, or tells it at once if its run is already done."""
    number, config = claim.number, claim.config
    if rundir.is_done(rundir.run_path(search.sweep_dir, config.run_id)):
        search.tell(pair, number, config, {"status": "done"})
        search.claims.pop(config.run_id).release()
        progress.update({"status": "done"})
    else:
        batch.append((pair, number, config))


def _confirmation_runs(search: Studies, progress) -> dict[tuple, list[RunConfig]]:
    """Per study: each replicate's best configuration on that replicate's fresh seeds."""
    from fgan_bench.sweeps.studies import best_params

    protocol, confirm = search.protocol, {}
    for pair in search.pairs:
        for replicate in range(protocol.replicates):
            params = best_params(search, pair, replicate)
            seeds = protocol.confirm_seeds_of(replicate)
            if params is not None:
                confirm.setdefault(pair, []).extend(search.config(pair, params, seed) for seed in seeds)
            else:
                progress.write(f"{pair[0]} × {pair[1]} replicate {replicate}: no trial completed; nothing to confirm")
                progress.update({"status": "failed"}, count=len(seeds))
    return confirm


def _confirm(search: Studies, configs: list[RunConfig], jobs: int, executor: str, progress, poll_seconds: float,
             workers=None):
    """Runs the confirmation runs not done yet, ``jobs`` at a time (``jobs`` populations of up to
    ``population`` runs each), skipping those another process has queued or is training until they
    are done, so that several processes share the work."""
    from fgan_bench.sweeps.execute import execute

    sweep_dir = search.sweep_dir

    def done(config: RunConfig) -> bool:
        return rundir.is_done(rundir.run_path(sweep_dir, config.run_id))

    progress.update({"status": "done"}, count=sum(done(c) for c in configs))
    outcomes, counted = [], {c.run_id for c in configs if done(c)}
    while True:
        for config in configs:  # finished by another process meanwhile
            if config.run_id not in counted and done(config):
                counted.add(config.run_id)
                progress.update({"status": "done"})
        todo = [c for c in configs if c.run_id not in counted]
        if not todo:
            return outcomes
        free = _held(search, todo, jobs * max(c.population for c in todo))  # a population per job
        if not free:
            time.sleep(poll_seconds)
            continue
        try:
            for outcome in execute(free, sweep_dir, jobs=jobs, executor=executor, report=progress.update,
                                   workers=workers):
                counted.add(outcome["run_id"])
                if not outcome.get("already_done"):
                    outcomes.append(outcome)
        finally:
            search.release()


def _held(search: Studies, configs: list[RunConfig], count: int) -> list[RunConfig]:
    """Up to ``count`` of ``configs``, in order, that this process now holds (no other process
    has them queued or trains them)."""
    held = []
    for config in configs:
        if len(held) < count and search.hold(config):
            held.append(config)
    return held
