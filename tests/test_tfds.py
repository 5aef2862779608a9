"""``tfds:NAME`` datasets through tensorflow_datasets' mock data (nothing is downloaded)."""

from __future__ import annotations

import numpy as np
import pytest

from fgan_bench.datasets import get_dataset
from fgan_bench.errors import FganBenchError

tfds = pytest.importorskip("tensorflow_datasets")


def test_tfds_spec_loads_images_labels_and_the_test_split_from_mock_data(tmp_path):
    with tfds.testing.mock_data(num_examples=12):
        dataset = get_dataset(f"tfds:mnist,data_dir={tmp_path}")
    assert dataset.kind == "image" and dataset.shape == (28, 28, 1) and len(dataset.array) == 12
    assert dataset.array.min() >= -1.0 and dataset.array.max() <= 1.0 and dataset.array.max() > 0.5
    assert dataset.labelled and dataset.test_array.shape == (12, 28, 28, 1)
    assert dataset.labels.dtype == np.int64 and set(dataset.labels) <= set(range(10))
    assert dataset.parameters["data_dir"] == str(tmp_path)


def test_tfds_that_is_not_prepared_gets_one_line_saying_how(tmp_path):
    with pytest.raises(FganBenchError, match=r"not prepared in .*tfds build mnist --data_dir") as error:
        get_dataset(f"tfds:mnist,data_dir={tmp_path}")
    assert "\n" not in str(error.value)
    with pytest.raises(FganBenchError, match="no dataset 'no_such_dataset'"):
        get_dataset("tfds:no_such_dataset")
