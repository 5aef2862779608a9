"""A fair protocol: the same random-search budget for every divergence, then fresh seeds.

A sweep file with a ``[search]`` table is a protocol (Lucic et al. 2018: every loss gets
the same number of trials over the same wide space; the best configuration is re-run with
fresh seeds)::

    [search]
    trials = 20                  # per (dataset, divergence): the same budget for every one
    sampler = "random"           # the expected-max formula assumes random search; or "tpe"
    seed = 0                     # the sampler's seed
    replicates = 5               # independent searches per (dataset, divergence) (default 1)
    metric = "true_jensen_shannon"   # the score (default: the dataset's main metric)
    # storage = "postgresql://user@host/db"   # default: <sweep folder>/study.journal

    [search.space]               # any `run` option
    generator_lr = { log_uniform = [1e-5, 1e-2] }
    critic_lr = { same_as = "generator_lr" }
    beta1 = { uniform = [0.0, 0.9] }
    critic_steps = { int = [1, 5] }
    objective = { choice = ["saddle", "nonsaturating"] }

    [search.pruning]             # optional: successive halving on an intermediate metric
    every = 500                  # evaluate it every k steps
    min_resource = 1000          # steps before the first rung (default: every)
    reduction_factor = 3

    [confirm]
    seeds = 5                    # each replicate's best re-run with 5 fresh seeds (or a list)

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
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import math
import re
import sys
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fgan_bench import rundir
from fgan_bench.config import RunConfig
from fgan_bench.errors import FganBenchError
from fgan_bench.pruning import JOURNAL, storage_record
from fgan_bench.sweeps.definition import RUN_OPTIONS, Sweep, _line_of

SAMPLERS = ("random", "tpe")
KINDS = ("log_uniform", "uniform", "int", "choice", "same_as")
SEARCH_KEYS = ("trials", "sampler", "seed", "replicates", "metric", "storage", "space", "pruning")
PRUNING_KEYS = ("every", "min_resource", "reduction_factor", "metric")
TRIALS = "trials.csv"
SURPLUS = "surplus"


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One searched run option: ``kind`` in :data:`KINDS` and its bounds, choices or source."""

    name: str
    kind: str
    values: tuple

    def distribution(self):
        from optuna import distributions

        if self.kind == "log_uniform":
            return distributions.FloatDistribution(*self.values, log=True)
        if self.kind == "uniform":
            return distributions.FloatDistribution(*self.values)
        if self.kind == "int":
            return distributions.IntDistribution(*self.values)
        return distributions.CategoricalDistribution(self.values)

    def suggest(self, trial):
        """Draws this option for an Optuna trial (through the study's sampler)."""
        if self.kind in ("log_uniform", "uniform"):
            return trial.suggest_float(self.name, *self.values, log=self.kind == "log_uniform")
        if self.kind == "int":
            return trial.suggest_int(self.name, *self.values)
        return trial.suggest_categorical(self.name, list(self.values))


@dataclasses.dataclass(frozen=True)
class Protocol:
    """A parsed ``[search]`` + ``[confirm]``."""

    trials: int
    sampler: str
    seed: int
    metric: str | None
    space: tuple[Parameter, ...]
    pruning: dict[str, Any] | None
    storage: str | None
    confirm_seeds: tuple[int, ...]
    replicates: int = 1
    search_seed: int = 0

    @property
    def total_trials(self) -> int:
        """Trials per study over all replicates."""
        return self.trials * self.replicates

    def replicate_of(self, number: int) -> int:
        return number // self.trials

    def seed_of_replicate(self, replicate: int) -> int:
        """The training seed of replicate ``replicate``'s search trials."""
        return self.search_seed + replicate * (len(self.confirm_seeds) + 1)

    def confirm_seeds_of(self, replicate: int) -> tuple[int, ...]:
        """Replicate ``replicate``'s fresh confirmation seeds (replicate 0: the ``[confirm]`` seeds)."""
        shift = replicate * (len(self.confirm_seeds) + 1)
        return tuple(seed + shift for seed in self.confirm_seeds)

    def metric_for(self, dataset: str) -> str:
        return self.metric or default_metric(dataset)


def default_metric(dataset: str) -> str:
    """The dataset's main metric: the true Jensen–Shannon divergence where the density is known
    (bounded, symmetric, neutral between the divergences compared), the classifier-feature
    Fréchet distance for labelled images, else MMD²."""
    from fgan_bench.datasets import get_dataset

    data = get_dataset(dataset)
    if data.synthetic and data.dimension <= 2:
        return "true_jensen_shannon"
    if data.kind == "image" and data.labelled:
        return "classifier_frechet_distance"
    return "mmd2"


def load_protocol(sweep: Sweep) -> Protocol | None:
    """The sweep's protocol (None for a plain sweep); errors name the file, line and key."""
    data = tomllib.loads(sweep.text)
    if "search" not in data:
        if "confirm" in data:
            raise sweep.error("[confirm] needs a [search] table (the trials whose best it confirms)", "confirm")
        return None

    def fail(message: str, table: str, key: str | None = None) -> FganBenchError:
        return FganBenchError(f"{sweep.path}:{_line_of(sweep.text, table, key) or '?'}: {message}")

    search, confirm = data["search"], data.get("confirm", {})
    if sweep.grid:
        raise fail("a protocol searches instead of a [grid]: move the grid's options to [search.space]", "grid")
    for key in search:
        if key not in SEARCH_KEYS:
            raise fail(f"unknown key '{key}' in [search]; known: {', '.join(SEARCH_KEYS)}", "search", key)
    trials = search.get("trials")
    if not isinstance(trials, int) or isinstance(trials, bool) or trials < 1:
        raise fail("[search] trials must be a positive integer (the budget per dataset × divergence)",
                   "search", "trials")
    sampler = search.get("sampler", "random")
    if sampler not in SAMPLERS:
        raise fail(f"[search] sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}", "search", "sampler")
    seed = search.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise fail("[search] seed must be an integer", "search", "seed")
    space = _space(search.get("space", {}), fail)
    pruning = search.get("pruning")
    if pruning is not None:
        pruning = _pruning(pruning, search.get("metric"), fail)
    replicates = search.get("replicates", 1)
    seeds = _confirm_seeds(confirm, sweep.seeds[0], fail)
    storage = search.get("storage")
    if storage is not None and not isinstance(storage, str):
        raise fail("[search] storage must be a URL or a file path", "search", "storage")
    protocol = Protocol(
        trials=trials,
        sampler=sampler,
        seed=seed,
        metric=search.get("metric"),
        space=space,
        pruning=pruning,
        storage=storage,
        confirm_seeds=tuple(seeds),
        replicates=replicates,
        search_seed=sweep.seeds[0],
    )
    _check_replicates(protocol, fail)
    return protocol


def _check_replicates(protocol: Protocol, fail) -> None:
    """A positive count, and no seed used by two replicates (their seeds are shifted by c + 1)."""
    if not isinstance(protocol.replicates, int) or isinstance(protocol.replicates, bool) or protocol.replicates < 1:
        raise fail("[search] replicates must be a positive integer (independent searches per dataset × divergence)",
                   "search", "replicates")
    used = [s for r in range(protocol.replicates)
            for s in (protocol.seed_of_replicate(r), *protocol.confirm_seeds_of(r))]
    if len(set(used)) < len(used):
        raise fail("[confirm] seeds: with replicates, give a count (each replicate's seeds are shifted by "
                   "count + 1 and this list makes two replicates share a seed)", "confirm", "seeds")


def _confirm_seeds(confirm: dict[str, Any], search_seed: int, fail) -> list[int]:
    """``[confirm] seeds``: a count (the seeds after the search's) or a list of fresh seeds."""
    seeds = confirm.get("seeds", 5)
    if isinstance(seeds, int) and seeds > 0:
        first = max(search_seed, 0) + 1
        seeds = list(range(first, first + seeds))
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and s >= 0 for s in seeds):
        raise fail("[confirm] seeds must be a count or a list of non-negative integers", "confirm", "seeds")
    if search_seed in seeds:
        raise fail(f"[confirm] seeds must be fresh: seed {search_seed} is the search's seed", "confirm", "seeds")
    for key in confirm:
        if key != "seeds":
            raise fail(f"unknown key '{key}' in [confirm]; known: seeds", "confirm", key)
    return seeds


def _space(table: Any, fail) -> tuple[Parameter, ...]:
    if not isinstance(table, dict) or not table:
        raise fail("[search.space] must name at least one run option, "
                   "e.g. generator_lr = { log_uniform = [1e-5, 1e-2] }", "search.space")
    parameters = []
    for name, spec in table.items():
        if name not in RUN_OPTIONS or name == "seed":
            raise fail(f"unknown run option '{name}' in [search.space]; known: {', '.join(RUN_OPTIONS)}",
                       "search.space", name)
        if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in KINDS:
            raise fail(f"[search.space] {name} must be one of {{ {' | '.join(f'{k} = …' for k in KINDS)} }}",
                       "search.space", name)
        kind, values = next(iter(spec.items()))
        if kind == "same_as":
            if values not in table or values == name:
                raise fail(f"[search.space] {name}: same_as must name another searched option", "search.space", name)
            values = [values]
        elif kind == "choice":
            if not isinstance(values, list) or not values:
                raise fail(f"[search.space] {name}: choice needs a non-empty list", "search.space", name)
        else:
            numeric = isinstance(values, list) and len(values) == 2 and all(isinstance(v, int | float) for v in values)
            if not numeric or not values[0] < values[1] or (kind == "log_uniform" and values[0] <= 0):
                raise fail(f"[search.space] {name}: {kind} needs [low, high] with low < high"
                           f"{' and low > 0' if kind == 'log_uniform' else ''}", "search.space", name)
            if kind == "int" and not all(isinstance(v, int) for v in values):
                raise fail(f"[search.space] {name}: int needs integer bounds", "search.space", name)
            if kind != "int":
                values = [float(v) for v in values]
        parameters.append(Parameter(name, kind, tuple(values)))
    return tuple(parameters)


def _pruning(table: Any, metric: str | None, fail) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise fail("[search.pruning] must be a table (every, min_resource, reduction_factor)", "search.pruning")
    for key in table:
        if key not in PRUNING_KEYS:
            raise fail(f"unknown key '{key}' in [search.pruning]; known: {', '.join(PRUNING_KEYS)}",
                       "search.pruning", key)
    every = table.get("every")
    if not isinstance(every, int) or every < 1:
        raise fail("[search.pruning] every must be a positive number of steps", "search.pruning", "every")
    minimum, factor = table.get("min_resource", every), table.get("reduction_factor", 3)
    if not isinstance(minimum, int) or minimum < 1:
        raise fail("[search.pruning] min_resource must be a positive number of steps", "search.pruning", "min_resource")
    if not isinstance(factor, int) or factor < 2:
        raise fail("[search.pruning] reduction_factor must be an integer ≥ 2", "search.pruning", "reduction_factor")
    return {"every": every, "min_resource": minimum, "reduction_factor": factor, "metric": table.get("metric", metric)}


def study_name(sweep_name: str, dataset: str, divergence: str) -> str:
    return f"{sweep_name}/{dataset}/{divergence}"


def trial_config(sweep: Sweep, dataset: str, divergence: str, params: dict[str, Any], seed: int) -> RunConfig:
    """The resolved run config of a trial (``params`` from Optuna; ``same_as`` copied)."""
    options = {**sweep.defaults, **sweep.overrides.get(dataset, {}), **params, "seed": seed}
    return RunConfig(divergence=divergence, dataset=dataset, plugins=sweep.plugins, **options).resolved()


class _Search:
    """The studies of one protocol in one process, and the bookkeeping to claim and tell trials."""

    def __init__(self, sweep: Sweep, protocol: Protocol, sweep_dir: Path, storage: str, pairs):
        import optuna

        from fgan_bench.metrics import metric_direction
        from fgan_bench.pruning import make_pruner, open_storage, storage_error

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.sweep, self.protocol, self.sweep_dir, self.storage = sweep, protocol, sweep_dir, storage
        self.pairs = list(pairs)
        self._storage = open_storage(storage)
        self.studies = {}
        for dataset, divergence in self.pairs:
            metric = protocol.metric_for(dataset)
            direction = metric_direction(metric)
            if direction is None:
                raise FganBenchError(f"[search] metric {metric!r} is not a metric output (see `list metrics`)")
            try:
                self.studies[dataset, divergence] = optuna.create_study(
                    study_name=study_name(sweep.name, dataset, divergence),
                    storage=self._storage,
                    direction="minimize" if direction == "lower" else "maximize",
                    load_if_exists=True,
                    pruner=make_pruner(protocol.pruning),
                )
            except Exception as error:  # noqa: BLE001 - a journal line damaged: shows once the study writes
                raise storage_error(storage, error) from None
        self.searched = [p for p in protocol.space if p.kind != "same_as"]
        self.claims: dict[str, rundir.Claim] = {}  # run id -> this process's hold on a queued run

    def sampler(self, pair, number: int):
        """A sampler seeded by (protocol seed, study, trial number): reproducible, and never the
        same draws in two processes or after a restart."""
        import optuna

        key = f"{self.protocol.seed}/{study_name(self.sweep.name, *pair)}/{number}"
        seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "little")
        if self.protocol.sampler == "tpe":
            return optuna.samplers.TPESampler(seed=seed)
        return optuna.samplers.RandomSampler(seed=seed)

    def params_of(self, trial_params: dict[str, Any]) -> dict[str, Any]:
        params = dict(trial_params)
        for parameter in self.protocol.space:
            if parameter.kind == "same_as":
                params[parameter.name] = params[parameter.values[0]]
        return params

    def config(self, pair, trial_params: dict[str, Any], seed: int | None = None) -> RunConfig:
        seed = self.sweep.seeds[0] if seed is None else seed
        return trial_config(self.sweep, *pair, self.params_of(trial_params), seed)

    def trial_run(self, pair, trial) -> RunConfig:
        """The run of a search trial: its parameters, trained with its replicate's seed."""
        protocol = self.protocol
        return self.config(pair, trial.params, protocol.seed_of_replicate(protocol.replicate_of(trial.number)))

    def ask(self, pair):
        """A new trial of ``pair``'s study, or None (and marked surplus) beyond the budget."""
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
        return (trial.number, config) if self.hold(config) else None

    def _draw(self, pair, trial) -> None:
        self.studies[pair].sampler = self.sampler(pair, trial.number)
        for parameter in self.searched:
            parameter.suggest(trial)

    def sample(self, pair, frozen):
        """Draws the parameters of a trial that was asked but never drawn (the same draws as its
        asker would have made: the sampler is seeded by the trial number)."""
        import optuna

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

    def claim(self, pair):
        """A trial to run now, claimed: a new one while the budget lasts, then an orphaned one
        (RUNNING, and no process trains it or has it queued: its process was killed).

        Returns ``(number, config)``, ``"again"`` (asked one that is not this process's to run),
        ``"wait"`` (others are running the rest) or ``"done"``.
        """
        if len(self.studies[pair].get_trials(deepcopy=False)) < self.protocol.total_trials:
            return self.ask(pair) or "again"  # new trials first: queued trials of other processes stay theirs
        trials = self.in_budget(pair)
        for trial in trials:
            if trial.state.name == "RUNNING" and not trial.params and _age_seconds(trial) > ABANDONED_SECONDS:
                trial = self.sample(pair, trial)  # asked by a process killed before it drew the parameters
            if trial.state.name == "RUNNING" and trial.params:
                config = self.trial_run(pair, trial)
                if self.hold(config):
                    return trial.number, config
        if any(t.state.name == "RUNNING" for t in trials):
            return "wait"
        return "done"

    def prepare(self, pair, number: int, config: RunConfig) -> None:
        """Writes ``trial.json`` for the run (its study, number and pruning)."""
        from fgan_bench.pruning import TRIAL_FILE

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
        import optuna

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


#: Times a trial lost to an I/O fault (disk full, an unwritable or unreadable file) is run again
#: before it counts as failed.
IO_RETRIES = 2
#: What a run's one-line failure reason says when an I/O fault lost it.
IO_FAULT = re.compile(r"disk full|no space left|cannot write|\bOSError\b|\bIOError\b|\[Errno \d+\]|"
                      r"input/output error", re.IGNORECASE)


def io_retry(study, pair, number: int, outcome: dict[str, Any]) -> str | None:
    """For a trial whose run an I/O fault lost: the line saying it runs again (the trial is left
    ``RUNNING`` for :meth:`_Search.claim` to take over, using no budget), or None — not an I/O
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


#: A trial asked this long ago without parameters was abandoned by a killed process.
ABANDONED_SECONDS = 60.0


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


def _pairs(sweep: Sweep, patterns: Sequence[str]):
    pairs = [(d, v) for d in sweep.datasets for v in sweep.divergences]
    if patterns:
        pairs = [p for p in pairs if any(fnmatch.fnmatch(f"{p[0]}/{p[1]}", pattern) for pattern in patterns)]
    return pairs


def describe_protocol(sweep: Sweep, protocol: Protocol, patterns: Sequence[str] = ()) -> str:
    """What ``sweep --dry-run`` prints for a protocol: the pairs, the budget, the space."""
    pairs = _pairs(sweep, patterns)
    lines = [f"{d} × {v}: {protocol.trials} trials on {protocol.metric_for(d)}" for d, v in pairs]
    space = ", ".join(f"{p.name} {p.kind} {list(p.values)}" for p in protocol.space)
    pruning = (f"successive halving every {protocol.pruning['every']} steps" if protocol.pruning else "no pruning")
    runs = len(pairs) * protocol.replicates * (protocol.trials + len(protocol.confirm_seeds))
    replicates = f"{protocol.replicates} replicates × " if protocol.replicates > 1 else ""
    lines.append(f"{len(pairs)} studies × {replicates}({protocol.trials} {protocol.sampler} trials + "
                 f"{len(protocol.confirm_seeds)} confirmation seeds) = {runs} runs at most; {pruning}; space: {space}")
    return "\n".join(lines)


def best_params(search: _Search, pair, replicate: int = 0) -> dict[str, Any] | None:
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


def _write_state(search: _Search, confirm: dict[tuple, list[RunConfig]]) -> None:

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
    protocol = search.protocol
    search.sweep_dir.mkdir(parents=True, exist_ok=True)
    (search.sweep_dir / "sweep.toml").write_text(search.sweep.text)
    rundir.write_json_atomically(
        search.sweep_dir / "sweep.json",
        {
            "name": search.sweep.name,
            "description": search.sweep.description,
            "source": str(search.sweep.path),
            "varying": [],
            "configs": [c.to_dict() for c in configs],
            "protocol": {
                "storage": storage_record(search.storage, search.sweep_dir),
                "trials": protocol.trials,
                "replicates": protocol.replicates,
                "sampler": protocol.sampler,
                "metrics": {pair[0]: protocol.metric_for(pair[0]) for pair in search.pairs},
                "space": {p.name: [p.kind, list(p.values)] for p in protocol.space},
                "pruning": protocol.pruning,
                "search_seed": search.sweep.seeds[0],
                "confirm_seeds": list(protocol.confirm_seeds),
                "replicate_of_seed": {str(seed): r for r in range(protocol.replicates)
                                      for seed in protocol.confirm_seeds_of(r)},
                "studies": {f"{d}/{v}": study_name(search.sweep.name, d, v) for d, v in search.pairs},
                "phase": phase,
            },
        },
    )


def trials_table(sweep_dir: str | Path, state: dict[str, Any]):
    """``trials.csv``: one row per in-budget trial — dataset, divergence, trial, state, metric,
    value (a pruned trial's last intermediate value), pruned step, run id and parameters."""
    import pandas as pd

    from fgan_bench.pruning import open_protocol_storage, protocol_studies

    protocol = state["protocol"]
    rows = []
    for dataset, divergence, study in protocol_studies(protocol, open_protocol_storage(protocol, sweep_dir)):
        for trial in study.get_trials(deepcopy=False):
            if trial.number >= protocol["trials"] * protocol.get("replicates", 1):
                continue
            rows.append(
                {
                    "dataset": dataset,
                    "divergence": divergence,
                    "trial": trial.number,
                    "replicate": trial.number // protocol["trials"],
                    "state": trial.state.name.lower(),
                    "metric": protocol["metrics"][dataset],
                    "value": trial.value,
                    "pruned_step": trial.last_step if trial.state.name == "PRUNED" else None,
                    "run_id": trial.user_attrs.get("run_id", ""),
                    "reason": trial.user_attrs.get("reason", ""),
                    **{f"param_{k}": v for k, v in trial.params.items()},
                }
            )
    columns = ["dataset", "divergence", "trial", "replicate", "state", "metric", "value", "pruned_step", "run_id",
               "reason"]
    return pd.DataFrame(rows, columns=None if rows else columns)


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

    sweep_dir = Path(sweep_dir)
    (sweep_dir / "runs").mkdir(parents=True, exist_ok=True)
    storage = storage or protocol.storage or str((sweep_dir / JOURNAL).resolve())
    pairs = _pairs(sweep, patterns)
    search = _Search(sweep, protocol, sweep_dir, storage, pairs)
    _write_state(search, {})
    done_before = sum(t.state.is_finished() for pair in pairs for t in search.in_budget(pair))
    damaged = _damaged_trial_runs(search)
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

            def told(outcome: dict[str, Any], by_run=by_run) -> None:
                pair, number, config = by_run[outcome["run_id"]]
                retry = search.tell(pair, number, config, outcome)
                outcome["retried"] = retry is not None  # its next attempt's outcome counts instead
                progress.write(retry) if retry else progress.update(outcome)

            try:
                ran = execute([c for _, _, c in batch], sweep_dir, jobs=jobs, executor=executor, report=told)
                outcomes += [o for o in ran if not o.get("already_done") and not o.get("retried")]
            finally:
                search.release()
        confirm = _confirmation_runs(search, progress)
        _write_state(search, confirm)
        configs = damaged + [c for group in confirm.values() for c in group]
        outcomes += _confirm(search, configs, jobs, executor, progress, poll_seconds)
    except KeyboardInterrupt:
        progress.close()
        print(interrupted_summary(search, confirm), file=sys.stderr, flush=True)
        raise KeyboardInterrupt from None
    finally:
        progress.close()
    write_trials(sweep_dir, json.loads((sweep_dir / "sweep.json").read_text()))
    return outcomes


def _damaged_trial_runs(search: _Search) -> list[RunConfig]:
    """The runs of finished search trials whose ``result.json`` is damaged: trained again (from
    their checkpoints) with the confirmation runs, as a plain sweep redoes them; the study keeps
    the value it was told."""
    damaged = []
    for pair in search.pairs:
        for trial in search.in_budget(pair):
            if trial.state.is_finished() and trial.params:
                config = search.trial_run(pair, trial)
                problem = rundir.result_problem(rundir.run_path(search.sweep_dir, config.run_id))
                if problem is not None:
                    print(f"{pair[0]} × {pair[1]} trial {trial.number}: {problem}; training it again", flush=True)
                    damaged.append(config)
    return damaged


def interrupted_summary(search: _Search, confirm: dict[tuple, list[RunConfig]]) -> str:
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


def _claim_batch(search: _Search, batch_size: int, progress) -> tuple[list, bool]:
    """Up to ``batch_size`` claimed trials to train now (a trial whose run is already done is told
    at once), and whether every study is done."""
    batch = []
    while len(batch) < batch_size:
        claimed_any, waiting, finished = False, False, 0
        for pair in search.pairs:
            if len(batch) >= batch_size:
                break
            claim = search.claim(pair)
            if claim == "again":
                claimed_any = True
            elif claim == "wait":
                waiting = True
            elif claim == "done":
                finished += 1
            else:
                number, config = claim
                if rundir.is_done(rundir.run_path(search.sweep_dir, config.run_id)):
                    search.tell(pair, number, config, {"status": "done"})
                    search.claims.pop(config.run_id).release()
                    progress.update({"status": "done"})
                else:
                    batch.append((pair, number, config))
                claimed_any = True
        if not claimed_any:
            break
    return batch, finished == len(search.pairs) and not waiting


def _confirmation_runs(search: _Search, progress) -> dict[tuple, list[RunConfig]]:
    """Per study: each replicate's best configuration on that replicate's fresh seeds."""
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


def _confirm(search: _Search, configs: list[RunConfig], jobs: int, executor: str, progress, poll_seconds: float):
    """Runs the confirmation runs not done yet, ``jobs`` at a time, skipping those another process
    has queued or is training until they are done, so that several processes share the work."""
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
        free = []
        for config in todo:
            if len(free) < jobs and search.hold(config):
                free.append(config)
        if not free:
            time.sleep(poll_seconds)
            continue
        try:
            for outcome in execute(free, sweep_dir, jobs=jobs, executor=executor, report=progress.update):
                counted.add(outcome["run_id"])
                if not outcome.get("already_done"):
                    outcomes.append(outcome)
        finally:
            search.release()


def write_trials(sweep_dir: Path, state: dict[str, Any]):
    """Writes ``trials.csv`` from the study storage; returns the table (None for a plain sweep).

    ``state``: the sweep folder's ``sweep.json``.
    """

    if "protocol" not in state:
        return None
    try:
        table = trials_table(sweep_dir, state)
    except Exception:  # noqa: BLE001 - a storage out of reach (moved folder, no database): keep the old table
        import pandas as pd

        path = Path(sweep_dir) / TRIALS
        return pd.read_csv(path) if path.exists() else None
    rundir.write_csv_atomically(table, Path(sweep_dir) / TRIALS)
    return table
