"""The package's shape: a real, subclassable, saveable FGAN class; pluggable models."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import fgan_bench
from fgan_bench import get_divergence
from fgan_bench.models import build_models


def _gan(divergence="jensen_shannon", cls=None, **kwargs):
    generator, critic = build_models("mlp", shape=(2,), latent_dim=4, width=8, depth=1)
    return (cls or fgan_bench.FGAN)(generator, critic, get_divergence(divergence), **kwargs)


def test_fgan_is_a_class_that_can_be_subclassed():
    gan = _gan()
    assert isinstance(gan, fgan_bench.FGAN) and isinstance(gan, keras.Model)

    class Counting(fgan_bench.FGAN):
        def train_step(self, data):
            self.steps_seen.assign_add(1)
            return super().train_step(data)

    counting = _gan(cls=Counting)
    counting.steps_seen = keras.Variable(0, dtype="int64", trainable=False)
    counting.compile(generator_optimizer=keras.optimizers.Adam(1e-3), critic_optimizer=keras.optimizers.Adam(1e-3))
    batch = {"real": np.zeros((8, 1, 2), np.float32), "noise": np.ones((8, 1, 4), np.float32)}
    counting.fit(batch, epochs=3, batch_size=8, verbose=0)
    assert int(counting.steps_seen.numpy()) == 3 and int(counting.steps_done.numpy()) == 3


def test_save_and_load_model_round_trip(tmp_path):
    gan = _gan("alpha:0.5", schedule="alternating", critic_steps=2, objective="nonsaturating")
    noise = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    gan.save(tmp_path / "gan.keras")
    loaded = keras.models.load_model(tmp_path / "gan.keras")
    assert type(loaded) is fgan_bench.FGAN
    assert loaded.divergence.spec == "alpha:0.5"
    assert (loaded.schedule, loaded.critic_steps, loaded.objective) == ("alternating", 2, "nonsaturating")
    np.testing.assert_array_equal(loaded.generator.predict(noise, verbose=0), gan.generator.predict(noise, verbose=0))
    np.testing.assert_array_equal(loaded.critic.predict(noise[:, :2], verbose=0),
                                  gan.critic.predict(noise[:, :2], verbose=0))


def test_linear_generator_round_trips_too(tmp_path):
    generator, critic = build_models("linear", shape=(1,), latent_dim=1)
    generator.get_layer("location_scale").mu.assign([1.5])
    gan = fgan_bench.FGAN(generator, critic, get_divergence("kl"))
    gan.save(tmp_path / "linear.keras")
    loaded = keras.models.load_model(tmp_path / "linear.keras")
    z = np.zeros((3, 1), np.float32)
    np.testing.assert_allclose(loaded.generator.predict(z, verbose=0), 1.5)


def test_listing_models_does_not_import_tensorflow():
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, fgan_bench; print(fgan_bench.list_models()); "
         "print('tensorflow' in sys.modules)"],
        capture_output=True, text=True, timeout=120,
    )
    assert probe.stdout.split("\n")[:2] == ["['mlp', 'dcgan', 'mlp_gan', 'linear']", "False"], probe.stderr


PLUGIN_MODEL = """
import keras
import fgan_bench


def build(*, shape, latent_dim, width):
    noise = keras.Input((latent_dim,))
    generator = keras.Model(noise, keras.layers.Dense({output})(keras.layers.Dense(width, "tanh")(noise)))
    data = keras.Input(shape)
    critic = keras.Model(data, keras.layers.Dense(1)(keras.layers.Dense(width, "tanh")(data)))
    return generator, critic


fgan_bench.register_model(fgan_bench.Model("{name}", "vector", build, "a tanh MLP", options=("width",),
                                            defaults={{"width": 16}}))
"""


@pytest.fixture
def model_plugin(tmp_path):
    def write(name, output):
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(PLUGIN_MODEL.format(name=name, output=output)))
        return path

    yield write
    for name in ("tanh_mlp", "wrong_mlp"):
        if name in fgan_bench.list_models():
            fgan_bench.models.unregister_model(name)


def test_a_plugin_model_trains_from_the_command_line(tmp_path, model_plugin):
    plugin = model_plugin("tanh_mlp", "shape[0]")
    listed = subprocess.run([sys.executable, "-m", "fgan_bench", "--plugins", str(plugin), "list", "models"],
                            capture_output=True, text=True, timeout=120)
    assert "tanh_mlp" in listed.stdout and f"plugin {plugin}" in listed.stdout
    from fgan_bench import cli

    status = cli.main(["--plugins", str(plugin), "run", "--divergence", "kl", "--model", "tanh_mlp", "--width", "8",
                       "--steps", "20", "--log-every", "10", "--num-samples", "200", "--quiet",
                       "--out", str(tmp_path / "out")])
    assert status == 0
    [run] = (tmp_path / "out" / "runs").iterdir()
    from fgan_bench import rundir

    config = rundir.read_config(run)
    assert (config.model, config.width) == ("tanh_mlp", 8) and rundir.read_result(run)["status"] == "completed"


def test_a_plugin_model_with_wrong_shapes_gets_one_line(tmp_path, model_plugin, capsys):
    plugin = model_plugin("wrong_mlp", "3")
    from fgan_bench import cli

    status = cli.main(["--plugins", str(plugin), "run", "--divergence", "kl", "--model", "wrong_mlp",
                       "--steps", "20", "--log-every", "10", "--quiet", "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err.strip()
    assert status == 2 and len(error.splitlines()) == 1
    assert "model 'wrong_mlp'" in error and "(3,)" in error and "(2,)" in error


def test_predict_retracing_warnings_of_new_models_are_dropped_but_other_retracing_warnings_stay():
    import io
    import logging

    import keras
    import numpy as np

    from fgan_bench._lazy import import_tensorflow_quietly

    import_tensorflow_quietly()
    import tensorflow as tf

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    tf.get_logger().addHandler(handler)
    try:
        for rows in range(3, 11):  # as every evaluation and every run of a reused sweep worker does
            model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
            model.predict(np.zeros((rows, 2)), verbose=0)
        traced = tf.function(lambda x: x)
        for size in range(1, 9):  # a genuine retracing problem in the user's own code
            traced(tf.zeros((size,)))
    finally:
        tf.get_logger().removeHandler(handler)
    logged = stream.getvalue()
    assert "make_predict_function" not in logged and "triggered tf.function retracing" in logged


def test_tensorflow_start_up_noise_stays_off_the_console_but_real_errors_do_not():
    code = ("import os, sys; from fgan_bench._lazy import import_tensorflow_quietly; import_tensorflow_quietly(); "
            "import tensorflow as tf; print('GPU' if tf.config.list_physical_devices('GPU') else 'CPU'); "
            "os.write(2, b'a real error\\n')")
    probe = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert probe.returncode == 0 and "a real error" in probe.stderr
    if probe.stdout.strip() == "CPU":
        assert "cuda" not in probe.stderr.lower() and "absl" not in probe.stderr, probe.stderr
