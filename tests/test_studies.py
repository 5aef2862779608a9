"""The protocol's studies: trial n's draws come from a sampler seeded by its number alone."""

import hashlib

import optuna
import pytest

from fgan_bench.sweeps.studies import TrialSeededSampler


def _draw(study, trial):
    return (trial.suggest_float("lr", 1e-5, 1e-2, log=True), trial.suggest_int("steps", 1, 5),
            trial.suggest_categorical("objective", ["saddle", "nonsaturating"]))


@pytest.mark.parametrize("kind", ["random", "tpe"])
def test_trial_seeded_sampler_draws_as_a_fresh_sampler_seeded_by_the_trial_number(kind):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=TrialSeededSampler(kind, "0/s/ring8/kl"))
    drawn = []
    for _ in range(3):
        trial = study.ask()
        drawn.append(_draw(study, trial))
        study.tell(trial, drawn[-1][0])
    # The sampler swapped in before every trial (what the protocol did before this sampler).
    reference = optuna.create_study()
    expected = []
    for number in range(3):
        seed = int.from_bytes(hashlib.sha256(f"0/s/ring8/kl/{number}".encode()).digest()[:4], "little")
        reference.sampler = (optuna.samplers.TPESampler if kind == "tpe" else optuna.samplers.RandomSampler)(seed=seed)
        trial = reference.ask()
        expected.append(_draw(reference, trial))
        reference.tell(trial, expected[-1][0])
    assert drawn == expected
    assert len(set(drawn)) == 3  # each trial its own seed


def test_a_trial_drawn_by_another_process_gets_the_same_parameters():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.InMemoryStorage()
    first = optuna.create_study(storage=storage, study_name="s", sampler=TrialSeededSampler("random", "k"))
    first.ask()  # trial 0, drawn by this process
    asked = first.ask()  # trial 1: asked, then its process dies before drawing
    drawn_by_first = _draw(first, optuna.trial.Trial(first, first.ask()._trial_id))  # trial 2, for contrast
    other = optuna.load_study(storage=storage, study_name="s", sampler=TrialSeededSampler("random", "k"))
    taken_over = _draw(other, optuna.trial.Trial(other, asked._trial_id))
    fresh = optuna.create_study(sampler=TrialSeededSampler("random", "k"))
    fresh.ask()
    assert taken_over == _draw(fresh, fresh.ask()) and taken_over != drawn_by_first
