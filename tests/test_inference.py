"""fgan_bench.inference.predict gives what Keras' predict gives, without its pipeline per call."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
import tensorflow as tf

from fgan_bench import inference
from fgan_bench.build import build_trainer
from fgan_bench.config import RunConfig


def _trainer(**options):
    return build_trainer(RunConfig(steps=10, **options), tf.distribute.get_strategy())


@pytest.mark.parametrize(("options", "count"), [
    ({"dataset": "ring8", "divergence": "kl"}, 5000),  # two full batches of 2,048 and a last one
    ({"dataset": "digits", "divergence": "gan", "model": "dcgan", "filters": 8}, 300),  # batch norm: inference mode
    ({"dataset": "ring8", "divergence": "kl", "conditional": True}, 1000),  # inputs: [noise, labels]
])
def test_predict_equals_keras_predict(options, count):
    gan = _trainer(**options)
    if options.get("model") == "dcgan":  # batch-norm statistics moved off their initial values
        gan.fit(_data(gan, options["dataset"]), epochs=1, steps_per_epoch=2, verbose=0)
    noise = tf.random.stateless_normal([count, gan.latent_dim], seed=[1, 2])
    inputs = gan.generator_inputs(noise)
    expected = gan.generator.predict(inputs, batch_size=2048, verbose=0)
    np.testing.assert_array_equal(inference.predict(gan.generator, inputs, batch_size=2048), expected)
    np.testing.assert_array_equal(inference.predict(gan.generator, inputs, batch_size=2048), expected)  # reused
    assert inference.predict(gan.generator, tf.nest.map_structure(lambda x: x[:0], inputs)).shape == (
        0, *expected.shape[1:])


def _data(gan, dataset):
    from fgan_bench.datasets import get_dataset, training_batches

    return training_batches(get_dataset(dataset), batch_size=32, real_slots=1, noise_slots=1,
                            latent_dim=gan.latent_dim, seed=0)


def test_the_compiled_function_follows_the_weights_and_does_not_keep_the_model_alive():
    gan = _trainer(dataset="ring8", divergence="kl")
    noise = np.random.default_rng(0).normal(size=(100, gan.latent_dim)).astype(np.float32)
    before = inference.predict(gan.generator, noise)
    for variable in gan.generator.trainable_variables:
        variable.assign(variable * 0.5)
    after = inference.predict(gan.generator, noise)
    assert not np.allclose(before, after)
    np.testing.assert_array_equal(after, gan.generator.predict(noise, verbose=0))
    kept = weakref.ref(gan.generator)
    del gan
    gc.collect()
    assert kept() is None
