"""The f-GAN trainer: objectives, schedules, learning, and tf.distribute equivalence."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from fgan_bench import get_divergence, losses
from fgan_bench.datasets import get_dataset, training_batches
from fgan_bench.distribute import make_strategy
from fgan_bench.models import build_models, dcgan_critic, dcgan_generator
from fgan_bench.objectives import resolve
from fgan_bench.trainer import FGAN, LOGGED, StepMeans


def test_losses_are_the_f_gan_objective():
    kl = get_divergence("kl")
    v_real, v_fake = tf.constant([0.5, 1.0]), tf.constant([-1.0, 2.0])
    expected = v_real.numpy() - np.exp(v_fake.numpy() - 1)
    np.testing.assert_allclose(losses.variational_estimate(kl, v_real, v_fake), expected, rtol=1e-6)
    np.testing.assert_allclose(losses.critic_loss(kl, v_real, v_fake), -expected, rtol=1e-6)
    np.testing.assert_allclose(losses.generator_loss(kl, v_fake, "saddle"), -np.exp(v_fake.numpy() - 1), rtol=1e-6)
    np.testing.assert_allclose(losses.generator_loss(kl, v_fake, "nonsaturating"), -v_fake.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="objective"):
        losses.generator_loss(kl, v_fake, "minimax")


def test_models_output_raw_critic_values_and_data_shapes():
    generator, critic = build_models("mlp", kind="vector", shape=(2,), latent_dim=4, width=8, depth=2, filters=0)
    assert generator(tf.zeros((3, 4))).shape == (3, 2) and critic(tf.zeros((3, 2))).shape == (3, 1)
    assert critic.layers[-1].activation.__name__ == "linear"
    g, c = dcgan_generator(8, (8, 8, 1), 8), dcgan_critic((8, 8, 1), 8)
    image = g(tf.random.normal((2, 8)))
    assert image.shape == (2, 8, 8, 1) and float(tf.reduce_max(tf.abs(image))) <= 1.0
    assert c(image).shape == (2, 1)
    linear, _ = build_models("linear", kind="vector", shape=(1,), latent_dim=1, width=0, depth=0, filters=0)
    np.testing.assert_allclose(linear(tf.constant([[0.0], [1.0]])).numpy(), [[0.0], [1.0]])  # μ = 0, σ = 1


def _trainer(
    divergence="kl", schedule="simultaneous", critic_steps=1, objective="saddle", lr=1e-3, width=32, generator_lr=None
):
    keras.utils.set_random_seed(0)
    generator, critic = build_models("mlp", kind="vector", shape=(2,), latent_dim=8, width=width, depth=2, filters=0)
    gan = FGAN(
        generator, critic, get_divergence(divergence), schedule=schedule, critic_steps=critic_steps, objective=objective
    )
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(lr if generator_lr is None else generator_lr),
        critic_optimizer=keras.optimizers.Adam(lr),
        steps_per_execution=10,
    )
    return gan


def _data(gan, seed=0):
    return training_batches(
        get_dataset("ring8"),
        batch_size=64,
        real_slots=gan.real_slots,
        noise_slots=gan.noise_slots,
        latent_dim=8,
        seed=seed,
    )


@pytest.mark.parametrize("divergence", ["kl", "reverse_kl", "gan", "squared_hellinger"])
def test_critic_against_a_fixed_generator_learns_the_variational_bound(divergence):
    gan = _trainer(divergence, generator_lr=0.0)
    generator_weights = [w.numpy().copy() for w in gan.generator.weights]
    history = gan.fit(_data(gan), epochs=3, steps_per_epoch=100, verbose=0, shuffle=False).history
    for key in ("critic_loss", "generator_loss", "t_real", "t_fake", "critic_grad_norm", "generator_grad_norm"):
        assert np.isfinite(history[key][-1])
    estimate = history["divergence_estimate"]
    assert estimate[-1] > estimate[0]
    # The ring and the untrained generator's blob barely overlap: F climbs well above its value at P = Q.
    at_equality = get_divergence(divergence).f_at_1
    assert estimate[-1] > at_equality + 0.3
    assert history["t_real"][-1] > history["t_fake"][-1]
    assert int(gan.steps_done) == 300
    for before, after in zip(generator_weights, gan.generator.weights):
        np.testing.assert_array_equal(before, after.numpy())


def test_generator_moves_towards_the_data():
    gan = _trainer("jensen_shannon", lr=2e-4)
    ring = get_dataset("ring8")
    radius_before = np.linalg.norm(gan.generator(tf.random.normal((500, 8))).numpy(), axis=1).mean()
    gan.fit(_data(gan), epochs=4, steps_per_epoch=250, verbose=0, shuffle=False)
    radius_after = np.linalg.norm(gan.generator(tf.random.normal((500, 8))).numpy(), axis=1).mean()
    assert abs(radius_after - 2.0) < abs(radius_before - 2.0) and ring.modes is not None


@pytest.mark.parametrize("objective", ["saddle", "nonsaturating"])
def test_alternating_schedule_makes_k_critic_updates_per_generator_update(objective):
    gan = _trainer("gan", schedule="alternating", critic_steps=3, objective=objective)
    assert gan.real_slots == 3 and gan.noise_slots == 4
    gan.fit(_data(gan), epochs=1, steps_per_epoch=20, verbose=0, shuffle=False)
    assert int(gan.critic_optimizer.iterations) == 60 and int(gan.generator_optimizer.iterations) == 20


def test_call_accepts_noise_or_a_training_element():
    gan = _trainer()
    element = next(iter(_data(gan)))
    assert gan(element).shape == (64, 2) and gan(element["noise"][:, 0]).shape == (64, 2)


@pytest.mark.parametrize(
    ("schedule", "critic_steps", "clip"),
    [("simultaneous", 1, None), ("alternating", 2, None), ("simultaneous", 1, 1e-2)],
)
def test_mirrored_strategy_step_equals_default_strategy(schedule, critic_steps, clip):
    """One training step under MirroredStrategy on two logical CPUs = the default strategy, to 1e-5;
    with a global clip norm too (clipped after summing the replicas' gradients, as on one device)."""

    def optimizer():
        return keras.optimizers.SGD(0.1, global_clipnorm=clip) if clip else keras.optimizers.Adam(1e-3)

    weights = {}
    for name in ("default", "mirrored"):
        strategy = make_strategy(name)
        with strategy.scope():
            gan = _trainer(schedule=schedule, critic_steps=critic_steps)
            gan.compile(generator_optimizer=optimizer(), critic_optimizer=optimizer(), steps_per_execution=1)
        gan.fit(_data(gan), epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)
        weights[name] = (strategy.num_replicas_in_sync, [w.numpy() for w in gan.generator.weights + gan.critic.weights])
    assert weights["default"][0] == 1 and weights["mirrored"][0] == 2
    initial = _trainer(schedule=schedule, critic_steps=critic_steps)
    moved = max(
        float(np.max(np.abs(a - b.numpy())))
        for a, b in zip(weights["default"][1], initial.generator.weights + initial.critic.weights)
    )
    assert moved > 1e-4  # the step changed the weights, so equality below is not vacuous
    for a, b in zip(weights["default"][1], weights["mirrored"][1]):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_jit_gradients_give_the_same_step():
    results = []
    for jit in (False, True):
        keras.utils.set_random_seed(0)
        generator, critic = build_models("mlp", kind="vector", shape=(2,), latent_dim=8, width=16, depth=1, filters=0)
        gan = FGAN(generator, critic, get_divergence("jensen_shannon"), jit_gradients=jit)
        gan.compile(generator_optimizer=keras.optimizers.Adam(1e-3), critic_optimizer=keras.optimizers.Adam(1e-3))
        gan.fit(_data(gan), epochs=1, steps_per_epoch=3, verbose=0, shuffle=False)
        results.append([w.numpy() for w in gan.weights])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, atol=1e-5)


def _step_op_types(gan) -> set[str]:
    """The op types of one traced training step, with the functions it calls."""
    graph = tf.function(gan.train_step).get_concrete_function(next(iter(_data(gan)))).graph.as_graph_def()
    return {node.op for node in graph.node} | {node.op for f in graph.library.function for node in f.node_def}


def test_f_gan_step_holds_no_penalty_randomness_and_no_run_time_assert():
    """The objective adds its own critic terms: an f-GAN none (no random draw in its step), WGAN-GP its
    interpolation draw; and the losses are scaled without tf.nn.compute_average_loss's asserts."""
    f_gan_ops = _step_op_types(_trainer("gan"))
    assert not {op for op in f_gan_ops if "Random" in op or op == "Assert"}
    keras.utils.set_random_seed(0)
    generator, critic = build_models("mlp", kind="vector", shape=(2,), latent_dim=8, width=8, depth=1, filters=0)
    wgan = FGAN(generator, critic, resolve("wgan_gp"), schedule="alternating", critic_steps=2)
    wgan.compile(generator_optimizer=keras.optimizers.Adam(1e-3), critic_optimizer=keras.optimizers.Adam(1e-3))
    assert any("Random" in op for op in _step_op_types(wgan))


def test_step_means_log_each_statistic_averaged_over_the_steps():
    means = StepMeans(("a", "b"))
    for a, b in [(1.0, 10.0), (2.0, 20.0), (6.0, 0.0)]:
        means.update_state({"a": tf.constant(a), "b": tf.constant(b)})
    assert {k: float(v) for k, v in means.result().items()} == pytest.approx({"a": 3.0, "b": 10.0})
    means.reset_state()
    assert float(means.result()["a"]) == 0.0
    gan = _trainer()
    history = gan.fit(_data(gan), epochs=2, steps_per_epoch=10, verbose=0, shuffle=False)
    assert set(history.history) == set(LOGGED) and all(np.isfinite(v).all() for v in history.history.values())
