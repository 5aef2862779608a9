"""The :class:`Metric` object and what it is computed from (:class:`EvaluationInputs`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

Direction = Literal["higher", "lower"]


@dataclasses.dataclass(frozen=True)
class EvaluationInputs:
    """Everything a metric may use.

    Args:
        dataset: the target :class:`~fgan_bench.datasets.Dataset`.
        real: real examples never trained on (held-out or fresh samples), shape (n, *shape).
        fake: generated examples, shape (m, *shape).
        seed: for any subsampling.
        divergence: the run's divergence (for the critic's variational estimate).
        critic: the run's critic V(x) as a function of a batch of examples, or ``None``.
        generator_density: the generator's exact density where it has one (the linear
            generator's N(μ, σ²)), else ``None``.
        cache_dir: where trained feature classifiers are kept (``None``: the default).
        fake_labels: the class each generated example was requested for (conditional runs), else ``None``.
        class_logits: the critic's K class logits for a batch of examples (semi-supervised runs), else ``None``.
        outputs: the outputs asked of the metric being computed (``None``: all of them); a metric
            may compute only these (the true divergences do), :func:`~fgan_bench.metrics.evaluate`
            keeps only these.
    """

    dataset: Any
    real: np.ndarray
    fake: np.ndarray
    seed: int = 0
    divergence: Any = None
    critic: Callable[[np.ndarray], np.ndarray] | None = None
    generator_density: Any = None
    cache_dir: str | Path | None = None
    fake_labels: np.ndarray | None = None
    class_logits: Callable[[np.ndarray], np.ndarray] | None = None
    outputs: frozenset[str] | None = None


@dataclasses.dataclass(frozen=True)
class Metric:
    """One registered metric: a function of :class:`EvaluationInputs` to named values.

    Args:
        name: registry name, e.g. ``"mmd"``.
        compute: ``inputs -> {output name: value}``; one metric may give several values
            (``precision`` and ``recall``).
        description: one line, with the definition.
        applies_to: ``inputs -> bool``: whether the metric makes sense here (a dataset with
            modes, a known density, class labels, a critic, ...).
        where: where it applies, in words (``"data with known modes"``), for ``list metrics``.
        default: evaluated when no metric list is given (by the training callback and
            ``fgan_bench evaluate``).
        directions: for each output, whether ``"higher"`` or ``"lower"`` is better
            (reports rank by it); a key ending in ``*`` covers every output starting with
            the rest (``"true_*"``); outputs not listed are informational.
        min_samples: the fewest examples it needs on each side (real and generated); with
            fewer it is skipped, its reason recorded (:mod:`fgan_bench.metrics.checks`).
        min_samples_reason: why, in a few words (``"k-NN with k = 3"``).
        cheap: costs next to nothing (milliseconds for 10,000 examples, against seconds for
            the kernel, k-NN and density metrics), so a protocol's search trials evaluate it
            beside the score (:meth:`~fgan_bench.sweeps.protocol_spec.Protocol.trial_metrics`).
    """

    name: str
    compute: Callable[[EvaluationInputs], Mapping[str, float]]
    description: str = ""
    applies_to: Callable[[EvaluationInputs], bool] = lambda inputs: True  # noqa: E731
    default: bool = True
    where: str = ""
    directions: Mapping[str, Direction] = dataclasses.field(default_factory=dict)
    min_samples: int = 2
    min_samples_reason: str = ""
    cheap: bool = False

    def __post_init__(self):
        if not callable(self.compute):
            raise TypeError(f"metric {self.name!r}: compute must be callable")
        object.__setattr__(self, "directions", dict(self.directions))

    def direction(self, output: str) -> Direction | None:
        """``"higher"`` or ``"lower"`` (is better) for one of this metric's outputs, else ``None``."""
        if output in self.directions:
            return self.directions[output]
        for key, direction in self.directions.items():
            if key.endswith("*") and output.startswith(key[:-1]):
                return direction
        return None
