"""A protocol checked before any trial starts: its names, metrics and search-space bounds.

Unchecked, a mistyped divergence or metric shows only once a study opens, and a bound
outside an option's valid range only when a trial draws it — each trial then asked is left
``RUNNING``. ``sweep --dry-run`` and the real run check the whole protocol first
(:func:`check_protocol`); each problem is one line naming the file, line, key and the fix.

The ranges are the run options' own (:meth:`RunConfig.check_values
<fgan_bench.config.RunConfig.check_values>`: types, ranges, choices), applied to every
dataset × divergence's config with the option at each end of its range — both bounds of a
``uniform``/``log_uniform``/``int``, every value of a ``choice``. An option's valid set is an
interval (positive, ≥ 0, [0, 1), finite) or a set of names, so both bounds valid means every
value drawn between them is. Relations between options (``critic_steps`` > 1 needs the
alternating schedule) are left to each trial: a trial whose combination is invalid is recorded
as failed, never run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from fgan_bench.errors import ConfigError

if TYPE_CHECKING:
    from fgan_bench.config import RunConfig
    from fgan_bench.sweeps.definition import Sweep
    from fgan_bench.sweeps.protocol_spec import Parameter, Protocol


def check_protocol(sweep: Sweep, protocol: Protocol, pairs: Sequence[tuple[str, str]]) -> None:
    """Raises a one-line :class:`~fgan_bench.errors.FganBenchError` (``file:line: key: problem; fix``) for the first
    unknown dataset or divergence, divergence studied twice, unknown or inapplicable metric (the
    score, the trials' ``[search] metrics``), confirmation runs that would not evaluate the score, or
    searched bound outside its option's valid range."""
    from fgan_bench.sweeps.protocol_spec import trial_config

    try:
        bases = {pair: trial_config(sweep, *pair, {}, sweep.seeds[0]) for pair in pairs}
    except ConfigError:
        sweep.resolved_configs()  # the same error, worded with the file, line and key
        raise
    _check_one_study_each(sweep, pairs, bases)
    if protocol.metric is not None:
        _check_metric(sweep, protocol.metric, "search")
    pruning_metric = (protocol.pruning or {}).get("metric")
    if pruning_metric is not None and pruning_metric != protocol.metric:
        _check_metric(sweep, pruning_metric, "search.pruning")
    _check_evaluated_metrics(sweep, protocol, bases)
    for parameter in protocol.space:
        for base in bases.values():
            _check_bounds(sweep, parameter.name, _source_of(parameter, protocol), base)


def _check_one_study_each(sweep: Sweep, pairs: Sequence[tuple[str, str]], bases: dict) -> None:
    """Two names of one divergence (``kl`` twice, ``alpha:0.5`` and ``alpha:0.50``) would give it
    two studies and twice the budget."""
    seen: dict[tuple[str, str], str] = {}
    for pair in pairs:
        key = (bases[pair].dataset, bases[pair].divergence)
        if key in seen:
            raise sweep.error(
                f"divergences: {pair[1]!r} is listed twice (as {seen[key]!r} and {pair[1]!r}); a protocol gives "
                f"each divergence one study and one budget: remove the duplicate", "sweep", "divergences")
        seen[key] = pair[1]


def _check_evaluated_metrics(sweep: Sweep, protocol: Protocol, bases: dict) -> None:
    """Each study's score and its trials' metrics apply to its data, and its confirmation runs (which
    evaluate what ``[defaults] metrics`` names, every metric without it) give the score."""
    from fgan_bench.errors import FganBenchError
    from fgan_bench.metrics import check_metric_names, metric_of_output

    for (dataset, _), base in bases.items():
        score = protocol.metric_for(dataset)
        for names, key in (((score,), "metric"), (protocol.trial_metrics(dataset) or (), "metrics")):
            try:
                check_metric_names(names, base.dataset)
            except FganBenchError as error:
                raise sweep.error(f"[search] {key}: {error}", "search", key) from None
        giver = metric_of_output(score)
        if base.metrics and score not in base.metrics and (giver is None or giver.name not in base.metrics):
            raise sweep.error(f"metrics: the confirmation runs on {dataset} would not evaluate the score {score!r}; "
                              f"add it to [defaults] metrics or remove that key", "defaults", "metrics")


def _check_metric(sweep: Sweep, metric: str, table: str) -> None:
    """The metric is an output of a registered metric (whether it applies to a run's data and
    options is the run's own check)."""
    from fgan_bench.metrics import metric_direction

    if metric_direction(metric) is None:
        raise sweep.error(f"[{table}] metric: {metric!r} is not a metric output; use one listed by "
                          f"`python -m fgan_bench list metrics` (e.g. true_jensen_shannon, mmd2)", table, "metric")


def _source_of(parameter: Parameter, protocol: Protocol) -> Parameter:
    """The searched parameter whose bounds or choices to check (the one copied, for ``same_as``)."""
    if parameter.kind != "same_as":
        return parameter
    return next(p for p in protocol.space if p.name == parameter.values[0])


def _check_bounds(sweep: Sweep, name: str, source: Parameter, base: RunConfig) -> None:
    """Each bound or choice of ``source``, set as option ``name`` of ``base``, is a valid value."""
    for position, value in enumerate(source.values):
        try:
            dataclasses.replace(base, **{name: value}).check_values()
        except ConfigError as error:
            if error.option != name:
                raise
            if source.kind == "choice":
                what, fix = f"the choice {value!r}", "remove it"
            else:
                what, fix = f"the {('low', 'high')[position]} bound {value!r}", "narrow the range to the valid values"
            raise sweep.error(f"[search.space] {name}: {what} {error.reason} ({base.dataset} × {base.divergence}); "
                              f"{fix}", "search.space", name) from None
