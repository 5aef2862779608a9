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
    metrics = "decision"         # what a trial evaluates: the score and the cheap metrics; "all"; or a list
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
r has its own trials, training seed and fresh confirmation seeds.

Search-time evaluation: a trial is scored by its ``metric`` alone, so by default a trial's run
evaluates only that output and the metrics registered as cheap (:attr:`Metric.cheap
<fgan_bench.metrics.Metric>`: ``sliced_wasserstein``, ``modes``); the confirmation runs evaluate
every metric, as plain runs do (:meth:`Protocol.trial_metrics`).

This module parses those tables into frozen records (:class:`Protocol`, :class:`Parameter`);
:mod:`fgan_bench.sweeps.studies` keeps the Optuna studies and :mod:`fgan_bench.sweeps.protocol`
drives them.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import tomllib
from collections.abc import Sequence
from typing import Any

from fgan_bench.config import RunConfig
from fgan_bench.errors import FganBenchError
from fgan_bench.metrics.main_metric import dataset_main_metric
from fgan_bench.sweeps.definition import RUN_OPTIONS, Sweep, _line_of

SAMPLERS = ("random", "tpe")
KINDS = ("log_uniform", "uniform", "int", "choice", "same_as")
SEARCH_KEYS = ("trials", "sampler", "seed", "replicates", "metric", "metrics", "storage", "space", "pruning")
#: ``[search] metrics`` by name: the score and the cheap metrics (the default), or every metric.
SEARCH_METRICS = ("decision", "all")
PRUNING_KEYS = ("every", "min_resource", "reduction_factor", "metric")


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
    search_metrics: str | tuple[str, ...] = "decision"

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
        return self.metric or dataset_main_metric(dataset)

    def trial_metrics(self, dataset: str) -> tuple[str, ...] | None:
        """What a search trial on ``dataset`` evaluates (its run's ``metrics`` option): the score
        (:meth:`metric_for`) and the cheap metrics that apply (``"decision"``) or the metrics
        listed; None for ``"all"``: what the confirmation runs evaluate."""
        from fgan_bench.metrics import cheap_metrics

        if self.search_metrics == "all":
            return None
        extra = cheap_metrics(dataset) if self.search_metrics == "decision" else self.search_metrics
        return tuple(dict.fromkeys((self.metric_for(dataset), *extra)))


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
    trials, sampler, seed, storage = _search_settings(search, fail)
    space = _space(search.get("space", {}), fail)
    pruning = search.get("pruning")
    if pruning is not None:
        pruning = _pruning(pruning, search.get("metric"), fail)
    replicates = search.get("replicates", 1)
    seeds = _confirm_seeds(confirm, sweep.seeds[0], fail)
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
        search_metrics=_search_metrics(search.get("metrics", "decision"), fail),
    )
    _check_replicates(protocol, fail)
    return protocol


def _search_settings(search: dict[str, Any], fail) -> tuple[int, str, int, str | None]:
    """``[search]``'s known keys, and its trials, sampler, seed and storage checked."""
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
    storage = search.get("storage")
    if storage is not None and not isinstance(storage, str):
        raise fail("[search] storage must be a URL or a file path", "search", "storage")
    return trials, sampler, seed, storage


def _search_metrics(value: Any, fail) -> str | tuple[str, ...]:
    """``[search] metrics``: one of :data:`SEARCH_METRICS` or a non-empty list of metric names."""
    if isinstance(value, str) and value in SEARCH_METRICS:
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise fail(f'[search] metrics must be "decision" (the score and the cheap metrics), "all" (every metric, as '
               f'the confirmation runs) or a list of metric names, got {value!r}', "search", "metrics")


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
        parameters.append(_parameter(name, spec, table, fail))
    return tuple(parameters)


def _parameter(name: str, spec: dict[str, Any], table: dict[str, Any], fail) -> Parameter:
    """One ``[search.space]`` entry, e.g. ``{ log_uniform = [1e-5, 1e-2] }``, checked."""
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
    return Parameter(name, kind, tuple(values))


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


def trial_config(sweep: Sweep, dataset: str, divergence: str, params: dict[str, Any], seed: int,
                 metrics: tuple[str, ...] | None = None) -> RunConfig:
    """The resolved run config of a trial (``params`` from Optuna; ``same_as`` copied), evaluating
    ``metrics`` (None: as the sweep's defaults say)."""
    chosen = {} if metrics is None else {"metrics": metrics}
    options = {**sweep.defaults, **sweep.overrides.get(dataset, {}), **params, "seed": seed, **chosen}
    return RunConfig(divergence=divergence, dataset=dataset, plugins=sweep.plugins, **options).resolved()


def select_pairs(sweep: Sweep, patterns: Sequence[str]) -> list[tuple[str, str]]:
    """The (dataset, divergence) pairs of the sweep matching any ``dataset/divergence`` glob (all without one)."""
    pairs = [(d, v) for d in sweep.datasets for v in sweep.divergences]
    if patterns:
        pairs = [p for p in pairs if any(fnmatch.fnmatch(f"{p[0]}/{p[1]}", pattern) for pattern in patterns)]
    return pairs


def describe_protocol(sweep: Sweep, protocol: Protocol, patterns: Sequence[str] = ()) -> str:
    """What ``sweep --dry-run`` prints for a protocol: the pairs, the budget, the space."""
    pairs = select_pairs(sweep, patterns)
    lines = [f"{d} × {v}: {protocol.trials} trials on {protocol.metric_for(d)}" for d, v in pairs]
    for dataset in dict.fromkeys(d for d, _ in pairs):
        chosen = protocol.trial_metrics(dataset)
        lines.append(f"{dataset}: each search trial evaluates "
                     f"{'what the confirmation runs do' if chosen is None else ', '.join(chosen)}")
    space = ", ".join(f"{p.name} {p.kind} {list(p.values)}" for p in protocol.space)
    pruning = (f"successive halving every {protocol.pruning['every']} steps" if protocol.pruning else "no pruning")
    runs = len(pairs) * protocol.replicates * (protocol.trials + len(protocol.confirm_seeds))
    replicates = f"{protocol.replicates} replicates × " if protocol.replicates > 1 else ""
    lines.append(f"{len(pairs)} studies × {replicates}({protocol.trials} {protocol.sampler} trials + "
                 f"{len(protocol.confirm_seeds)} confirmation seeds) = {runs} runs at most; {pruning}; space: {space}")
    return "\n".join(lines)
