"""The metric registry and :func:`evaluate`: yardsticks that need no download.

``evaluate(dataset, fake)`` computes every default metric that applies to the dataset (see
:mod:`fgan_bench.metrics.builtin` for the table) and returns a flat ``{name: value}`` dict;
``evaluate(dataset, fake, ["true_jensen_shannon", "modes"])`` only those: a metric's name asks
for all its outputs, an output's name (:func:`metric_of_output`) for that output alone.
Metrics are pluggable like divergences and datasets: ``register_metric(Metric(...))`` in a
``--plugins`` file, or an installed package's entry point in the group
``fgan_bench.metrics``.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fgan_bench.errors import FganBenchError
from fgan_bench.metrics.base import EvaluationInputs, Metric
from fgan_bench.metrics.checks import DIVERGED_MAGNITUDE, exploded_values, shortfall
from fgan_bench.metrics.modes import mode_metrics
from fgan_bench.registry import Entry, Registry, registration_source

ENTRY_POINT_GROUP = "fgan_bench.metrics"
#: Real examples drawn for an evaluation (synthetic data), or at most this many held-out ones.
DEFAULT_REAL_SAMPLES = 10_000


def _load_builtins() -> None:
    from fgan_bench.metrics.builtin import BUILTIN_METRICS
    from fgan_bench.metrics.conditional import CONDITIONAL_METRIC, SEMI_SUPERVISED_METRIC

    with registration_source("builtin"):
        for metric in (*BUILTIN_METRICS, CONDITIONAL_METRIC, SEMI_SUPERVISED_METRIC):
            _REGISTRY.add(metric.name, metric)


def _load_entry_points() -> None:
    from fgan_bench.plugins import load_entry_points

    load_entry_points(ENTRY_POINT_GROUP, register_metric)


_REGISTRY: Registry[Metric] = Registry("metric", loaders=(_load_builtins, _load_entry_points))


def register_metric(metric: Metric, *, aliases: tuple[str, ...] = (), replace: bool = False) -> Metric:
    """Registers a :class:`Metric` (refused on a name clash unless ``replace``)."""
    if not isinstance(metric, Metric):
        raise TypeError(f"register_metric expects a Metric, got {type(metric).__name__}")
    _REGISTRY.add(metric.name, metric, aliases=aliases, replace=replace)
    return metric


def unregister_metric(name: str) -> None:
    _REGISTRY.remove(name)


def get_metric(name: str) -> Metric:
    """The metric registered as ``name`` (an unknown name lists the closest known ones)."""
    return _REGISTRY.lookup(name).item


def list_metrics() -> list[str]:
    return _REGISTRY.names()


def metric_entries() -> list[Entry[Metric]]:
    return _REGISTRY.entries()


def metric_of_output(output: str) -> Metric | None:
    """The registered metric that gives ``output``, by its ``directions`` (``true_jensen_shannon``:
    ``true_divergence``) or its name (``variational_estimate``), else None."""
    return next((e.item for e in metric_entries() if e.item.direction(output) is not None or e.name == output), None)


#: A metric and the outputs asked of it (``None``: all of them).
Selected = tuple[Metric, "frozenset[str] | None"]


def _selection(names: Sequence[str]) -> list[Selected]:
    """The metrics ``names`` ask for: a registered metric's name (alias) asks for all its outputs,
    an output's name for that output; an unknown name lists the closest metric names."""
    selected: dict[str, Selected] = {}
    for name in names:
        giver = None if name in _REGISTRY else metric_of_output(name)
        metric = giver or get_metric(name)
        asked = None if giver is None else frozenset({name})
        if metric.name in selected:
            before = selected[metric.name][1]
            asked = None if before is None or asked is None else before | asked
        selected[metric.name] = (metric, asked)
    return list(selected.values())


def cheap_metrics(dataset) -> list[str]:
    """The default metrics marked ``cheap`` (:class:`Metric`) that apply to ``dataset``'s trained runs."""
    from fgan_bench.datasets import get_dataset

    return [m.name for m in applicable_metrics(_planned_inputs(get_dataset(dataset))) if m.cheap]


def applicable_metrics(inputs: EvaluationInputs, names: Sequence[str] | None = None) -> list[Metric]:
    """The named metrics (default: every default metric) that apply to these inputs."""
    metrics = (
        [get_metric(n) for n in names] if names is not None else [e.item for e in metric_entries() if e.item.default]
    )
    return [m for m in metrics if _applies(m, inputs)]


def _applies(metric: Metric, inputs: EvaluationInputs) -> bool:
    try:
        return bool(metric.applies_to(inputs))
    except Exception:  # noqa: BLE001 - a plugin's test that needs real arrays: decide when they exist
        return inputs.real.size > 0


def _planned_inputs(dataset, *, critic: bool = True) -> EvaluationInputs:
    """Inputs as a run will have them, before any sample exists (for applicability checks)."""
    empty = np.empty((0, *dataset.shape), np.float32)
    return EvaluationInputs(dataset, empty, empty, divergence=True if critic else None,
                            critic=(lambda x: x) if critic else None)


def check_metric_names(names: Sequence[str], dataset, *, critic: bool = True) -> list[Metric]:
    """The metrics named, after refusing any that is unknown or does not apply to ``dataset``.

    Args:
        names: metric names or metric outputs, as given with ``--metrics``.
        dataset: a :class:`~fgan_bench.datasets.Dataset` or its spec.
        critic: whether the run's critic is at hand (it is for a trained run).

    Raises:
        UnknownNameError: an unknown name (with the closest known ones).
        FganBenchError: ``"metric 'parzen' does not apply to dataset 'ring8' (vector data);
            choose from: ..."``.
    """
    from fgan_bench.datasets import get_dataset

    dataset = get_dataset(dataset)
    return _check_names(names, _planned_inputs(dataset, critic=critic))


def _check_names(names: Sequence[str], inputs: EvaluationInputs) -> list[Metric]:
    return [metric for metric, _ in _checked_selection(names, inputs)]


def _checked_selection(names: Sequence[str], inputs: EvaluationInputs) -> list[Selected]:
    """:func:`_selection`, after refusing any metric that does not apply to these inputs."""
    chosen = _selection(names)
    metrics = [metric for metric, _ in chosen]
    refused = [m.name for m in metrics if not _applies(m, inputs)]
    if refused:
        dataset = inputs.dataset
        usable = [e.name for e in metric_entries() if _applies(e.item, inputs)]
        raise FganBenchError(
            f"metric{'s' if len(refused) > 1 else ''} {', '.join(refused)} "
            f"{'do' if len(refused) > 1 else 'does'} not apply to dataset {dataset.spec!r} ({dataset.kind} data"
            f"{'' if inputs.critic is not None else ', no critic'}); choose from: {', '.join(usable)}"
        )
    return chosen


def evaluation_real_count(dataset) -> int:
    """How many real examples an evaluation compares with (see :func:`evaluate`)."""
    if dataset.synthetic:
        return DEFAULT_REAL_SAMPLES
    pool = dataset.test_array if dataset.test_array is not None else dataset.array
    return min(len(pool), DEFAULT_REAL_SAMPLES)


def sample_shortfalls(dataset, num_samples: int, names: Sequence[str] | None = None) -> dict[str, str]:
    """Before training: ``{metric: reason}`` for each metric (default: every default metric
    that applies) that ``num_samples`` generated examples, or the dataset's real examples,
    are too few for. Empty when the evaluation will run in full.

    A runner calls this before training, to refuse or warn; :func:`evaluate` skips such a
    metric anyway, so a short run never crashes at the end.
    """
    from fgan_bench.datasets import get_dataset

    dataset = get_dataset(dataset)
    inputs = _planned_inputs(dataset)
    metrics = _check_names(names, inputs) if names is not None else applicable_metrics(inputs)
    real = evaluation_real_count(dataset)
    reasons = {m.name: shortfall(m, real, num_samples, fake_source="--num-samples") for m in metrics}
    return {name: reason for name, reason in reasons.items() if reason}


def evaluate(
    dataset,
    fake: np.ndarray,
    metrics: Sequence[str] | None = None,
    *,
    real: np.ndarray | None = None,
    seed: int = 0,
    divergence=None,
    critic=None,
    generator_density=None,
    cache_dir: str | Path | None = None,
    timings: dict[str, float] | None = None,
    skipped: dict[str, str] | None = None,
    fake_labels: np.ndarray | None = None,
    class_logits=None,
) -> dict[str, float]:
    """Every applicable metric for generated samples ``fake`` of ``dataset``, as ``{output: value}``.

    Args:
        dataset: a :class:`~fgan_bench.datasets.Dataset` or its spec.
        fake: generated examples, shape (n, *dataset.shape).
        metrics: metric names (all their outputs) or metric outputs (only those, e.g.
            ``true_jensen_shannon`` computes that one true divergence); default: every default
            metric that applies.
        real: real examples to compare with; default: ``dataset.held_out(10_000, seed)``
            (fresh samples for synthetic data, the test split for finite data).
        seed: for subsampling and the held-out draw.
        divergence, critic: the run's divergence and critic (``x -> V(x)``), for the
            critic's variational estimate.
        generator_density: the generator's exact density, where it has one.
        cache_dir: where feature classifiers are cached.
        timings: if given, filled with each metric's wall time in seconds.
        skipped: if given, filled with ``{metric: reason}`` for each metric skipped for too
            few real or generated examples (:func:`~fgan_bench.metrics.checks.shortfall`);
            if not, each skip is a warning. A skipped metric is never an error.
        fake_labels: the class each of ``fake`` was requested for (conditional generators).
        class_logits: ``x -> K logits``, a semi-supervised critic (its test accuracy is scored).

    Raises:
        FganBenchError: a metric named in ``metrics`` does not apply to these inputs
            (rather than an empty result).
    """
    from fgan_bench.datasets import get_dataset

    dataset = get_dataset(dataset)
    fake = np.asarray(fake, np.float32)
    if real is None:
        real = dataset.held_out(DEFAULT_REAL_SAMPLES, seed=seed)
    inputs = EvaluationInputs(
        dataset,
        np.asarray(real, np.float32),
        fake,
        seed=seed,
        divergence=divergence,
        critic=critic,
        generator_density=generator_density,
        cache_dir=cache_dir,
        fake_labels=fake_labels,
        class_logits=class_logits,
    )
    values: dict[str, float] = {}
    if not np.all(np.isfinite(fake)):
        return values
    chosen = (_checked_selection(metrics, inputs) if metrics is not None
              else [(metric, None) for metric in applicable_metrics(inputs)])
    for metric, asked in chosen:
        reason = shortfall(metric, len(inputs.real), len(fake))
        if reason is not None:
            if skipped is None:
                warnings.warn(f"fgan-bench: metric {metric.name} skipped: {reason}", stacklevel=2)
            else:
                skipped[metric.name] = reason
            continue
        started = time.perf_counter()
        computed = metric.compute(inputs if asked is None else dataclasses.replace(inputs, outputs=asked))
        values.update({k: float(v) for k, v in computed.items() if asked is None or k in asked})
        if timings is not None:
            timings[metric.name] = time.perf_counter() - started
    return values


def metric_direction(output: str) -> str | None:
    """``"higher"``/``"lower"`` is better for a metric output name, from the metric that gives it."""
    for entry in metric_entries():
        direction = entry.item.direction(output)
        if direction is not None:
            return direction
    return None


__all__ = [
    "ENTRY_POINT_GROUP",
    "EvaluationInputs",
    "Metric",
    "DIVERGED_MAGNITUDE",
    "applicable_metrics",
    "check_metric_names",
    "cheap_metrics",
    "evaluate",
    "evaluation_real_count",
    "exploded_values",
    "get_metric",
    "list_metrics",
    "metric_direction",
    "metric_entries",
    "metric_of_output",
    "mode_metrics",
    "register_metric",
    "sample_shortfalls",
    "unregister_metric",
]
