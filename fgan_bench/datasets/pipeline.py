"""The ``tf.data`` input pipeline of the trainer.

Each element is one training step's worth of data, made as whole batches (a ``map`` over
the step index, never over single examples), as a dict (Keras passes a dict whole to the
model, as ``x``):

* ``real``: shape ``(batch, real_slots, *example_shape)`` — one real batch per critic
  update in the step (``real[:, i]`` for the i-th);
* ``noise``: shape ``(batch, noise_slots, latent_dim)`` — the generator's N(0, I) inputs.

Synthetic data is sampled afresh from the exact density; finite data (images, files) is
drawn uniformly with replacement. All randomness is stateless, keyed by (seed, step), so a
stream started at step S (``start_step``) continues exactly where an uninterrupted one
would be. The noise comes with the data: under ``tf.distribute`` each replica gets its
slice of the same global batch, so distributed training equals single-device training
(also across workers: the auto-shard policy is ``DATA``, each worker keeps its slices).
"""

from __future__ import annotations

from fgan_bench._lazy import tf
from fgan_bench.datasets.base import Dataset


def training_batches(
    dataset: Dataset,
    *,
    batch_size: int,
    real_slots: int,
    noise_slots: int,
    latent_dim: int,
    seed: int,
    start_step: int = 0,
):
    """An endless ``tf.data.Dataset`` of ``{"real", "noise"}`` per training step (see module doc)."""
    real_shape = [batch_size * real_slots, *dataset.shape]

    if dataset.synthetic:

        def draw_real(real_seed):
            return tf.cast(dataset.draw(real_shape[0], real_seed), tf.float32)

    else:
        examples = tf.constant(dataset.array)

        def draw_real(real_seed):
            index = tf.random.stateless_uniform([real_shape[0]], real_seed, maxval=len(dataset.array), dtype=tf.int32)
            return tf.gather(examples, index)

    def make_step(step):
        real_seed, noise_seed, _ = step_seeds(seed, step)
        real = tf.reshape(draw_real(real_seed), [batch_size, real_slots, *dataset.shape])
        noise = tf.random.stateless_normal([batch_size, noise_slots, latent_dim], seed=noise_seed)
        return {"real": real, "noise": noise}

    return step_stream(make_step, start_step)


def step_seeds(seed: int, step):
    """Three stateless int32 seeds (real, noise, spare) for one step, as TFP requires."""
    key = tf.cast(tf.stack([tf.constant(seed, tf.int64), step]) % 2_147_483_647, tf.int32)
    return tf.unstack(tf.random.experimental.stateless_split(key, 3))


def step_stream(make_step, start_step: int):
    """The endless, prefetched stream ``make_step(step)`` for step = start_step, start_step + 1, ..."""
    steps = tf.data.Dataset.counter(start=start_step).map(make_step, num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    # Several workers: each makes the whole global batch and keeps its replicas' slices of it.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return steps.prefetch(tf.data.AUTOTUNE).with_options(options)
