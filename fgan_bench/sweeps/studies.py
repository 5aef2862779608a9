"""The Optuna studies of a protocol: one per (dataset, divergence), driven by ask/tell.

Each study lives in the protocol's storage (a journal file in the sweep folder unless a storage
URL is given), so several ``sweep`` processes share it: trial numbers are handed out by the
storage, a trial numbered beyond the budget is marked surplus and never run, and a trial left
``RUNNING`` by a killed process is taken over only when no process trains it (its run
directory's lock) and no process has it queued (its claim, :func:`fgan_bench.rundir.try_claim`).

Trial ``n``'s parameters are drawn by a sampler seeded by (protocol seed, study, ``n``)
(:class:`TrialSeededSampler`): reproducible, never the same draws in two processes or after a
restart, and the same draws whichever process makes them.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import math
import re
from pathlib import Path
from typing import Any

import optuna
from optuna.samplers import BaseSampler

from fgan_bench import rundir
from fgan_bench.config import RunConfig
from fgan_bench.errors import FganBenchError
from fgan_bench.sweeps.definition import Sweep
from fgan_bench.sweeps.protocol_spec import Protocol, study_name, trial_config

SURPLUS = "surplus"
#: A trial asked this long ago without parameters was abandoned by a killed process.
ABANDONED_SECONDS = 60.0


class TrialSeededSampler(BaseSampler):
    """Random search or TPE whose draws for trial ``n`` come from a sampler of their own, seeded by
    ``sha256(key/n)``: the draws of a trial depend on its number (and, for TPE, the study's
    finished trials), not on which process draws them or what it drew before.

    Draws are independent (no relative search space), as both wrapped samplers' defaults are.
    """

    def __init__(self, kind: str, key: str):
        self.kind, self.key = kind, key
        self._current: tuple[int, BaseSampler] | None = None

    def seed_of(self, number: int) -> int:
        digest = hashlib.sha256(f"{self.key}/{number}".encode()).digest()
        return int.from_bytes(digest[:4], "little")

    def sampler_of(self, number: int) -> BaseSampler:
        """The sampler that draws trial ``number``'s parameters (made on its first draw)."""
        if self._current is None or self._current[0] != number:
            seed = self.seed_of(number)
            kind = optuna.samplers.TPESampler if self.kind == "tpe" else optuna.samplers.RandomSampler
            self._current = (number, kind(seed=seed))
        return self._current[1]

    def infer_relative_search_space(self, study, trial) -> dict:
        return {}

    def sample_relative(self, study, trial, search_space) -> dict:
        return {}

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self.sampler_of(trial.number).sample_independent(study, trial, param_name, param_distribution)


class NoTrial(enum.Enum):
    """Why :meth:`Studies.claim` gave no trial to run now."""

    AGAIN = "again"  #: it asked a trial that is not this process's to run: claim again
    WAIT = "wait"  #: other processes are running the rest
    DONE = "done"  #: every trial of the budget is finished


@dataclasses.dataclass(frozen=True)
class ClaimedTrial:
    """A trial this process holds and runs now: its number in the study and its run."""

    number: int
    config: RunConfig


class Studies:
    """The studies of one protocol in one process, and the bookkeeping to claim and tell trials."""

    def __init__(self, sweep: Sweep, protocol: Protocol, sweep_dir: Path, storage: str, pairs):
        from fgan_bench.metrics import metric_direction
        from fgan_bench.pruning import make_pruner, open_storage, storage_error

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.sweep, self.protocol, self.sweep_dir, self.storage = sweep, protocol, sweep_dir, storage
        self.pairs = list(pairs)
        self._storage = open_storage(storage)
        self.studies = {}
        for dataset, divergence in self.pairs:
            name = study_name(sweep.name, dataset, divergence)
            metric = protocol.metric_for(dataset)
            direction = metric_direction(metric)
            if direction is None:
                raise FganBenchError(f"[search] metric {metric!r} is not a metric output (see `list metrics`)")
            try:
                self.studies[dataset, divergence] = optuna.create_study(
                    study_name=name,
                    storage=self._storage,
                    direction="minimize" if direction == "lower" else "maximize",
                    load_if_exists=True,
                    pruner=make_pruner(protocol.pruning),
                    sampler=TrialSeededSampler(protocol.sampler, f"{protocol.seed}/{name}"),
                )
            except Exception as error:  # noqa: BLE001 - a journal line damaged: shows once the study writes
                raise storage_error(storage, error) from None
        self.searched = [p for p in protocol.space if p.kind != "same_as"]
        #: per dataset, what its trials evaluate (:meth:`Protocol.trial_metrics`)
        self.trial_metrics = {dataset: protocol.trial_metrics(dataset) for dataset, _ in self.pairs}
        self.claims: dict[str, rundir.Claim] = {}  # run id -> this process's hold on a queued run

    def params_of(self, trial_params: dict[str, Any]) -> dict[str, Any]:
        params = dict(trial_params)
        for parameter in self.protocol.space:
            if parameter.kind == "same_as":
                params[parameter.name] = params[parameter.values[0]]
        return params

    def config(self, pair, trial_params: dict[str, Any], seed: int | None = None, metrics=None) -> RunConfig:
        """A run of ``pair`` with these parameters (a confirmation run: the sweep's metrics)."""
        seed = self.sweep.seeds[0] if seed is None else seed
        return trial_config(self.sweep, *pair, self.params_of(trial_params), seed, metrics)

    def trial_run(self, pair, trial) -> RunConfig:
        """The run of a search trial: its parameters, trained with its replicate's seed, evaluated
        on what the search needs (:meth:`Protocol.trial_metrics`)."""
        protocol = self.protocol
        seed = protocol.seed_of_replicate(protocol.replicate_of(trial.number))
        return self.config(pair, trial.params, seed, self.trial_metrics[pair[0]])

    def ask(self, pair) -> ClaimedTrial | None:
        """A new trial of ``pair``'s study, claimed; None beyond the budget (marked surplus), for an
        invalid combination of options (recorded, not run) or a run another process holds."""
        study = self.studies[pair]
        trial = study.ask()
        if trial.number >= self.protocol.total_trials:  # another process asked first: never run it
            trial.set_user_attr(SURPLUS, True)
            study.tell(trial, state=_state("FAIL"), skip_if_finished=True)
            return None
        self._draw(pair, trial)
        try:
            config = self.trial_run(pair, trial)
        except FganBenchError as error:  # an invalid combination of options: recorded, not run
            trial.set_user_attr("reason", str(error))
            study.tell(trial, state=_state("FAIL"), skip_if_finished=True)
            return None
        trial.set_user_attr("run_id", config.run_id)
        return ClaimedTrial(trial.number, config) if self.hold(config) else None

    def _draw(self, pair, trial) -> None:
        for parameter in self.searched:
            parameter.suggest(trial)

    def sample(self, pair, frozen):
        """Draws the parameters of a trial that was asked but never drawn (the same draws as its
        asker would have made: the sampler is seeded by the trial number)."""
        study = self.studies[pair]
        trial = optuna.trial.Trial(study, frozen._trial_id)
        try:
            self._draw(pair, trial)
        except (optuna.exceptions.UpdateFinishedTrialError, ValueError, RuntimeError):
            pass
        return study._storage.get_trial(frozen._trial_id)

    def in_budget(self, pair):
        return [t for t in self.studies[pair].get_trials(deepcopy=False) if t.number < self.protocol.total_trials]

    def hold(self, config: RunConfig) -> bool:
        """Claims ``config``'s run for this process: False if any process (this one included)
        has it queued, or one is training it."""
        directory = rundir.run_path(self.sweep_dir, config.run_id)
        claim = None if config.run_id in self.claims else rundir.try_claim(directory)
        if claim is not None and rundir.is_locked(directory):
            claim.release()
            claim = None
        if claim is not None:
            self.claims[config.run_id] = claim
        return claim is not None

    def release(self) -> None:
        """Ends this process's claims (its queued runs have been run and told)."""
        for claim in self.claims.values():
            claim.release()
        self.claims.clear()

    def claim(self, pair) -> ClaimedTrial | NoTrial:
        """A trial to run now, claimed: a new one while the budget lasts, then an orphaned one
        (RUNNING, and no process trains it or has it queued: its process was killed); else why
        there is none (:class:`NoTrial`).
        """
        if len(self.studies[pair].get_trials(deepcopy=False)) < self.protocol.total_trials:
            return self.ask(pair) or NoTrial.AGAIN  # new trials first: queued trials of other processes stay theirs
        trials = self.in_budget(pair)
        for trial in trials:
            if trial.state.name == "RUNNING" and not trial.params and _age_seconds(trial) > ABANDONED_SECONDS:
                trial = self.sample(pair, trial)  # asked by a process killed before it drew the parameters
            if trial.state.name == "RUNNING" and trial.params:
                config = self.trial_run(pair, trial)
                if self.hold(config):
                    return ClaimedTrial(trial.number, config)
        if any(t.state.name == "RUNNING" for t in trials):
            return NoTrial.WAIT
        return NoTrial.DONE

    def prepare(self, pair, number: int, config: RunConfig) -> None:
        """Writes ``trial.json`` for the run (its study, number and pruning)."""
        from fgan_bench.pruning import TRIAL_FILE, storage_record

        directory = self.sweep_dir / "runs" / config.run_id
        directory.mkdir(parents=True, exist_ok=True)
        pruning = dict(self.protocol.pruning) if self.protocol.pruning else None
        if pruning:
            pruning["metric"] = pruning["metric"] or self.protocol.metric_for(pair[0])
        rundir.write_json_atomically(
            directory / TRIAL_FILE,
            {"storage": storage_record(self.storage, self.sweep_dir), "study": study_name(self.sweep.name, *pair),
             "trial": number, "pruning": pruning},
        )

    def tell(self, pair, number: int, config: RunConfig, outcome: dict[str, Any]) -> str | None:
        """Tells the study how the trial's run ended: its score, pruned, or failed.

        A run lost to an I/O fault is not told (see :func:`io_retry`): the trial stays
        ``RUNNING``, is claimed again and uses no budget. Returns the line saying so, else None.
        """
        study = self.studies[pair]
        result = rundir.read_result(rundir.run_path(self.sweep_dir, config.run_id)) or {}
        status = result.get("status", outcome.get("status", "failed"))
        value = result.get("quality", {}).get(self.protocol.metric_for(pair[0]))
        try:
            if status == "pruned":
                study.tell(number, state=_state("PRUNED"), skip_if_finished=True)
            elif status in ("completed", "diverged") and value is not None and not math.isnan(value):
                study.tell(number, float(value), skip_if_finished=True)
            elif not result and (retry := io_retry(study, pair, number, outcome)) is not None:
                return retry
            else:
                study.tell(number, state=_state("FAIL"), skip_if_finished=True)
        except (optuna.exceptions.UpdateFinishedTrialError, ValueError):
            pass  # another process told it first
        return None

    def damaged_runs(self) -> list[RunConfig]:
        """The runs of finished search trials whose ``result.json`` is damaged (the study keeps the
        value it was told; the run is trained again from its checkpoint, as a plain sweep redoes it)."""
        damaged = []
        for pair in self.pairs:
            for trial in self.in_budget(pair):
                if trial.state.is_finished() and trial.params:
                    config = self.trial_run(pair, trial)
                    problem = rundir.result_problem(rundir.run_path(self.sweep_dir, config.run_id))
                    if problem is not None:
                        print(f"{pair[0]} × {pair[1]} trial {trial.number}: {problem}; training it again", flush=True)
                        damaged.append(config)
        return damaged


#: Times a trial lost to an I/O fault (disk full, an unwritable or unreadable file) is run again
#: before it counts as failed.
IO_RETRIES = 2
#: What a run's one-line failure reason says when an I/O fault lost it.
IO_FAULT = re.compile(r"disk full|no space left|cannot write|\bOSError\b|\bIOError\b|\[Errno \d+\]|"
                      r"input/output error", re.IGNORECASE)


def io_retry(study, pair, number: int, outcome: dict[str, Any]) -> str | None:
    """For a trial whose run an I/O fault lost: the line saying it runs again (the trial is left
    ``RUNNING`` for :meth:`Studies.claim` to take over, using no budget), or None — not an I/O
    fault, or already retried :data:`IO_RETRIES` times (then its reason says so)."""
    reason = outcome.get("reason") or ""
    if outcome.get("status") != "failed" or not IO_FAULT.search(reason):
        return None
    storage = study._storage
    trial_id = storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
    retries = storage.get_trial(trial_id).user_attrs.get("io_retries", 0)
    if retries >= IO_RETRIES:
        storage.set_trial_user_attr(trial_id, "reason", f"{reason} (lost to an I/O fault {retries + 1} times)")
        return None
    storage.set_trial_user_attr(trial_id, "io_retries", retries + 1)
    return (f"{pair[0]} × {pair[1]} trial {number} lost to an I/O fault ({reason}); running it again "
            f"(retry {retries + 1} of {IO_RETRIES}; no budget used)")


def _age_seconds(trial) -> float:
    from datetime import datetime

    started = trial.datetime_start
    if started is None:
        return 0.0
    now = datetime.now(tz=started.tzinfo)
    return (now - started).total_seconds()


def _state(name: str):
    from optuna.trial import TrialState

    return TrialState[name]


def best_params(search: Studies, pair, replicate: int = 0) -> dict[str, Any] | None:
    """The best trial's parameters in one replicate's budget: the best completed trial, else (every
    trial of the replicate pruned) the pruned trial with the best last intermediate value, so that
    pruning never leaves a replicate without a value; None if no trial has a score."""
    trials = [t for t in search.in_budget(pair) if search.protocol.replicate_of(t.number) == replicate]
    completed = [(t.value, t) for t in trials if t.state.name == "COMPLETE" and t.value is not None]
    pruned = [(t.intermediate_values[t.last_step], t) for t in trials
              if t.state.name == "PRUNED" and t.last_step is not None]
    scored = completed or pruned
    if not scored:
        return None
    minimize = search.studies[pair].direction.name == "MINIMIZE"
    ordered = sorted(scored, key=lambda vt: (vt[0] if minimize else -vt[0], vt[1].number))
    return ordered[0][1].params
