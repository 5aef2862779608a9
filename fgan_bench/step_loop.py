"""``steps_per_execution`` training steps as one plain in-graph loop, for endless data.

Keras 3 runs a chunk of ``steps_per_execution`` steps as a ``tf.while_loop`` that asks the
iterator for an *optional* element before every step and runs the step inside two ``tf.cond``
(``IteratorGetNextAsOptional`` ×2, two ``If``, the ``Optional`` ops, per step), so that a
finite dataset may end in the middle of a chunk. A training stream that never ends
(``tf.data`` cardinality ``INFINITE``, as :func:`fgan_bench.datasets.training_batches` makes)
cannot end there, and the chunk can be the loop a hand-written trainer writes::

    for _ in range(steps_per_execution):       # tf.while_loop, in one tf.function
        train_step(iterator.get_next())        # no Optional, no If
    return logs()                              # once per chunk

with everything ``fit`` does around the chunk unchanged (callbacks and logs per chunk, epochs,
``stop_training``). The logs of a chunk are ``logs()`` after its last step, which is what the
last ``train_step`` returns when ``train_step`` returns the model's running means (as
:class:`~fgan_bench.FGAN`'s does). Anything else — a finite or unknown-length dataset, arrays,
``steps_per_execution = 1``, several replicas (``MirroredStrategy``, multi-worker),
``run_eagerly`` — keeps Keras' own loop.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def is_endless(data) -> bool:
    """Whether ``data`` is a ``tf.data.Dataset`` that never runs out (cardinality ``INFINITE``)."""
    return isinstance(data, tf.data.Dataset) and int(data.cardinality()) == tf.data.INFINITE_CARDINALITY


def plain_loop_applies(model: keras.Model, data) -> bool:
    """Whether ``model.fit(data)`` may run its chunks as :func:`chunk_function`'s plain loop."""
    return (
        is_endless(data)
        and model.steps_per_execution > 1
        and not model.run_eagerly
        and model.distribute_strategy.num_replicas_in_sync == 1
    )


def chunk_function(model: keras.Model, logs):
    """``iterator -> logs()``: ``model.steps_per_execution`` calls of ``model.train_step`` on
    ``iterator.get_next()`` in one ``tf.function`` (XLA-compiled per step where the model's
    ``jit_compile`` is on, as Keras does)."""
    strategy = model.distribute_strategy
    steps = model.steps_per_execution

    def one_step(data):
        strategy.run(model.train_step, args=(data,))

    if model.jit_compile:
        one_step = tf.function(one_step, jit_compile=True, reduce_retracing=True)

    @tf.autograph.experimental.do_not_convert
    def run_chunk(iterator):
        def body(step):
            one_step(iterator.get_next())
            return (step + 1,)

        tf.while_loop(lambda step: step < steps, body, (tf.constant(0),))
        return strategy.run(logs)

    return tf.function(run_chunk, reduce_retracing=True)
