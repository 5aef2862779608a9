"""A small image classifier trained locally, whose features replace Inception's.

FID and KID usually embed images with an ImageNet Inception network, which must be
downloaded and knows nothing of 8×8 digits. Like TF-GAN's MNIST score, fgan-bench trains a
small convolutional classifier on the dataset's own training split and measures
distances in its penultimate layer. It is trained once per (data, architecture) and cached
in the cache directory (``$FGAN_BENCH_CACHE``, else ``$XDG_CACHE_HOME/fgan_bench``, else
``~/.cache/fgan_bench``); its test accuracy is reported next to every metric it underlies.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

import numpy as np

from fgan_bench import atomic_io
from fgan_bench.errors import FganBenchError

#: Bump when the architecture or training changes, so cached classifiers are retrained.
ARCHITECTURE = "conv32-conv64s2-conv64s2-gap-dense128-v1"
FEATURE_LAYER = "features"
#: Training length: about this many batches of 128, in 2 to 30 epochs (digits: 30, MNIST: 4).
TRAINING_STEPS = 1500
BATCH_SIZE = 128


def cache_directory() -> Path:
    """Where trained classifiers are kept between runs."""
    if os.environ.get("FGAN_BENCH_CACHE"):
        return Path(os.environ["FGAN_BENCH_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fgan_bench"


def _fingerprint(dataset) -> str:
    digest = hashlib.sha256(ARCHITECTURE.encode())
    for array in (dataset.array, dataset.labels, dataset.test_array, dataset.test_labels):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def _build(shape: tuple[int, ...], classes: int):
    import keras

    inputs = keras.Input(shape)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    features = keras.layers.Dense(128, activation="relu", name=FEATURE_LAYER)(x)
    outputs = keras.layers.Dense(classes)(keras.layers.Dropout(0.3)(features))
    return keras.Model(inputs, outputs, name="feature_classifier")


_LOADED: dict[tuple[str, str], tuple] = {}


def _load_or_train(fingerprint: str, folder: Path, dataset):
    import keras

    model_file, info_file = (
        folder / f"classifier-{dataset.name}-{fingerprint}.keras",
        folder / f"classifier-{dataset.name}-{fingerprint}.json",
    )
    if model_file.exists() and info_file.exists():
        model = keras.models.load_model(model_file)
        return model, json.loads(info_file.read_text())["test_accuracy"]
    classes = int(max(dataset.labels.max(), dataset.test_labels.max()) + 1)
    keras.utils.set_random_seed(0)
    model = _build(dataset.shape, classes)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        metrics=["accuracy"],
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    epochs = int(np.clip(math.ceil(TRAINING_STEPS / math.ceil(len(dataset.array) / BATCH_SIZE)), 2, 30))
    model.fit(dataset.array, dataset.labels, batch_size=BATCH_SIZE, epochs=epochs, verbose=0, shuffle=True)
    _, accuracy = model.evaluate(dataset.test_array, dataset.test_labels, batch_size=512, verbose=0)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_io.write_atomically(model_file, model.save)
    atomic_io.write_json_atomically(
        info_file,
        {"dataset": dataset.spec, "architecture": ARCHITECTURE, "test_accuracy": float(accuracy), "epochs": epochs},
    )
    return model, float(accuracy)


def feature_classifier(dataset, cache_dir: str | os.PathLike | None = None):
    """(the trained classifier, its test accuracy), training it on first use.

    Raises:
        FganBenchError: the dataset has no labelled training and test splits.
    """
    if not dataset.labelled:
        raise FganBenchError(
            f"dataset {dataset.spec!r} has no class labels for a train and test split; "
            "classifier metrics need them (give labels, test_array and test_labels)"
        )
    directory = Path(cache_dir) if cache_dir is not None else cache_directory()
    key = (_fingerprint(dataset), str(directory))
    if key not in _LOADED:
        _LOADED[key] = _load_or_train(key[0], directory, dataset)
    return _LOADED[key]


def classifier_features(model, images: np.ndarray) -> np.ndarray:
    """The penultimate-layer activations (the ``features`` layer) for ``images``."""
    import keras

    extractor = keras.Model(model.inputs, model.get_layer(FEATURE_LAYER).output)
    return np.asarray(extractor.predict(np.asarray(images, np.float32), batch_size=512, verbose=0), np.float64)
