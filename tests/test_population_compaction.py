"""Compaction: a population drops its stopped members; the others' results do not change."""

from __future__ import annotations

import pytest
from test_population import SMALL_RUN, _comparable

from fgan_bench.config import RunConfig

# Two members stop after 20 steps (one of them the only one with 3 critic steps), two go on to 60:
# after the first chunk 2 of 4 are active, so the population is rebuilt with 2 and 2 critic slots.
MEMBERS = ((20, 3, 1e-3), (20, 1, 5e-4), (60, 2, 2e-4), (60, 1, 1e-3))


def _configs():
    # one cheap metric: the test is about training; evaluation would be most of its time
    options = dict(SMALL_RUN, divergence="kl", schedule="alternating", metrics=("sliced_wasserstein",))
    return [RunConfig(**{**options, "steps": steps}, seed=seed, critic_steps=critic_steps, critic_lr=lr)
            for seed, (steps, critic_steps, lr) in enumerate(MEMBERS)]


@pytest.fixture
def sizes(monkeypatch):
    """The size of every stacked step built (the real trainer, recorded)."""
    from fgan_bench.population import compaction

    built = []

    class Recorded(compaction.PopulationTrainer):
        def __init__(self, gans, **options):
            built.append(len(gans))
            super().__init__(gans, **options)

    monkeypatch.setattr(compaction, "PopulationTrainer", Recorded)
    return built


def test_worth_compacting_once_the_active_members_fit_in_half():
    from fgan_bench.population.compaction import worth_compacting

    assert [worth_compacting(n, 16) for n in (0, 1, 8, 9, 16)] == [False, True, True, False, False]
    assert not worth_compacting(1, 1)


@pytest.mark.slow  # four populations of four members
def test_compacted_members_keep_their_uncompacted_results_and_resume_after_a_kill(tmp_path, monkeypatch, sizes):
    from fgan_bench.population import compaction, run_population, runs

    compacted = run_population(_configs(), tmp_path / "compacted", announce=False)
    assert sizes == [4, 2] and [r["status"] for r in compacted] == ["completed"] * 4

    calls = {"n": 0}
    original = runs._member_epoch_end

    def killed_in_the_compacted_population(*args):
        calls["n"] += 1
        if calls["n"] > 5:  # 4 first chunks, then one member's second chunk: the other is one behind
            raise KeyboardInterrupt
        return original(*args)

    monkeypatch.setattr(runs, "_member_epoch_end", killed_in_the_compacted_population)
    with pytest.raises(KeyboardInterrupt):
        run_population(_configs(), tmp_path / "parts", announce=False)
    monkeypatch.setattr(runs, "_member_epoch_end", original)
    resumed = run_population(_configs(), tmp_path / "parts", resume=True, announce=False)
    # resumed: only the two unfinished members stack; the one ahead finishes first, the last goes on alone
    assert sizes == [4, 2, 4, 2, 2, 1]

    monkeypatch.setattr(compaction, "worth_compacting", lambda active, size: False)
    whole = run_population(_configs(), tmp_path / "whole", announce=False)
    assert sizes[-1] == 4
    for a, c in zip(compacted, whole, strict=True):
        assert _comparable(a) == _comparable(c)  # the same arithmetic at K = 4 and K = 2
    for a, b in zip(compacted, resumed, strict=True):  # the last member went on alone: K = 1 rounds differently
        assert (a["status"], a["steps"]) == (b["status"], b["steps"])
        assert _values(b) == pytest.approx(_values(a), rel=1e-3, abs=1e-5, nan_ok=True)


def _values(result) -> dict:
    return {**(result.get("quality") or {}),
            **{k: v for k, v in result["final_metrics"].items() if k != "wall_time_s"}}


def test_compatible_runs_are_grouped_by_critic_steps_before_they_are_cut_into_populations():
    from fgan_bench.population import group_compatible

    options = dict(SMALL_RUN, schedule="alternating", population=2)
    mixed = [RunConfig(**options, seed=seed, critic_steps=steps).resolved()
             for seed, steps in enumerate((3, 1, 2, 1, 3, 2))]
    other = RunConfig(**{**options, "divergence": "kl"}, seed=9, critic_steps=1).resolved()
    groups = group_compatible([*mixed, other], 2)
    assert [[c.critic_steps for c in group] for group in groups] == [[1, 1], [2, 2], [3, 3], [1]]
    assert [c.seed for c in groups[0]] == [1, 3] and groups[-1] == [other]  # stable; kl apart
