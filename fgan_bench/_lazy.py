"""Deferred imports of TensorFlow, TensorFlow Probability and Keras, and a quiet TF start-up.

Importing TensorFlow costs seconds. The command line must answer ``--help``, list
divergences and reject bad options before paying that, so modules that only *call*
these libraries at run time refer to them through a :class:`DeferredModule`: a stand-in
that imports the real module on its first attribute access and forwards every attribute
to it. (The standard library's ``importlib.util.LazyLoader`` was tried first; TensorFlow
Probability's and Keras' own lazy sub-module tricks break under it.)
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import tempfile
import types
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class DeferredModule(types.ModuleType):
    """Module ``name``, imported on first attribute access."""

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attribute)


tf = DeferredModule("tensorflow")
tfp = DeferredModule("tensorflow_probability")
keras = DeferredModule("keras")


#: TensorFlow's C++ start-up lines on a machine without a GPU: absl logging before its
#: initialisation (which TF_CPP_MIN_LOG_LEVEL does not govern), the CUDA stub and cuInit.
_STARTUP_NOISE = re.compile(
    r"absl::InitializeLog|cudart_stub\.cc|Could not find cuda drivers|cuInit|cuda_platform\.cc|"
    r"cuda_executor\.cc|Unable to register cu(DNN|FFT|BLAS) factory|computation_placer\.cc|"
    r"cpu_feature_guard\.cc|To enable the following instructions|rebuild TensorFlow with the appropriate"
)


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow, Keras and TFP and finds the devices, keeping TF's C++ start-up noise
    off the console when there is no GPU.

    Standard error (file descriptor 2, which the C++ side writes to directly) goes to a
    temporary file meanwhile; afterwards every captured line is written back except the known
    start-up lines (:data:`_STARTUP_NOISE`), and all of them where a GPU was found. Real
    errors are never hidden. TF's logger also drops one warning that is noise here
    (:func:`_drop_predict_retracing_warning`).
    """
    if "tensorflow" not in sys.modules:
        _import_with_stderr_filtered()
    import tensorflow

    tensorflow.get_logger().addFilter(_drop_predict_retracing_warning)  # once: addFilter skips a repeat


def _import_with_stderr_filtered() -> None:
    sys.stderr.flush()
    saved = os.dup(2)
    gpus = []
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras  # noqa: F401
            import tensorflow
            import tensorflow_probability  # noqa: F401

            gpus = tensorflow.config.list_physical_devices("GPU")
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines(keepends=True)
    kept = [line for line in lines if gpus or not _STARTUP_NOISE.search(line)]
    if kept:
        sys.stderr.write("".join(kept))
        sys.stderr.flush()


def _drop_predict_retracing_warning(record) -> bool:
    """False for TF's "N out of the last M calls to <... make_predict_function ...> triggered
    tf.function retracing" warning. Every evaluation (and every run a reused sweep worker
    trains) predicts with a new model, whose predict function TF counts against the same
    Python function; the warning says nothing about the run."""
    message = record.getMessage()
    return not ("triggered tf.function retracing" in message and "make_predict_function" in message)
