"""Test configuration: quiet TensorFlow, keep Keras out of the home directory, and split the
CPU into two logical devices (before TensorFlow initialises) so that MirroredStrategy has
two replicas to test with."""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="fgan-bench-keras-")
os.environ["FGAN_BENCH_CACHE"] = tempfile.mkdtemp(prefix="fgan-bench-cache-")  # trained feature classifiers
os.environ.pop("FGAN_BENCH_PLUGINS", None)

import tensorflow as tf  # noqa: E402

_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
