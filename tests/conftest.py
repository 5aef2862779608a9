"""Test configuration: quiet TensorFlow, keep Keras out of the home directory."""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="fgan-bench-keras-"))
os.environ.pop("FGAN_BENCH_PLUGINS", None)
