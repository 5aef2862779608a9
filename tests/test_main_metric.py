"""One main-metric rule: the protocol's search score and the report's answer rank by the same metric."""

import numpy as np
import pytest

from fgan_bench.datasets import register_dataset, unregister_dataset
from fgan_bench.datasets.base import Dataset
from fgan_bench.metrics.main_metric import MAIN_METRICS, dataset_main_metric, main_metric


@pytest.mark.parametrize(("dataset", "expected"), [
    ("ring8", "true_jensen_shannon"),  # a known 2-D density: the truth
    ("mixture1d", "true_jensen_shannon"),
    ("digits", "classifier_frechet_distance"),  # labelled images
])
def test_the_dataset_s_main_metric(dataset, expected):
    assert dataset_main_metric(dataset) == expected


def test_unlabelled_vectors_are_ranked_by_mmd2():
    data = Dataset(name="cloud_for_main_metric", kind="vector", shape=(3,), value_range=(-1.0, 1.0),
                   description="unlabelled 3-D points", array=np.zeros((10, 3), np.float32))
    register_dataset("cloud_for_main_metric", data)
    try:
        assert dataset_main_metric("cloud_for_main_metric") == "mmd2"
    finally:
        unregister_dataset("cloud_for_main_metric")


def test_the_report_s_choice_from_measured_metrics_follows_the_same_order():
    assert main_metric({"mmd2", "true_jensen_shannon", "precision"}) == "true_jensen_shannon"
    assert main_metric(["mmd2", "classifier_frechet_distance"]) == "classifier_frechet_distance"
    assert main_metric({"precision"}) is None
    assert MAIN_METRICS[0] == "true_jensen_shannon" and MAIN_METRICS[-1] == "mmd2"
