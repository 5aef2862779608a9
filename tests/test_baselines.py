"""Non-f baselines (WGAN-GP, hinge, LSGAN): their losses, the gradient penalty against finite differences,
LSGAN's Pearson χ² claim by quadrature, their registry and checks, configs, listings, training on ring8 and
tf.distribute equivalence."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import integrate, stats

from fgan_bench import cli, get_baseline, objectives, register_baseline, unregister_baseline
from fgan_bench.baselines import Baseline, is_baseline
from fgan_bench.baselines.builtin import least_squares_generator_loss
from fgan_bench.baselines.penalty import gradient_norms, interpolates, penalty_at
from fgan_bench.config import RunConfig
from fgan_bench.datasets import get_dataset, training_batches
from fgan_bench.distribute import make_strategy
from fgan_bench.errors import ConfigError, RegistrationError, SpecError
from fgan_bench.metrics.samples import mmd2
from fgan_bench.models import build_models
from fgan_bench.trainer import FGAN


def test_losses_are_the_published_formulas():
    v_real, v_fake = np.array([0.5, -2.0, 3.0]), np.array([-1.0, 2.0, 0.2])
    wgan, hinge, lsgan = get_baseline("wgan_gp"), get_baseline("hinge"), get_baseline("lsgan:a=-1,b=1,c=0")
    np.testing.assert_allclose(wgan.critic_losses(v_real, v_fake), v_fake - v_real)
    np.testing.assert_allclose(wgan.generator_losses(v_fake), -v_fake)
    np.testing.assert_allclose(wgan.estimate(v_real, v_fake), v_real - v_fake)
    np.testing.assert_allclose(hinge.critic_losses(v_real, v_fake),
                               np.maximum(0, 1 - v_real) + np.maximum(0, 1 + v_fake))
    np.testing.assert_allclose(hinge.generator_losses(v_fake), -v_fake)
    np.testing.assert_allclose(lsgan.critic_losses(v_real, v_fake), 0.5 * (v_real - 1) ** 2 + 0.5 * (v_fake + 1) ** 2)
    np.testing.assert_allclose(lsgan.generator_losses(v_fake), 0.5 * v_fake**2)
    default = get_baseline("lsgan")  # a = 0, b = c = 1
    np.testing.assert_allclose(default.generator_losses(v_fake), 0.5 * (v_fake - 1) ** 2)
    assert hinge.critic_penalty(None, None, None) == 0.0 and get_baseline("wgan_gp:gp=0").critic_penalty(0, 0, 0) == 0


def _float64_critic(seed=3):
    keras.utils.set_random_seed(seed)
    layers = [keras.layers.Dense(16, activation="tanh", dtype="float64"),
              keras.layers.Dense(16, activation="softplus", dtype="float64"), keras.layers.Dense(1, dtype="float64")]
    return keras.Sequential([keras.Input((3,), dtype="float64"), *layers])


def test_gradient_penalty_matches_a_finite_difference_gradient_norm():
    critic = _float64_critic()
    points = np.random.default_rng(0).normal(size=(7, 3))

    def v(x):
        return critic(x).numpy()[:, 0]

    step = 1e-5
    finite = np.stack([(v(points + step * e) - v(points - step * e)) / (2 * step) for e in np.eye(3)], axis=1)
    norms = np.linalg.norm(finite, axis=1)
    np.testing.assert_allclose(gradient_norms(critic, points).numpy(), norms, rtol=1e-6)
    np.testing.assert_allclose(penalty_at(critic, points, 10.0).numpy(), 10.0 * (norms - 1) ** 2, rtol=1e-5)
    # A known critic: V(x) = 3·x₀ has gradient norm 3 everywhere, so the penalty is λ·(3 − 1)² = 4λ.
    np.testing.assert_allclose(penalty_at(lambda x: 3.0 * x[:, :1], points, 10.0).numpy(), np.full(7, 40.0))


def test_interpolates_lie_on_the_segments_with_one_uniform_weight_per_example():
    real, fake = np.zeros((2000, 4, 4, 1), np.float32), np.ones((2000, 4, 4, 1), np.float32)
    mixed = interpolates(real, fake, seed=(1, 2)).numpy()
    weights = mixed.reshape(2000, -1)
    assert np.ptp(weights, axis=1).max() == 0  # one ε per image, shared by its pixels
    epsilon = 1 - weights[:, 0]
    assert stats.kstest(epsilon, "uniform").pvalue > 1e-3 and 0 <= epsilon.min() and epsilon.max() <= 1
    np.testing.assert_array_equal(interpolates(real, fake, seed=(1, 2)), mixed)  # stateless: the seed decides


def test_lsgan_with_b_minus_c_1_and_b_minus_a_2_minimises_pearson_chi2():
    """Mao et al.'s Theorem 1, by quadrature with the optimal critic D* = (b·p + a·q)/(p + q): the generator's
    ½E_P[(D* − c)²] + ½E_Q[(D* − c)²] = Pearson χ²(Q‖M) = ∫(q − m)²/m, M = (P + Q)/2
    (Mao's "χ²_Pearson(P + Q ‖ 2Q)" is twice it, in his argument order); the common a = 0, b = c = 1 is not it."""
    p, q = stats.norm(0.0, 1.0).pdf, stats.norm(1.0, 1.3).pdf

    def generator_value(a, b, c):
        def integrand(x):
            optimal = (b * p(x) + a * q(x)) / (p(x) + q(x))
            return (p(x) + q(x)) * float(least_squares_generator_loss(np.array([optimal]), a, b, c)[0])

        return integrate.quad(integrand, -30, 30, limit=200)[0]

    def m(x):
        return (p(x) + q(x)) / 2

    pearson = integrate.quad(lambda x: (q(x) - m(x)) ** 2 / m(x), -30, 30, limit=200)[0]
    assert pearson > 0.05
    assert generator_value(-1.0, 1.0, 0.0) == pytest.approx(pearson, rel=1e-6)
    assert generator_value(-2.0, 0.0, -1.0) == pytest.approx(pearson, rel=1e-6)  # any b − c = 1, b − a = 2
    assert generator_value(0.0, 1.0, 1.0) != pytest.approx(pearson, rel=1e-2)


def test_specs_parameters_and_one_line_errors():
    assert get_baseline("lsgan:a=-1,b=1,c=0").spec == "lsgan:a=-1,b=1,c=0"
    assert get_baseline("lsgan:a=0,b=1,c=1").spec == "lsgan"  # the defaults are the bare name
    assert get_baseline("wgan-gp:gp=1").values == {"gp": 1.0} and get_baseline("wgan-gp").spec == "wgan_gp"
    with pytest.raises(SpecError, match="has no parameter 'd'"):
        get_baseline("lsgan:d=1")
    with pytest.raises(SpecError, match="must be a number"):
        get_baseline("wgan_gp:gp=ten")
    assert is_baseline("hinge") and is_baseline("lsgan:a=1") and not is_baseline("kl") and not is_baseline("")
    assert isinstance(objectives.resolve("kl"), objectives.Divergence) and objectives.resolve("hinge").is_baseline


def _plugin_loss(v_real, v_fake, margin: float = 1.0):
    return tf.nn.softplus(margin - v_real) + tf.nn.softplus(margin + v_fake)


def test_plugins_register_through_the_checks_and_share_the_divergence_names():
    soft = Baseline("soft_hinge", "softplus hinge", _plugin_loss, lambda v, margin=1.0: -v,
                    parameters=(("margin", 1.0),))
    try:
        assert register_baseline(soft) is soft and get_baseline("soft_hinge:margin=2").values == {"margin": 2.0}
        assert "soft_hinge[:margin=1]" in cli_output(["list", "baselines"])
    finally:
        unregister_baseline("soft_hinge")
    backwards = Baseline("backwards", "critic trains backwards", lambda r, f: r - f, lambda v: -v)
    with pytest.raises(RegistrationError, match=r"refused by its checks: critic_separates failed"):
        register_baseline(backwards)
    broken = Baseline("broken", "one loss per batch", lambda r, f: tf.reduce_mean(f - r), lambda v: -v)
    with pytest.raises(RegistrationError, match="per_example failed"):
        register_baseline(broken)
    import dataclasses

    from fgan_bench import get_divergence, register_divergence

    with pytest.raises(RegistrationError, match="'hinge' names a baseline"):
        register_divergence(dataclasses.replace(get_divergence("kl"), name="hinge", aliases=()))
    with pytest.raises(RegistrationError, match="'kl' names a divergence"):
        register_baseline(Baseline("kl", "clash", _plugin_loss, lambda v, margin=1.0: -v,
                                   parameters=(("margin", 1.0),)))


def cli_output(argv):
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert cli.main(argv) == 0
    return buffer.getvalue()


def test_list_shows_baselines_beside_the_divergences_marked():
    listing = cli_output(["list", "divergences"])
    for name in ("wgan_gp[:gp=10]", "hinge", "lsgan[:a=0,b=1,c=1]"):
        line = next(line for line in listing.splitlines() if line.startswith(name + " "))
        assert "baseline: not an f-divergence" in line
    assert listing.index("reverse_kl") < listing.index("wgan_gp")
    assert "critic_steps=5" in cli_output(["list", "baselines"])


def test_configs_take_the_published_settings_unless_the_user_sets_them():
    config = RunConfig(divergence="wgan_gp", dataset="ring8").resolved()
    assert (config.schedule, config.critic_steps, config.beta1, config.beta2) == ("alternating", 5, 0.0, 0.9)
    assert config.generator_lr == config.critic_lr == 1e-4 and config.run_id.startswith("ring8-wgan_gp-s0-")
    mine = RunConfig(divergence="wgan_gp", dataset="ring8", critic_steps=2, beta1=0.5).resolved()
    assert (mine.schedule, mine.critic_steps, mine.beta1) == ("alternating", 2, 0.5)
    f_gan = RunConfig(divergence="kl", dataset="ring8").resolved()
    assert (f_gan.schedule, f_gan.critic_steps, f_gan.beta1, f_gan.beta2) == ("simultaneous", 1, 0.5, 0.999)
    assert RunConfig(divergence="lsgan:a=-1,b=1,c=0").resolved().divergence == "lsgan:a=-1,b=1,c=0"
    with pytest.raises(ConfigError, match="has its own generator loss; drop --objective"):
        RunConfig(divergence="hinge", objective="nonsaturating").resolved()


def _trainer(spec, lr=1e-3, width=32, published=True):
    """A small trainer; ``published``: with the baseline's published schedule (WGAN-GP: 5 critic steps)."""
    keras.utils.set_random_seed(0)
    generator, critic = build_models("mlp", kind="vector", shape=(2,), latent_dim=8, width=width, depth=2, filters=0)
    baseline = get_baseline(spec)
    schedule = baseline.run_defaults.get("schedule", "simultaneous") if published else "simultaneous"
    critic_steps = baseline.run_defaults.get("critic_steps", 1) if published else 1
    gan = FGAN(generator, critic, baseline, schedule=schedule, critic_steps=critic_steps)
    gan.compile(generator_optimizer=keras.optimizers.Adam(lr, beta_1=0.5),
                critic_optimizer=keras.optimizers.Adam(lr, beta_1=0.5), steps_per_execution=10)
    return gan


def _data(gan, seed=0):
    return training_batches(get_dataset("ring8"), batch_size=64, real_slots=gan.real_slots,
                            noise_slots=gan.noise_slots, latent_dim=8, seed=seed)


def _ring8_sample(size=1000, seed=0):
    ring = get_dataset("ring8")
    rng = np.random.default_rng(seed)
    return ring.modes[rng.integers(len(ring.modes), size=size)] + rng.normal(0, ring.mode_std, (size, 2))


@pytest.mark.parametrize("spec", ["wgan_gp", "hinge", "lsgan:a=-1,b=1,c=0"])
def test_baselines_train_on_ring8(spec):
    """300 generator steps (WGAN-GP: 1500 critic steps) take the generator well towards ring8 by MMD²
    (measured 0.54 → 0.17 WGAN-GP, 0.22 hinge, 0.22 LSGAN-Pearson, 0.009 LSGAN default)."""
    gan = _trainer(spec)
    noise, ring = tf.random.normal((1000, 8), seed=1), _ring8_sample()
    before = mmd2(ring, gan.generator(noise).numpy(), seed=0)
    history = gan.fit(_data(gan), epochs=2, steps_per_epoch=150, verbose=0, shuffle=False).history
    for key in ("critic_loss", "generator_loss", "divergence_estimate", "critic_grad_norm", "generator_grad_norm"):
        assert np.isfinite(history[key]).all(), key
    after = mmd2(ring, gan.generator(noise).numpy(), seed=0)
    assert after < 0.6 * before, (before, after)
    assert history["t_real"][-1] > history["t_fake"][-1]  # the critic scores real data higher
    assert int(gan.generator_optimizer.iterations) == 300
    assert int(gan.critic_optimizer.iterations) == 300 * gan.critic_steps
    assert FGAN.from_config(gan.get_config()).divergence == gan.divergence == get_baseline(spec)


@pytest.mark.parametrize("spec", ["hinge", "lsgan", "wgan_gp:gp=0"])
def test_mirrored_strategy_step_equals_default_strategy(spec):
    """Deterministic losses: one step under MirroredStrategy on two logical CPUs = the default strategy."""
    weights = {}
    for name in ("default", "mirrored"):
        strategy = make_strategy(name)
        with strategy.scope():
            gan = _trainer(spec, published=False)
            gan.compile(generator_optimizer=keras.optimizers.Adam(1e-3), critic_optimizer=keras.optimizers.Adam(1e-3),
                        steps_per_execution=1)
        gan.fit(_data(gan), epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)
        weights[name] = (strategy.num_replicas_in_sync, [w.numpy() for w in gan.weights])
    assert weights["mirrored"][0] == 2
    for a, b in zip(weights["default"][1], weights["mirrored"][1], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_the_gradient_penalty_trains_under_mirrored_strategy_and_changes_the_step():
    """The penalty's ε is random per replica, so equality is not expected; the step runs and differs from gp = 0."""
    weights = {}
    for spec in ("wgan_gp", "wgan_gp:gp=0"):
        with make_strategy("mirrored").scope():
            gan = _trainer(spec, published=False)
            gan.compile(generator_optimizer=keras.optimizers.Adam(1e-3), critic_optimizer=keras.optimizers.Adam(1e-3),
                        steps_per_execution=1)
        history = gan.fit(_data(gan), epochs=1, steps_per_epoch=1, verbose=0, shuffle=False).history
        assert np.isfinite(history["critic_loss"]).all()
        weights[spec] = [w.numpy() for w in gan.critic.weights]
    assert max(np.abs(a - b).max() for a, b in zip(*weights.values(), strict=True)) > 1e-6


class _InterruptAfter(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt


@pytest.mark.slow
def test_an_interrupted_wgan_gp_run_resumes_to_the_same_weights(tmp_path):
    """The penalty's ε is drawn from the critic's step count, which the checkpoint restores."""
    from test_runner import _weights  # tests/ is on sys.path (pytest's default import mode)

    from fgan_bench.runner import run, run_directory

    config = RunConfig(divergence="wgan_gp", steps=80, width=16, batch_size=32, log_every=20, steps_per_execution=20)
    run(config, tmp_path / "whole", progress=False)
    with pytest.raises(KeyboardInterrupt):
        run(config, tmp_path / "parts", progress=False, callbacks=(_InterruptAfter(),))
    assert run(config, tmp_path / "parts", resume=True, progress=False)["status"] == "completed"
    whole, parts = (run_directory(config.resolved(), tmp_path / name) for name in ("whole", "parts"))
    for a, b in zip(_weights(whole), _weights(parts), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


PROTOCOL = """[sweep]
name = "beside"
datasets = ["ring8"]
divergences = ["kl", "reverse_kl", "wgan_gp", "hinge", "lsgan"]
seeds = [0]

[defaults]
steps = 40
log_every = 20
steps_per_execution = 20
batch_size = 64
num_samples = 300
width = 16

[search]
trials = 1
seed = 0

[search.space]
generator_lr = { log_uniform = [1e-4, 1e-3] }
critic_lr = { same_as = "generator_lr" }

[confirm]
seeds = 1
"""


@pytest.mark.slow
def test_baselines_run_in_a_protocol_beside_two_divergences_and_the_report_marks_them(tmp_path):
    import html as html_module

    import pandas as pd

    path = tmp_path / "beside.toml"
    path.write_text(PROTOCOL)
    out = tmp_path / "out"
    assert cli.main(["sweep", str(path), "--out", str(out), "--jobs", "1"]) == 0
    sweep_dir = out / "beside"
    results = pd.read_csv(sweep_dir / "results.csv")
    finished = results[results["status"] == "completed"].drop_duplicates("run_id")
    assert sorted(set(finished["divergence"])) == ["hinge", "kl", "lsgan", "reverse_kl", "wgan_gp"]
    assert len(finished) == 5 * 2  # one trial and one confirmation seed each, under the same budget
    wgan = json_config(sweep_dir, finished, "wgan_gp")
    assert (wgan["critic_steps"], wgan["beta2"]) == (5, 0.9)  # published settings beside the searched options
    answer = pd.read_csv(sweep_dir / "answer.csv")
    labels = set(answer["divergence"])
    assert {"wgan_gp (baseline)", "hinge (baseline)", "lsgan (baseline)", "kl", "reverse_kl"} == labels
    html = html_module.unescape((sweep_dir / "report.html").read_text())
    assert all(f"{name} (baseline)" in html for name in ("wgan_gp", "hinge", "lsgan"))
    assert "kl (baseline)" not in html and "reverse_kl (baseline)" not in html


def json_config(sweep_dir, finished, divergence):
    import json

    run_id = finished.loc[finished["divergence"] == divergence, "run_id"].iloc[0]
    return json.loads((sweep_dir / "runs" / run_id / "config.json").read_text())
