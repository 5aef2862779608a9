"""Test configuration: quiet TensorFlow, keep Keras out of the home directory, and split the
CPU into two logical devices (before TensorFlow initialises) so that MirroredStrategy has
two replicas to test with."""

import os
import subprocess
import tempfile

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="fgan-bench-keras-")
os.environ["FGAN_BENCH_CACHE"] = tempfile.mkdtemp(prefix="fgan-bench-cache-")  # trained feature classifiers
os.environ.pop("FGAN_BENCH_PLUGINS", None)

import tensorflow as tf  # noqa: E402

_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * 2)


@pytest.fixture
def small_tmpfs(tmp_path):
    """A real 160 KiB tmpfs: room for a run's config and history, not for its first checkpoint."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not allowed here ({mounted.stderr.strip()[:80]}): needs root")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)
