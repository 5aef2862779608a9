"""The main metric: the one metric divergences are ranked by on a dataset (one rule, used by the
protocol's search score and the report's answer).

The rule is an order of preference over the metrics a dataset can be scored by: the true
Jensen–Shannon divergence where the density is known (bounded, symmetric, neutral between the
divergences compared), the classifier-feature Fréchet distance for labelled images, else MMD².
"""

from __future__ import annotations

from collections.abc import Iterable

#: Most preferred first.
MAIN_METRICS = ("true_jensen_shannon", "classifier_frechet_distance", "mmd2")


def main_metric(metrics: Iterable[str]) -> str | None:
    """The first of :data:`MAIN_METRICS` among ``metrics`` (None if none of them is there)."""
    available = set(metrics)
    return next((name for name in MAIN_METRICS if name in available), None)


def dataset_main_metric(dataset: str) -> str:
    """The main metric of a registered dataset, from what it offers: a known density in at most 2
    dimensions gives the true Jensen–Shannon divergence, labelled images the classifier Fréchet
    distance, every dataset MMD²."""
    from fgan_bench.datasets import get_dataset

    data = get_dataset(dataset)
    offered = {
        "true_jensen_shannon": data.synthetic and data.dimension <= 2,
        "classifier_frechet_distance": data.kind == "image" and data.labelled,
        "mmd2": True,
    }
    return main_metric(name for name, offers in offered.items() if offers)
