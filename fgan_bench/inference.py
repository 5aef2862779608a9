"""A Keras model applied to many examples in inference mode, through one compiled function per model.

``model.predict(x)`` wraps ``x`` in a new ``tf.data`` pipeline and traces its functions on
every call: ~0.1 s for 1,000 noise vectors through the ring8 MLP generator, whose forward
pass takes ~1 ms, and ~1 s on a model's first call. A protocol trial evaluates its generator
at every pruning rung and at its end, so that cost was paid per evaluation and per run.

:func:`predict` computes the same values — ``model(x, training=False)``, the call ``predict``
makes, as a ``tf.function`` — in batches of ``batch_size``, with the function kept per model
(weakly: it does not keep a discarded model alive) and traced for at most two batch shapes
(the full batch and the last one; ``reduce_retracing`` relaxes the batch dimension).
"""

from __future__ import annotations

import weakref

import numpy as np

from fgan_bench._lazy import tf

_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _forward(model):
    """``x -> model(x, training=False)`` as a ``tf.function``, one per model."""
    if model not in _FUNCTIONS:
        reference = weakref.ref(model)
        _FUNCTIONS[model] = tf.function(lambda inputs: reference()(inputs, training=False), reduce_retracing=True)
    return _FUNCTIONS[model]


def predict(model, inputs, batch_size: int = 2048) -> np.ndarray:
    """``model(inputs, training=False)`` as a NumPy array, ``batch_size`` examples per call.

    ``inputs``: an array or tensor, or a structure of them (a conditional generator's noise and
    labels) with the examples on axis 0 of each.
    """
    forward = _forward(model)
    count = int(tf.nest.flatten(inputs)[0].shape[0])
    outputs = [
        np.asarray(forward(tf.nest.map_structure(lambda x, s=start: tf.convert_to_tensor(x[s:s + batch_size]),
                                                 inputs)))
        for start in range(0, max(count, 1), batch_size)  # no examples: one empty batch
    ]
    return np.concatenate(outputs)
