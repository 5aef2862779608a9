"""Population training: K runs in one compiled step, each member equal to its single run."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fgan_bench.config import RunConfig

MIXED = (  # learning rates, betas, clip norms and objectives differ between members
    dict(seed=1, generator_lr=2e-4, critic_lr=3e-4, beta1=0.5, beta2=0.999, clip_norm=1.0, objective="saddle"),
    dict(seed=2, generator_lr=1e-3, critic_lr=5e-4, beta1=0.0, beta2=0.9, clip_norm=0.0, objective="nonsaturating"),
    dict(seed=3, generator_lr=5e-4, critic_lr=1e-3, beta1=0.9, beta2=0.99, clip_norm=0.5,
         objective="maximum_likelihood"),
    dict(seed=4, generator_lr=3e-4, critic_lr=2e-4, beta1=0.5, beta2=0.999, clip_norm=2.0, objective="log_ratio"),
)


def _configs(base: RunConfig, members=MIXED):
    return [dataclasses.replace(base, **member).resolved() for member in members]


def _single_run_weights(config, steps):
    import keras
    import tensorflow as tf

    from fgan_bench.build import build_trainer
    from fgan_bench.datasets import get_dataset, training_batches

    keras.utils.set_random_seed(config.seed)
    dataset = get_dataset(config.dataset)
    gan = build_trainer(config, tf.distribute.get_strategy(), dataset)
    data = training_batches(dataset, batch_size=config.batch_size, real_slots=gan.real_slots,
                            noise_slots=gan.noise_slots, latent_dim=gan.latent_dim, seed=config.seed)
    gan.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    return [v.numpy() for v in gan.generator.variables + gan.critic.variables]


def _population_weights(configs, steps):
    import keras
    import tensorflow as tf

    from fgan_bench.build import build_trainer
    from fgan_bench.datasets import get_dataset, training_batches
    from fgan_bench.population import PopulationTrainer, population_batches

    gans = []
    for config in configs:
        keras.utils.set_random_seed(config.seed)
        gans.append(build_trainer(config, tf.distribute.get_strategy(), get_dataset(config.dataset)))
    population = PopulationTrainer(gans)
    streams = [training_batches(get_dataset(c.dataset), batch_size=c.batch_size, real_slots=g.real_slots,
                                noise_slots=g.noise_slots, latent_dim=g.latent_dim, seed=c.seed)
               for c, g in zip(configs, gans, strict=True)]
    data = iter(population_batches(streams, population.real_slots, population.noise_slots))
    population.train(data, steps)
    population.write_members()
    return [[v.numpy() for v in g.generator.variables + g.critic.variables] for g in gans]


def _relative_error(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-12))


def _assert_members_equal_single_runs(configs, steps=50):
    population = _population_weights(configs, steps)
    for config, member in zip(configs, population, strict=True):
        single = _single_run_weights(config, steps)
        errors = [_relative_error(m, s) for m, s in zip(member, single, strict=True)]
        assert max(errors) < 1e-4, (config.objective, errors)
        assert any(_relative_error(m, s) > 1e-3 for m, s in zip(member, population[0], strict=True)) or \
            config is configs[0]  # members differ from each other: the test compares something


def test_mlp_population_members_equal_their_single_runs():
    base = RunConfig(divergence="gan", dataset="ring8", model="mlp", width=32, depth=2, batch_size=64, steps=30,
                     jit=True)
    _assert_members_equal_single_runs(_configs(base), steps=30)


def test_alternating_members_with_different_critic_steps_equal_their_single_runs():
    base = RunConfig(divergence="kl", dataset="ring8", model="mlp", width=16, depth=1, batch_size=32, steps=30,
                     steps_per_execution=30, schedule="alternating", jit=True)
    members = [dict(MIXED[i], critic_steps=steps) for i, steps in ((0, 1), (1, 3), (2, 2))]
    _assert_members_equal_single_runs(_configs(base, members), steps=30)


@pytest.mark.slow  # five DCGAN trainings of 20 steps
def test_dcgan_population_members_equal_their_single_runs():
    base = RunConfig(divergence="gan", dataset="digits", model="dcgan", filters=8, batch_size=16, steps=20,
                     latent_dim=16, jit=True)
    _assert_members_equal_single_runs(_configs(base), steps=20)


SMALL_RUN = dict(divergence="gan", dataset="ring8", model="mlp", width=16, depth=1, batch_size=32, steps=60,
                 log_every=20, steps_per_execution=20, num_samples=300)


def _comparable(result):
    """result.json without what depends on the clock, as JSON (NaN equals NaN there)."""
    import json

    kept = {"status": result["status"], "steps": result["steps"], "quality": result.get("quality"),
            "final_metrics": {k: v for k, v in result["final_metrics"].items() if k != "wall_time_s"}}
    return json.dumps(kept, sort_keys=True)


def test_members_are_ordinary_runs_and_a_killed_population_resumes_to_the_same_results(tmp_path, monkeypatch):
    from fgan_bench import rundir
    from fgan_bench.population import run_population, runs

    configs = [RunConfig(**SMALL_RUN, seed=seed, critic_lr=lr) for seed, lr in ((1, 2e-4), (2, 1e-3), (3, 5e-4))]
    whole = run_population(configs, tmp_path / "whole")
    for config, result in zip(configs, whole, strict=True):
        directory = rundir.run_path(tmp_path / "whole", config.resolved().run_id)
        for name in (rundir.CONFIG, rundir.METRICS, rundir.CHECKPOINT, rundir.SAMPLES, rundir.RESULT):
            assert (directory / name).exists(), name
        assert rundir.read_result(directory) == json_round_trip(result)
        assert rundir.read_history(directory)["step"].tolist() == [20, 40, 60]

    calls = {"n": 0}
    original = runs._member_epoch_end

    def killed_after_four_member_chunks(*args):
        calls["n"] += 1
        if calls["n"] > 4:  # three members' first chunk and one member's second: uneven checkpoints
            raise KeyboardInterrupt
        return original(*args)

    monkeypatch.setattr(runs, "_member_epoch_end", killed_after_four_member_chunks)
    with pytest.raises(KeyboardInterrupt):
        run_population(configs, tmp_path / "parts")
    monkeypatch.setattr(runs, "_member_epoch_end", original)
    with pytest.raises(Exception, match="--resume"):
        run_population(configs, tmp_path / "parts")
    resumed = run_population(configs, tmp_path / "parts", resume=True)
    for a, b in zip(whole, resumed, strict=True):
        assert _comparable(a) == _comparable(b)


def json_round_trip(value):
    import json

    return json.loads(json.dumps(value.to_json()))  # a RunResult: result.json's content


def _population_of(size, **options):
    import keras
    import tensorflow as tf

    from fgan_bench.build import build_trainer
    from fgan_bench.datasets import get_dataset
    from fgan_bench.population import PopulationTrainer

    gans = []
    for seed in range(size):
        config = RunConfig(divergence="gan", dataset="ring8", seed=seed, **options).resolved()
        keras.utils.set_random_seed(seed)
        gans.append(build_trainer(config, tf.distribute.get_strategy(), get_dataset("ring8")))
    return PopulationTrainer(gans)


def _step_op_count(population):
    import tensorflow as tf

    k, slots = population.size, population.real_slots
    spec = {"real": tf.TensorSpec([k, 32, slots, 2]), "noise": tf.TensorSpec([k, 32, population.noise_slots, 16])}
    return len(population.step.get_concrete_function(spec).graph.get_operations())


@pytest.mark.parametrize("schedule", ["simultaneous", "alternating"])
def test_the_compiled_step_has_the_same_op_count_for_2_and_16_members(schedule):
    options = dict(model="mlp", width=8, depth=1, schedule=schedule, critic_steps=2 if schedule == "alternating" else 1)
    counts = [_step_op_count(_population_of(size, **options)) for size in (2, 16)]
    assert counts[0] == counts[1] and counts[0] > 50


def test_a_diverging_member_is_recorded_and_does_not_poison_the_others(tmp_path):
    from fgan_bench.population import run_population
    from fgan_bench.runner import run

    options = dict(SMALL_RUN, divergence="kl", optimizer="sgd", steps=100)
    exploding = RunConfig(**options, seed=1, critic_lr=1e6, generator_lr=1e6)
    healthy = RunConfig(**options, seed=2, critic_lr=1e-3, generator_lr=1e-3)
    diverged, completed = run_population([exploding, healthy], tmp_path / "population")
    assert diverged["status"] == "diverged" and 0 < diverged["diverged"]["step"] <= 100
    assert completed["status"] == "completed"
    single = run(healthy, tmp_path / "single", progress=False)
    for name, value in single["final_metrics"].items():
        if name != "wall_time_s":
            assert completed["final_metrics"][name] == pytest.approx(value, rel=1e-3, abs=1e-5), name


def test_sweep_tasks_group_compatible_runs_into_populations():
    from fgan_bench.sweeps.execute import _tasks

    configs = [RunConfig(**SMALL_RUN, seed=s, population=2).resolved() for s in range(3)]
    other = RunConfig(**{**SMALL_RUN, "divergence": "kl"}, seed=0, population=2).resolved()
    alone = RunConfig(**SMALL_RUN, seed=9).resolved()
    tasks = _tasks([*configs, other, alone])
    assert alone in tasks and (configs[0], configs[1]) in tasks and configs[2] in tasks and other in tasks
    assert len(tasks) == 4  # the kl run does not join a gan population


def test_populations_are_cut_evenly_and_give_every_job_one():
    from fgan_bench.population import group_compatible
    from fgan_bench.sweeps.execute import _tasks

    twenty = [RunConfig(**SMALL_RUN, seed=s, population=16).resolved() for s in range(20)]
    assert [len(g) for g in group_compatible(twenty, 16)] == [10, 10]  # not 16 and 4
    assert [len(g) for g in group_compatible(twenty[:5], 16, at_least=2)] == [3, 2]  # one per job
    assert [len(g) for g in group_compatible(twenty[:2], 16, at_least=4)] == [1, 1]  # never an empty one
    assert [c.seed for g in group_compatible(twenty, 16, at_least=3) for c in g] == list(range(20))  # in order
    other = RunConfig(**{**SMALL_RUN, "divergence": "kl"}, seed=0, population=16).resolved()
    tasks = _tasks([*twenty[:3], other], jobs=2)
    assert tasks == [tuple(twenty[:3]), other]  # largest first; two tasks already fill two jobs
    assert [len(t) if isinstance(t, tuple) else 1 for t in _tasks([*twenty[:3], other], jobs=3)] == [2, 1, 1]


def test_confirmation_runs_are_handed_out_a_population_per_job(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from fgan_bench.sweeps import execute as execute_module
    from fgan_bench.sweeps.protocol import _confirm

    given = []

    def execute(configs, sweep_dir, **options):
        given.append([c.seed for c in configs])
        return [{"run_id": c.run_id, "status": "completed"} for c in configs]

    monkeypatch.setattr(execute_module, "execute", execute)
    search = SimpleNamespace(sweep_dir=tmp_path, hold=lambda config: True, release=lambda: None)
    progress = SimpleNamespace(update=lambda *args, **kwargs: None)
    confirm = [RunConfig(**SMALL_RUN, seed=s, population=3).resolved() for s in range(7)]
    outcomes = _confirm(search, confirm, 2, "local", progress, poll_seconds=0)
    assert given == [list(range(6)), [6]] and len(outcomes) == 7  # two populations of 3 at once, then the last
    given.clear()
    _confirm(search, [dataclasses.replace(c, population=1) for c in confirm[:3]], 2, "local", progress, 0)
    assert given == [[0, 1], [2]]  # one run per job without populations


@pytest.mark.slow  # a sweep's worker process starts TensorFlow
def test_a_sweep_with_population_trains_its_runs_as_ordinary_runs(tmp_path):
    from fgan_bench import rundir
    from fgan_bench.sweeps import run_sweep

    sweep = tmp_path / "pop.toml"
    sweep.write_text('[sweep]\nname = "pop"\ndatasets = ["ring8"]\ndivergences = ["gan"]\nseeds = [0, 1, 2]\n'
                     '[defaults]\nmodel = "mlp"\nwidth = 16\ndepth = 1\nbatch_size = 32\nsteps = 40\nlog_every = 20\n'
                     'steps_per_execution = 20\nnum_samples = 300\n')
    assert run_sweep(sweep, out=tmp_path, report=False, population=3) == 0
    runs = sorted((tmp_path / "pop" / "runs").iterdir())
    assert len(runs) == 3
    assert all(rundir.read_result(r)["status"] == "completed" for r in runs)
    assert all(rundir.read_config(r).population == 3 for r in runs)


def test_a_layer_without_a_stacked_rule_is_named_and_a_registered_rule_stacks_it():
    import keras

    from fgan_bench.population import NotStackable, register_stacked_layer, stack_network
    from fgan_bench.population.stacked import STACKED_RULES

    class Doubling(keras.layers.Layer):
        def call(self, x):
            return 2.0 * x

    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(Doubling(name="doubling")(inputs)))
    with pytest.raises(NotStackable, match="doubling.*Doubling.*register_stacked_layer"):
        stack_network(model)
    register_stacked_layer(Doubling, lambda layer, value, x, training: (layer.call(x), {}))
    try:
        stacked = stack_network(model)
        kernel, bias = (v.numpy() for v in model.trainable_variables)
        x = np.ones((2, 4, 3), np.float32)
        y, _ = stacked([np.stack([kernel, kernel]), np.stack([bias, bias])], [], x, training=True)
        np.testing.assert_allclose(y.numpy()[1], model(x[1]).numpy(), rtol=1e-6)
    finally:
        STACKED_RULES.pop(Doubling)


def test_baselines_and_labelled_runs_fall_back_to_one_run_per_step_with_a_reason():
    from fgan_bench.population.runs import stackable_reason

    def resolved(**options):
        return RunConfig(**{"steps": 100, "dataset": "ring8", **options}).resolved()

    assert stackable_reason([resolved(divergence="kl", seed=0), resolved(divergence="kl", seed=1)]) is None
    assert "baselines" in stackable_reason([resolved(divergence="hinge", seed=0), resolved(divergence="hinge", seed=1)])
    assert "conditional" in stackable_reason([resolved(divergence="kl", conditional=True, seed=s) for s in (0, 1)])
