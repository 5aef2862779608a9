"""Deferred imports of TensorFlow, TensorFlow Probability and Keras, and a quiet TF start-up.

Importing TensorFlow costs seconds. The command line must answer ``--help``, list
divergences and reject bad options before paying that, so modules that only *call*
these libraries at run time refer to them through a :class:`DeferredModule`: a stand-in
that imports the real module on its first attribute access and forwards every attribute
to it. (The standard library's ``importlib.util.LazyLoader`` was tried first; TensorFlow
Probability's and Keras' own lazy sub-module tricks break under it.)
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.util
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
    r"cpu_feature_guard\.cc|To enable the following instructions|rebuild TensorFlow with the appropriate|"
    r"oneDNN custom operations are on"
)


def debugging() -> bool:
    """True when ``FGAN_BENCH_DEBUG=1``: tracebacks and TensorFlow's start-up lines are shown."""
    return os.environ.get("FGAN_BENCH_DEBUG", "") not in ("", "0")


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow, Keras and TFP and lists the devices, keeping TF's C++ start-up noise
    off the console when there is no GPU.

    Standard error (file descriptor 2, which the C++ side writes to directly) goes to a
    temporary file meanwhile; afterwards every captured line is written back except the known
    start-up lines (:data:`_STARTUP_NOISE`), and all of them where a GPU was found or
    ``FGAN_BENCH_DEBUG=1``. Real errors are never hidden. TF's logger also drops one warning
    that is noise here (:func:`_drop_predict_retracing_warning`).
    """
    if "tensorflow" not in sys.modules:
        with _stderr_filtered():
            import keras  # noqa: F401
            import tensorflow_probability  # noqa: F401
    import tensorflow

    tensorflow.get_logger().addFilter(_drop_predict_retracing_warning)  # once: addFilter skips a repeat


@contextlib.contextmanager
def _stderr_filtered():
    """Runs the body (which imports TensorFlow) with fd 2 captured, then lists the devices (cuInit
    speaks then) and writes back what is not start-up noise."""
    sys.stderr.flush()
    saved = os.dup(2)
    gpus = []
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
            import tensorflow

            # cuInit speaks when the devices are listed. No operation runs here: that would
            # initialise TF's context, after which threads, logical devices and collective ops
            # (a sweep worker, --strategy mirrored/multiworker) can no longer be configured.
            gpus = tensorflow.config.list_physical_devices("GPU")
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines(keepends=True)
    kept = [line for line in lines if gpus or debugging() or not _STARTUP_NOISE.search(line)]
    if kept:
        sys.stderr.write("".join(kept))
        sys.stderr.flush()


class _QuietTensorFlowLoader(importlib.abc.Loader):
    """TensorFlow's own loader, its ``exec_module`` run under :func:`_stderr_filtered`."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        with _stderr_filtered():
            self.loader.exec_module(module)

    def __getattr__(self, name: str):  # get_resource_reader, is_package, ...: the wrapped loader's
        return getattr(self.loader, name)


class QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Makes the process's first ``import tensorflow`` — by anyone, ``import keras`` in a
    user's script included — quiet (:func:`_stderr_filtered`). Installed by ``import
    fgan_bench`` (:func:`install_quiet_import`); it removes itself at that first import."""

    def find_spec(self, name, path, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, QuietTensorFlowFinder)]
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietTensorFlowLoader(spec.loader)
        return spec


def install_quiet_import() -> None:
    """Puts :class:`QuietTensorFlowFinder` first on ``sys.meta_path`` unless TensorFlow is
    already imported, one is there, or ``FGAN_BENCH_DEBUG=1``."""
    if "tensorflow" in sys.modules or debugging():
        return
    if not any(isinstance(finder, QuietTensorFlowFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, QuietTensorFlowFinder())



def _drop_predict_retracing_warning(record) -> bool:
    """False for TF's "N out of the last M calls to <... make_predict_function ...> triggered
    tf.function retracing" warning. Every evaluation (and every run a reused sweep worker
    trains) predicts with a new model, whose predict function TF counts against the same
    Python function; the warning says nothing about the run."""
    message = record.getMessage()
    return not ("triggered tf.function retracing" in message and "make_predict_function" in message)
