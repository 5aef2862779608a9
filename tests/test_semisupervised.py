"""Semi-supervised f-GAN: the class-balanced labelled subset, the critic's loss, and runs that report
the critic's test accuracy beside the labels-only baseline."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fgan_bench import get_divergence, losses
from fgan_bench._lazy import tf
from fgan_bench.config import RunConfig
from fgan_bench.datasets import get_dataset
from fgan_bench.datasets.labels import balanced_subset, labelled_training_batches
from fgan_bench.errors import ConfigError
from fgan_bench.semisupervised import SemiSupervisedFGAN


@pytest.mark.parametrize("count", [10, 100, 137])
def test_labelled_subset_is_class_balanced_and_reproducible(count):
    labels = get_dataset("mnist5k").labels
    subset = balanced_subset(labels, count, seed=4)
    per_class = np.bincount(labels[subset], minlength=10)
    assert len(set(subset)) == count and per_class.sum() == count and per_class.max() - per_class.min() <= 1
    np.testing.assert_array_equal(subset, balanced_subset(labels, count, seed=4))
    assert not np.array_equal(subset, balanced_subset(labels, count, seed=5))


def test_labelled_stream_draws_only_the_subset():
    digits = get_dataset("digits")
    element = next(iter(labelled_training_batches(
        digits, labelled=30, batch_size=64, real_slots=1, noise_slots=1, latent_dim=4, seed=2)))
    subset = balanced_subset(digits.labels, 30, seed=2)
    allowed = {(row.tobytes(), int(y)) for row, y in zip(digits.array[subset], digits.labels[subset], strict=True)}
    drawn = zip(element["labelled"].numpy()[:, 0], element["labels"].numpy()[:, 0], strict=True)
    assert all((x.tobytes(), int(y)) in allowed for x, y in drawn)
    assert element["real"].shape == (64, 1, 8, 8, 1)


def test_critic_loss_is_the_f_gan_loss_on_logsumexp_plus_cross_entropy():
    data = keras.Input((2,))
    critic = keras.Model(data, keras.layers.Dense(3)(data))
    noise = keras.Input((2,))
    gan = SemiSupervisedFGAN(keras.Model(noise, keras.layers.Dense(2)(noise)), critic, get_divergence("kl"))
    gan.compile(generator_optimizer=keras.optimizers.Adam(), critic_optimizer=keras.optimizers.Adam())
    rng = np.random.default_rng(0)
    x, fake, labelled = (rng.normal(size=(5, 2)).astype(np.float32) for _ in range(3))
    labels = np.array([0, 1, 2, 0, 1])
    v_real, v_fake = gan._v_real((x, labelled, labels)), gan._v(fake)
    logits = critic(labelled).numpy().astype(np.float64)
    cross_entropy = np.mean(np.log(np.exp(logits).sum(1)) - logits[np.arange(5), labels])
    expected = np.asarray(losses.critic_loss(get_divergence("kl"), v_real, v_fake)) + cross_entropy
    np.testing.assert_allclose(gan._critic_loss((x, labelled, labels), fake, v_real, v_fake), expected, rtol=1e-5)
    np.testing.assert_allclose(v_real, np.log(np.exp(critic(x).numpy().astype(np.float64)).sum(1)), rtol=1e-5)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"dataset": "ring8", "labelled": 100}, "no labelled train and test split"),
        ({"dataset": "digits", "labelled": 5}, "one per class"),
        ({"dataset": "digits", "labelled": 100_000}, "rarest class"),
    ],
)
def test_bad_labelled_options_are_one_line(options, words):
    with pytest.raises(ConfigError, match=words) as caught:
        RunConfig(divergence="gan", **options).resolved()
    assert caught.value.option == "labelled" and "\n" not in str(caught.value)


@pytest.mark.slow
def test_semi_supervised_mnist5k_with_100_labels_reports_critic_and_labels_only_accuracy():
    from fgan_bench.build import build_trainer
    from fgan_bench.distribute import make_strategy
    from fgan_bench.semisupervised import semi_supervised_metrics

    config = RunConfig(divergence="jensen_shannon", dataset="mnist5k", labelled=100, steps=150, filters=16,
                       steps_per_execution=50).resolved()
    dataset = get_dataset("mnist5k")
    keras.utils.set_random_seed(0)
    gan = build_trainer(config, make_strategy("default"), dataset)
    data = labelled_training_batches(dataset, labelled=100, batch_size=config.batch_size, real_slots=1,
                                     noise_slots=1, latent_dim=gan.latent_dim, seed=config.seed)
    gan.fit(data, epochs=1, steps_per_epoch=config.steps, verbose=0, shuffle=False)
    metrics = semi_supervised_metrics(
        gan, config, dataset, lambda: build_trainer(config, make_strategy("default"), dataset).critic)
    assert metrics["labelled_examples"] == 100
    assert 0.3 < metrics["critic_test_accuracy"] <= 1 and 0.3 < metrics["labels_only_accuracy"] <= 1, metrics
    assert tf.reduce_all(tf.math.is_finite(gan.critic(dataset.test_array[:8])))


@pytest.mark.slow
def test_semi_supervised_run_records_both_accuracies(tmp_path):
    from fgan_bench.runner import run

    result = run(RunConfig(divergence="gan", dataset="digits", labelled=50, steps=100, num_samples=300),
                 tmp_path, progress=False)
    quality = result["quality"]
    assert {"critic_test_accuracy", "labels_only_accuracy", "variational_estimate"} <= set(quality)
    assert quality["labelled_examples"] == 50


def test_semi_supervised_metric_scores_the_critic_as_a_classifier():
    from fgan_bench.metrics import evaluate, metric_direction

    digits = get_dataset("digits")
    lookup = {x.tobytes(): y for x, y in zip(digits.test_array, digits.test_labels, strict=True)}

    def perfect(x):
        return np.eye(10)[[lookup[row.tobytes()] for row in np.asarray(x, np.float32)]]

    def constant(x):
        return np.tile(np.eye(10)[3], (len(x), 1))

    fake = digits.sample(50)
    assert evaluate(digits, fake, ["semi_supervised"], class_logits=perfect)["critic_test_accuracy"] == 1.0
    share = np.mean(digits.test_labels == 3)
    assert evaluate(digits, fake, ["semi_supervised"], class_logits=constant)["critic_test_accuracy"] == share
    assert metric_direction("critic_test_accuracy") == metric_direction("labels_only_accuracy") == "higher"
