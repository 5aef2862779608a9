"""Conditional f-GANs: the projection critic's bound is the f-GAN bound on the joints, the labelled
stream, the networks' label inputs, distributed steps, option errors, and a short run on digits."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from scipy import integrate, stats

from fgan_bench import get_divergence
from fgan_bench._lazy import tf
from fgan_bench.config import RunConfig
from fgan_bench.datasets import get_dataset
from fgan_bench.datasets.labels import class_count, labelled_training_batches, requested_labels
from fgan_bench.divergences.validation import evaluate_float64
from fgan_bench.errors import ConfigError
from fgan_bench.models.conditional import conditional_generator, projection_critic

# P(x, y) = p(y) N(x; μ_y, 1) and Q(x, y) = q(y) N(x; ν_y, τ_y²), three classes.
P_Y, MU = np.array([0.2, 0.3, 0.5]), np.array([-1.0, 0.5, 1.5])
Q_Y, NU, TAU = np.array([0.4, 0.35, 0.25]), np.array([-0.6, 0.2, 1.9]), np.array([1.2, 0.9, 1.1])

#: v*(s) = a·s + c, the exact critic's raw output as an affine function of s = log p(x, y)/q(x, y).
OPTIMAL_V_AFFINE = {
    "gan": (1.0, 0.0),
    "jensen_shannon": (1.0, 0.0),
    "reverse_kl": (1.0, 0.0),
    "kl": (1.0, 1.0),
    "squared_hellinger": (0.5, 0.0),
    "neyman": (2.0, 0.0),
}


def _log_ratio_coefficients() -> np.ndarray:
    """(b_y, a_y, c_y) with s(x, y) = b_y x + a_y x² + c_y, per class."""
    a = -0.5 + 0.5 / TAU**2
    b = MU - NU / TAU**2
    c = -0.5 * MU**2 + 0.5 * NU**2 / TAU**2 + np.log(TAU) + np.log(P_Y / Q_Y)
    return np.stack([b, a, c], axis=1)


def _exact_projection_critic(spec: str):
    """The projection critic with φ(x) = (x, x², 1) and weights making V(x, y) = v*(s(x, y)) exactly."""
    slope, offset = OPTIMAL_V_AFFINE[spec]
    data = keras.Input((1,))
    features = keras.layers.Lambda(lambda x: tf.concat([x, x**2, tf.ones_like(x)], axis=-1))(data)
    base = keras.Model(data, keras.layers.Dense(1, name="v")(features))
    critic = projection_critic(base, classes=3)
    base.get_layer("v").set_weights([np.zeros((3, 1)), np.array([offset])])
    critic.get_layer("class_projection").set_weights([slope * _log_ratio_coefficients()])
    return critic


def _joint_divergence(spec: str) -> float:
    """D_f(P_xy‖Q_xy) = Σ_y ∫ q(x, y) f(p(x, y)/q(x, y)) dx by Simpson's rule."""
    x = np.linspace(-14.0, 14.0, 28001)
    total = 0.0
    for y in range(3):
        log_p = np.log(P_Y[y]) + stats.norm.logpdf(x, MU[y], 1.0)
        log_q = np.log(Q_Y[y]) + stats.norm.logpdf(x, NU[y], TAU[y])
        integrand = np.exp(log_q) * evaluate_float64(get_divergence(spec).f, np.exp(log_p - log_q))
        total += integrate.simpson(integrand, x=x)
    return float(total)


def _bound(spec: str, critic) -> float:
    """E_P[g_f(V(x, y))] − E_Q[f*(g_f(V(x, y)))] by 80-node Gauss–Hermite per class."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    weights = weights / np.sqrt(2 * np.pi)
    divergence, bound = get_divergence(spec), 0.0
    for y in range(3):
        labels = np.full(len(nodes), y, np.int32)
        v_p = critic([(MU[y] + nodes)[:, None].astype(np.float32), labels]).numpy().astype(np.float64)[:, 0]
        v_q = critic([(NU[y] + TAU[y] * nodes)[:, None].astype(np.float32), labels]).numpy().astype(np.float64)[:, 0]
        t_p = np.asarray(divergence.activation(tf.constant(v_p)))
        f_star = np.asarray(divergence.conjugate_of_activation(tf.constant(v_q)))
        bound += P_Y[y] * np.sum(weights * t_p) - Q_Y[y] * np.sum(weights * f_star)
    return float(bound)


@pytest.mark.parametrize("spec", sorted(OPTIMAL_V_AFFINE))
def test_the_affine_critic_is_the_optimal_critic(spec):
    divergence = get_divergence(spec)
    slope, offset = OPTIMAL_V_AFFINE[spec]
    s = np.linspace(-5.0, 5.0, 21)
    t = evaluate_float64(divergence.activation, slope * s + offset)
    np.testing.assert_allclose(t, evaluate_float64(divergence.optimal_critic, np.exp(s)), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("spec", sorted(OPTIMAL_V_AFFINE))
def test_projection_critic_bound_equals_the_joint_divergence(spec):
    """At the exact optimal projection critic, the f-GAN bound is D_f(P_xy‖Q_xy), not a class-blind one."""
    critic = _exact_projection_critic(spec)
    joint = _joint_divergence(spec)
    assert _bound(spec, critic) == pytest.approx(joint, rel=2e-4, abs=2e-4)
    # Without the label the bound is lower: the class-blind part alone (u_y = 0) misses the joint's structure.
    critic.get_layer("class_projection").set_weights([np.zeros((3, 3))])
    assert _bound(spec, critic) < joint - 1e-2


def test_labelled_stream_pairs_examples_with_their_labels():
    ring = get_dataset("ring8")
    element = next(iter(labelled_training_batches(
        ring, conditional=True, batch_size=512, real_slots=1, noise_slots=2, latent_dim=4, seed=3)))
    x, y = element["real"].numpy()[:, 0], element["real_labels"].numpy()[:, 0]
    assert np.all(np.linalg.norm(x - ring.modes[y], axis=1) < 5 * ring.mode_std)
    assert element["noise_labels"].shape == (512, 2) and set(np.unique(element["noise_labels"])) == set(range(8))
    digits = get_dataset("digits")
    element = next(iter(labelled_training_batches(
        digits, conditional=True, batch_size=64, real_slots=2, noise_slots=1, latent_dim=4, seed=0)))
    real, labels = element["real"].numpy().reshape(-1, 64), element["real_labels"].numpy().reshape(-1)
    match = (digits.array.reshape(len(digits.array), -1)[None] == real[:, None]).all(-1)  # (drawn, train)
    assert all(labels[i] in digits.labels[match[i]] for i in range(len(labels)))


def test_networks_take_the_label():
    noise, data = keras.Input((3,)), keras.Input((2,))
    generator = keras.Model(noise, keras.layers.Dense(2)(noise))
    critic = keras.Model(data, keras.layers.Dense(1)(keras.layers.Dense(8, activation="relu")(data)))
    g, v = conditional_generator(generator, 4), projection_critic(critic, 4)
    z, x = np.zeros((4, 3), np.float32), np.ones((4, 2), np.float32)
    labels = np.arange(4, dtype=np.int32)
    assert len({tuple(row) for row in g([z, labels]).numpy().round(6)}) == 4  # same noise, four classes
    v.get_layer("class_projection").set_weights([np.eye(4, 8, dtype=np.float32)])
    assert v([x, labels]).shape == (4, 1) and len(set(v([x, labels]).numpy().round(6)[:, 0])) > 1


def test_requested_labels_are_balanced():
    assert np.bincount(requested_labels(100, 10)).tolist() == [10] * 10


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        ({"dataset": "spiral", "conditional": True}, "conditional", "no class labels"),
        ({"dataset": "digits", "conditional": True, "labelled": 20}, "labelled", "not both"),
    ],
)
def test_bad_label_options_are_one_line(options, field, words):
    with pytest.raises(ConfigError, match=words) as caught:
        RunConfig(divergence="gan", **options).resolved()
    assert caught.value.option == field and "\n" not in str(caught.value)


def test_unset_label_options_keep_older_run_ids():
    plain = RunConfig(divergence="gan", steps=100).resolved()
    assert "conditional" not in plain.run_id and plain.run_id != RunConfig(
        divergence="gan", steps=100, conditional=True).resolved().run_id
    assert class_count(get_dataset("ring8")) == 8 and class_count(get_dataset("spiral")) is None


def test_mirrored_conditional_step_equals_default_strategy():
    from fgan_bench.build import build_trainer
    from fgan_bench.distribute import make_strategy

    config = RunConfig(divergence="kl", dataset="ring8", conditional=True, steps=50, batch_size=64,
                       steps_per_execution=1, width=16).resolved()
    weights = {}
    for name in ("default", "mirrored"):
        keras.utils.set_random_seed(0)
        strategy = make_strategy(name)
        gan = build_trainer(config, strategy)
        data = labelled_training_batches(get_dataset("ring8"), conditional=True, batch_size=64, real_slots=1,
                                         noise_slots=1, latent_dim=gan.latent_dim, seed=0)
        before = [w.numpy() for w in gan.weights]
        gan.fit(data, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)
        weights[name] = [w.numpy() for w in gan.weights]
    assert max(float(np.max(np.abs(a - b))) for a, b in zip(before, weights["mirrored"])) > 1e-5
    for a, b in zip(weights["default"], weights["mirrored"]):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.slow
def test_conditional_run_on_digits_beats_chance_and_evaluates_again(tmp_path):
    """300 steps of the conditional GAN on digits: the classifier finds the requested class far above 1/10."""
    from fgan_bench.evaluation import evaluate_run
    from fgan_bench.runner import run

    result = run(RunConfig(divergence="gan", dataset="digits", conditional=True, steps=300, num_samples=500),
                 tmp_path, progress=False)
    quality = result["quality"]
    assert result["status"] == "completed" and quality["conditional_accuracy"] > 0.4, quality
    assert np.isfinite(quality["intra_fd"]) and "variational_estimate" not in quality
    again = evaluate_run(tmp_path / "runs" / result["run_id"], metrics=["mmd"])
    assert np.isfinite(again["metrics"]["mmd2"])


def test_conditional_metrics_on_ring8_know_the_truth():
    from fgan_bench.metrics import evaluate

    ring = get_dataset("ring8")
    rng = np.random.default_rng(0)
    labels = requested_labels(4000, 8)
    faithful = ring.modes[labels] + ring.mode_std * rng.normal(size=(4000, 2))
    blind = ring.modes[rng.integers(0, 8, 4000)] + ring.mode_std * rng.normal(size=(4000, 2))
    shifted = ring.modes[(labels + 1) % 8] + ring.mode_std * rng.normal(size=(4000, 2))
    good = evaluate(ring, faithful, ["conditional"], fake_labels=labels)
    assert good["conditional_accuracy"] > 0.98 and good["classes_covered"] == 8 and good["intra_fd"] < 1e-2
    assert abs(evaluate(ring, blind, ["conditional"], fake_labels=labels)["conditional_accuracy"] - 1 / 8) < 0.03
    wrong = evaluate(ring, shifted, ["conditional"], fake_labels=labels)
    assert wrong["conditional_accuracy"] == 0 and wrong["classes_covered"] == 0 and wrong["intra_fd"] > 1


@pytest.mark.parametrize("dataset", ["ring8", "digits"])
def test_report_draws_conditional_samples_by_class(tmp_path, dataset):
    import pandas as pd

    from fgan_bench import rundir
    from fgan_bench.sweeps.class_grids import class_grid_figure

    rows = []
    for divergence, conditional in (("gan", True), ("kl", False)):
        config = RunConfig(divergence=divergence, dataset=dataset, conditional=conditional, steps=100).resolved()
        directory = tmp_path / "runs" / config.run_id
        directory.mkdir(parents=True)
        rundir.write_json_atomically(directory / rundir.CONFIG, config.to_dict())
        np.save(directory / rundir.SAMPLES, get_dataset(dataset).sample(40, seed=0))
        rows.append({"run_id": config.run_id, "dataset": dataset, "divergence": divergence, "seed": 0})
    figure = class_grid_figure(tmp_path, pd.DataFrame(rows), dataset, lambda run: run["divergence"])
    assert [axis.get_title() for axis in figure.axes] == ["gan"]  # the conditional run only
    assert class_grid_figure(tmp_path, pd.DataFrame(rows[1:]), dataset, lambda run: run["divergence"]) is None


class _StopAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise KeyboardInterrupt


@pytest.mark.slow
def test_interrupted_conditional_run_resumes_to_the_same_weights(tmp_path):
    from fgan_bench import rundir
    from fgan_bench.build import build_trainer
    from fgan_bench.distribute import make_strategy
    from fgan_bench.runner import run

    config = RunConfig(divergence="kl", dataset="ring8", conditional=True, steps=100, width=16, batch_size=64,
                       log_every=50, steps_per_execution=25, num_samples=400)
    run(config, tmp_path / "whole", progress=False)
    with pytest.raises(KeyboardInterrupt):
        run(config, tmp_path / "parts", progress=False, callbacks=(_StopAfterFirstEpoch(),))
    result = run(config, tmp_path / "parts", resume=True, progress=False)
    assert result["status"] == "completed" and "conditional_accuracy" in result["quality"]
    weights = []
    for part in ("whole", "parts"):
        gan = build_trainer(config.resolved(), make_strategy("default"))
        rundir.load_checkpoint(gan, tmp_path / part / "runs" / config.resolved().run_id / rundir.CHECKPOINT)
        weights.append(gan.get_weights())
    for a, b in zip(*weights, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_command_line_refuses_a_conditional_run_without_labels_in_one_line():
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "fgan_bench", "run", "--divergence", "gan", "--dataset", "spiral", "--conditional"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    errors = [line for line in result.stderr.splitlines() if line.startswith("python -m fgan_bench")]
    assert result.returncode == 2 and len(errors) == 1 and "no class labels" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
