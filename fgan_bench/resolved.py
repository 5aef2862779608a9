"""A run resolved once: :class:`ResolvedRun`, what :meth:`RunConfig.resolve
<fgan_bench.config.RunConfig.resolve>` returns.

Resolving a run validates its options, fills every default and builds the objects the run
needs — the dataset, the divergence (or baseline), the generator's divergence, the model
record. The CLI resolves a run once and hands the record down: the runner, the trainer
build (:func:`fgan_bench.build.build_trainer`) and the evaluation take it instead of
resolving the config's names again, so a run builds its dataset once and resolves its
divergence once.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from fgan_bench.errors import FganBenchError


@dataclasses.dataclass(frozen=True)
class ResolvedRun:
    """A validated run config with every ``None`` filled, and the objects its names resolve to.

    Attributes:
        config: the resolved :class:`~fgan_bench.config.RunConfig` (``config.json``'s content).
        dataset: the :class:`~fgan_bench.datasets.Dataset` its ``dataset`` spec builds.
        divergence: the divergence or baseline its ``divergence`` spec names.
        generator_divergence: the generator's divergence (``--generator-divergence``), or ``None``.
        model: the :class:`~fgan_bench.models.base.Model` record its ``model`` names.
    """

    config: Any
    dataset: Any
    divergence: Any
    generator_divergence: Any
    model: Any

    @property
    def run_id(self) -> str:
        return self.config.run_id

    @functools.cached_property
    def skipped_metrics(self) -> dict[str, str]:
        """``{metric: reason}`` for the metrics that ``num_samples`` generated examples, or the
        data's rows, are too few for — skipped, and recorded in ``result.json`` — computed once,
        before TensorFlow starts; a one-line refusal when no metric could run at all."""
        from fgan_bench.metrics import sample_shortfalls

        names = self.config.metrics or None  # the run's metrics (none named: every default one)
        short = sample_shortfalls(self.dataset, self.config.num_samples, names)
        if short and len(short) == len(sample_shortfalls(self.dataset, 0, names)):  # with no sample, all are short
            name, reason = next(iter(short.items()))
            raise FganBenchError(f"no metric can evaluate this run: {name} {reason}; raise --num-samples "
                                 f"or give the data more rows")
        return short


def resolve(run) -> ResolvedRun:
    """``run`` itself if it is resolved already, else ``run.resolve()`` (a :class:`~fgan_bench.config.RunConfig`)."""
    return run if isinstance(run, ResolvedRun) else run.resolve()
