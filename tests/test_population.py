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

    from fgan_bench.datasets import get_dataset, training_batches
    from fgan_bench.trainer import build_trainer

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

    from fgan_bench.datasets import get_dataset, training_batches
    from fgan_bench.population import PopulationTrainer, population_batches
    from fgan_bench.trainer import build_trainer

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
    base = RunConfig(divergence="gan", dataset="ring8", model="mlp", width=32, depth=2, batch_size=64, steps=50,
                     jit=True)
    _assert_members_equal_single_runs(_configs(base))


def test_dcgan_population_members_equal_their_single_runs():
    base = RunConfig(divergence="gan", dataset="digits", model="dcgan", filters=8, batch_size=16, steps=50,
                     latent_dim=16, jit=True)
    _assert_members_equal_single_runs(_configs(base))
