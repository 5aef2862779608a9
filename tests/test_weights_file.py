"""WeightsFile: the checkpoint written with h5py is ``model.save_weights``' file, group for group,
attr for attr, dataset for dataset; it loads back exactly; it falls back to Keras when it must."""

import shutil

import h5py
import keras
import numpy as np
import pytest

from fgan_bench.build import build_trainer
from fgan_bench.config import RunConfig
from fgan_bench.datasets import get_dataset
from fgan_bench.datasets.labels import labelled_training_batches
from fgan_bench.distribute import make_strategy
from fgan_bench.weights_file import WeightsFile

CASES = {
    "fgan_ring8_mlp": dict(divergence="kl", dataset="ring8", width=16, batch_size=32),
    "dcgan_digits": dict(divergence="jensen_shannon", dataset="digits", filters=8, batch_size=16),
    "conditional_ring8": dict(divergence="kl", dataset="ring8", conditional=True, width=16, batch_size=32),
    "wgan_gp_ring8": dict(divergence="wgan_gp", dataset="ring8", width=16, batch_size=32),
}


def _contents(path) -> dict:
    """Every group and dataset of an HDF5 file: kind, attrs, and a dataset's dtype, shape and bytes."""
    found = {}

    def visit(name, item):
        attrs = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in item.attrs.items()}
        if isinstance(item, h5py.Dataset):
            value = item[()]
            found[name] = ("dataset", attrs, str(item.dtype), item.shape, np.asarray(value).tobytes())
        else:
            found[name] = ("group", attrs)

    with h5py.File(path, "r") as file:
        found["/"] = ("root", dict(file.attrs))
        file.visititems(visit)
    return found


def _assert_same_file(written, by_keras):
    ours, theirs = _contents(written), _contents(by_keras)
    assert sorted(ours) == sorted(theirs)  # the same groups and datasets
    for name in theirs:
        assert ours[name] == theirs[name], name


def _trainer(case):
    config = RunConfig(steps=10, steps_per_execution=1, **CASES[case]).resolved()
    return config, build_trainer(config, make_strategy("default"))


def _train(gan, config, steps, seed=0):
    data = labelled_training_batches(get_dataset(config.dataset), conditional=config.conditional,
                                     batch_size=config.batch_size, real_slots=gan.real_slots,
                                     noise_slots=gan.noise_slots, latent_dim=gan.latent_dim, seed=seed)
    gan.fit(data, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)


def _all_variables(gan):
    optimizers = [gan.optimizer, gan.generator_optimizer, gan.critic_optimizer]
    return [*gan.weights, *(v for o in optimizers for v in o.variables)]


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_file_is_keras_own_and_loads_back_exactly(tmp_path, case):
    keras.utils.set_random_seed(0)
    config, gan = _trainer(case)
    _train(gan, config, 2)
    weights_file = WeightsFile(gan)
    assert weights_file.replays  # the fast path, not the fallback
    weights_file.write(tmp_path / "ours.weights.h5")
    gan.save_weights(tmp_path / "keras.weights.h5")
    _assert_same_file(tmp_path / "ours.weights.h5", tmp_path / "keras.weights.h5")
    contents = _contents(tmp_path / "ours.weights.h5")
    assert contents["generator_optimizer/vars"][1] == {"name": gan.generator_optimizer.name}
    datasets = [n for n, c in contents.items() if c[0] == "dataset"]
    assert len(datasets) == len(gan.weights) + sum(
        len(o.variables) for o in (gan.optimizer, gan.generator_optimizer, gan.critic_optimizer))
    if case == "dcgan_digits":  # batch norm's moving statistics (non-trainable) are in it
        assert gan.non_trainable_weights and len(datasets) > len(gan.trainable_weights) + len(
            gan.generator_optimizer.variables) + len(gan.critic_optimizer.variables) + len(gan.optimizer.variables)

    # Values are read at each write: train on, write again with the same WeightsFile.
    before = _contents(tmp_path / "ours.weights.h5")
    _train(gan, config, 1, seed=1)
    weights_file.write(tmp_path / "ours.weights.h5")
    gan.save_weights(tmp_path / "keras.weights.h5")
    _assert_same_file(tmp_path / "ours.weights.h5", tmp_path / "keras.weights.h5")
    assert _contents(tmp_path / "ours.weights.h5") != before

    _, fresh = _trainer(case)
    _train(fresh, config, 1, seed=2)  # builds its optimizers, then overwritten by the load
    expected = [keras.ops.convert_to_numpy(v) for v in _all_variables(gan)]
    assert any(not np.array_equal(keras.ops.convert_to_numpy(v), e) for v, e in zip(_all_variables(fresh), expected))
    fresh.load_weights(tmp_path / "ours.weights.h5")
    for restored, original in zip(_all_variables(fresh), expected, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(restored), original, strict=True)


def test_a_mirrored_trainer_checkpoint_is_keras_own(tmp_path):
    config = RunConfig(divergence="kl", dataset="ring8", steps=10, steps_per_execution=1, width=16,
                       batch_size=32).resolved()
    gan = build_trainer(config, make_strategy("mirrored"))  # two replicas: the CPU is split in conftest
    _train(gan, config, 2)
    weights_file = WeightsFile(gan)
    assert weights_file.replays
    for _ in range(2):
        weights_file.write(tmp_path / "ours.weights.h5")
        gan.save_weights(tmp_path / "keras.weights.h5")
        _assert_same_file(tmp_path / "ours.weights.h5", tmp_path / "keras.weights.h5")
        _train(gan, config, 1, seed=1)


def test_the_comparison_sees_a_dropped_attr_a_dropped_dataset_and_a_changed_value(tmp_path):
    config, gan = _trainer("fgan_ring8_mlp")
    _train(gan, config, 1)
    original = tmp_path / "a.weights.h5"
    gan.save_weights(original)
    edits = {
        "attr": lambda f: f["critic/vars"].attrs.__delitem__("name"),
        "dataset": lambda f: f["critic/layers/dense/vars"].__delitem__("1"),
        "value": lambda f: f["critic/layers/dense/vars/0"].write_direct(
            np.asarray(f["critic/layers/dense/vars/0"][()] + 1)),
    }
    for kind, edit in edits.items():
        copy = tmp_path / f"{kind}.weights.h5"
        shutil.copy(original, copy)
        with h5py.File(copy, "r+") as file:
            edit(file)
        with pytest.raises(AssertionError):
            _assert_same_file(copy, original)


class _Constant(keras.layers.Layer):
    """A layer that stores a plain array beside its variable (not a variable: the fallback)."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return x * self.scale

    def save_own_variables(self, store):
        store["0"] = self.scale
        store["1"] = np.arange(3.0)

    def load_own_variables(self, store):
        self.scale.assign(store["0"])


class _AsksTheStore(keras.layers.Dense):
    """A layer whose saving reads the store back (a store method the recorder lacks)."""

    def save_own_variables(self, store):
        super().save_own_variables(store)
        assert len(store.keys()) == 2


@pytest.mark.parametrize("layer", [_Constant, lambda: _AsksTheStore(2)], ids=["constant", "reads_the_store"])
def test_a_layout_it_cannot_replay_falls_back_to_keras_with_the_same_file(tmp_path, layer):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2), layer()])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 2)), np.zeros((4, 2)), verbose=0)
    weights_file = WeightsFile(model)
    assert not weights_file.replays
    weights_file.write(tmp_path / "ours.weights.h5")
    model.save_weights(tmp_path / "keras.weights.h5")
    _assert_same_file(tmp_path / "ours.weights.h5", tmp_path / "keras.weights.h5")


def test_an_optimizer_built_after_the_layout_was_learnt_is_written(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3), keras.layers.BatchNormalization()])
    model.compile(optimizer="adam", loss="mse")
    weights_file = WeightsFile(model)  # the optimizer has its step and learning rate only, no slots yet
    unbuilt = len(model.optimizer.variables)
    assert weights_file.replays
    model.fit(np.ones((4, 2)), np.zeros((4, 3)), verbose=0)
    assert len(model.optimizer.variables) > unbuilt
    weights_file.write(tmp_path / "ours.weights.h5")
    model.save_weights(tmp_path / "keras.weights.h5")
    _assert_same_file(tmp_path / "ours.weights.h5", tmp_path / "keras.weights.h5")
    assert f"optimizer/vars/{unbuilt}" in _contents(tmp_path / "ours.weights.h5")
