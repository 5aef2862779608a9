"""``tfds:NAME[/CONFIG]``: an image dataset from TensorFlow Datasets, read from disk only.

``tfds:mnist``, ``tfds:cifar10,data_dir=~/tensorflow_datasets``,
``tfds:celeb_a/2.1.0,split=train[:10%]``. The data must already be prepared
(``tfds build NAME`` or ``tfds.load(NAME)`` once, with network); fgan-bench never downloads,
and a dataset that is not prepared gets one line saying how to prepare it. Images are
scaled to [−1, 1] like ``mnist``; labels and the test split are kept where the dataset has
them, so the Parzen and classifier metrics apply. Needs the optional extra
``pip install fgan-bench[tfds]``.
"""

from __future__ import annotations

import numpy as np

from fgan_bench.datasets.base import Dataset
from fgan_bench.datasets.builtin import IMAGE_RANGE, _images_in_range
from fgan_bench.errors import FganBenchError


def _load_split(module, name: str, split: str, data_dir: str | None, image_key: str, label_key: str):
    try:
        data = module.load(name, split=split, data_dir=data_dir, download=False)
    except module.core.registered.DatasetNotFoundError:
        raise FganBenchError(f"tfds has no dataset {name!r}; see `tfds.list_builders()`") from None
    except (AssertionError, FileNotFoundError):
        where = data_dir or "~/tensorflow_datasets"
        raise FganBenchError(
            f"tfds dataset {name!r} (split {split!r}) is not prepared in {where}: run "
            f"`tfds build {name}{' --data_dir ' + data_dir if data_dir else ''}` once with network"
        ) from None
    except ValueError as error:
        raise FganBenchError(f"tfds dataset {name!r}: {str(error).splitlines()[0]}") from None
    features = data.element_spec
    if image_key not in features:
        raise FganBenchError(f"tfds dataset {name!r} has no feature {image_key!r} (found: {', '.join(features)}); "
                             f"pass image_key=...")
    keys = [image_key] + ([label_key] if label_key in features else [])
    batches = list(module.as_numpy(data.map(lambda example: {k: example[k] for k in keys}).batch(4096)))
    if not batches:
        raise FganBenchError(f"tfds dataset {name!r}, split {split!r} is empty")
    images = np.concatenate([b[image_key] for b in batches])
    labels = np.concatenate([b[label_key] for b in batches]) if label_key in features else None
    return _images_in_range(images), labels


def tfds(
    name: str,
    data_dir: str | None = None,
    split: str = "train",
    test_split: str = "test",
    image_key: str = "image",
    label_key: str = "label",
) -> Dataset:
    """Images ``image_key`` (and labels ``label_key``) of TFDS dataset ``name``; ``test_split`` is
    held out when the dataset has it (give ``test_split=`` empty to train on everything)."""
    try:
        import tensorflow_datasets as module
    except ImportError:
        raise FganBenchError("tfds datasets need tensorflow-datasets: pip install 'fgan-bench[tfds]'") from None
    if data_dir:
        from pathlib import Path

        data_dir = str(Path(data_dir).expanduser())
    array, labels = _load_split(module, str(name), split, data_dir, image_key, label_key)
    test_array = test_labels = None
    if test_split:
        try:
            test_array, test_labels = _load_split(module, str(name), test_split, data_dir, image_key, label_key)
        except FganBenchError:
            test_array = test_labels = None
    if labels is None or test_labels is None:
        labels = test_labels = None
    parameters = {"name": name, "data_dir": data_dir, "split": split, "test_split": test_split,
                  "image_key": image_key, "label_key": label_key}
    return Dataset(
        name="tfds",
        kind="image",
        shape=array.shape[1:],
        value_range=IMAGE_RANGE,
        description=f"TFDS {name} ({len(array)} {split} images"
        + (f" + {len(test_array)} {test_split} images)" if test_array is not None else ")"),
        array=array,
        labels=labels,
        test_array=test_array,
        test_labels=test_labels,
        parameters={k: v for k, v in parameters.items() if v is not None},
    )
