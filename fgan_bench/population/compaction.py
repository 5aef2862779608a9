"""Compaction: a population drops its stopped members, so masked members cost nothing.

A member that finished, was pruned or diverged is masked in the stacked step, yet its slice of
the (K, …) arrays is still computed. :class:`LivePopulation` trains only the members still
active: once their count n is at most half the population's size K (n ≤ ⌊K/2⌋), it rebuilds
the stacked state from those n members alone — weights, batch-norm statistics, optimizer slots,
step counts and hyperparameters, which the population has just copied into each member's own
trainer — and restarts each member's data stream at its own step. A member's slice of the
stacked step is the same computation at any K, so its results are those of the uncompacted
population; each rebuild compiles the (K-independent) step once more, so a population of K
compiles at most 1 + log₂K times.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from fgan_bench.population.engine import PopulationTrainer, population_batches


def worth_compacting(active: int, size: int) -> bool:
    """Rebuild when the active members fit in half the stacked size (bounds recompiles by log₂K)."""
    return 0 < active <= size // 2


class LivePopulation:
    """The stacked step over the members still training, rebuilt smaller as members stop.

    Args:
        sessions: every member's :class:`~fgan_bench.runner.TrainingSession` (its trainer holds
            the member's state between rebuilds).
        runs: every member's resolved run, in the same order.
        members: the indices (into ``sessions``) of the members to train.
        steps: each member's step count so far (indexed like ``sessions``): where its stream starts.
    """

    def __init__(self, sessions: Sequence, runs: Sequence, members: Sequence[int], steps: Sequence[int]):
        self._sessions, self._runs = sessions, runs
        self._build(members, steps)

    def _build(self, members: Sequence[int], steps: Sequence[int]) -> None:
        from fgan_bench.runner import session_batches

        self.members = list(members)
        self._slot = {k: slot for slot, k in enumerate(self.members)}
        self.trainer = PopulationTrainer([self._sessions[k].gan for k in self.members])
        streams = [session_batches(dataclasses.replace(self._sessions[k], start_step=steps[k]), self._runs[k])
                   for k in self.members]
        self._batches = iter(population_batches(streams, self.trainer.real_slots, self.trainer.noise_slots))

    @property
    def size(self) -> int:
        return self.trainer.size

    def train(self, steps: int, members: Sequence[int]) -> None:
        """``steps`` steps, then ``members``' state (the active ones) copied into their own trainers."""
        self.trainer.reset_statistics()
        self.trainer.train(self._batches, steps)
        self.trainer.write_members([self._slot[k] for k in members])

    def member_logs(self, k: int) -> dict[str, float]:
        return self.trainer.member_logs(self._slot[k])

    def stop(self, k: int) -> None:
        self.trainer.deactivate(self._slot[k])

    def compact(self, active: Sequence[int], steps: Sequence[int]) -> bool:
        """Rebuilds over ``active`` when :func:`worth_compacting`; whether it did."""
        if not worth_compacting(len(active), self.size):
            return False
        self._build(sorted(active), steps)
        return True
