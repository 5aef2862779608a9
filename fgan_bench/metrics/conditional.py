"""Metrics of runs with labels: does a sample asked for class y look like class y? (and the
semi-supervised critic's accuracy, :data:`SEMI_SUPERVISED_METRIC`)

Samples come with the labels they were requested for (0, 1, …, K−1, 0, … from
:func:`fgan_bench.datasets.labels.requested_labels`):

* ``conditional_accuracy``: images — the share of samples the locally trained classifier
  (:mod:`fgan_bench.metrics.classifier`) assigns to their requested class (chance: 1/K);
  ring8 / grid25 — the share within 3σ of their requested mode (chance ≈ 1/K for a
  generator that ignores the label and covers every mode).
* ``conditional_accuracy_worst_class``: the smallest per-class accuracy.
* ``intra_fd`` (Miyato & Koyama, 2018): the Fréchet distance between the class's held-out
  examples and its samples, averaged over classes — in the classifier's feature space for
  images, in data space otherwise.
* ``classes_covered`` (ring8 / grid25): classes with at least one sample within 3σ of their mode.
"""

from __future__ import annotations

import numpy as np

from fgan_bench.metrics.base import Metric
from fgan_bench.metrics.samples import frechet_distance

#: A sample is on its mode within this many σ (as :func:`fgan_bench.metrics.modes.mode_metrics`).
MODE_THRESHOLD = 3.0


def per_class_mean(hits: np.ndarray, labels: np.ndarray, classes: int) -> np.ndarray:
    """The mean of ``hits`` within each class (NaN for a class with no sample)."""
    counts = np.bincount(labels, minlength=classes)
    sums = np.bincount(labels, weights=hits.astype(np.float64), minlength=classes)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def mode_hits(samples: np.ndarray, labels: np.ndarray, modes: np.ndarray, std: float) -> np.ndarray:
    """Whether each sample lies within 3σ of the mode of its requested label."""
    distance = np.linalg.norm(np.asarray(samples, np.float64) - np.asarray(modes, np.float64)[labels], axis=1)
    return distance <= MODE_THRESHOLD * std


def intra_fd(real: np.ndarray, real_labels: np.ndarray, fake: np.ndarray, fake_labels: np.ndarray,
             classes: int) -> float:
    """Mean over classes of FD(real of class c, fake of class c) on the given features."""
    distances = [
        frechet_distance(real[real_labels == c], fake[fake_labels == c])
        for c in range(classes)
        if (real_labels == c).sum() > 1 and (fake_labels == c).sum() > 1
    ]
    return float(np.mean(distances)) if distances else float("nan")


def _summary(hits: np.ndarray, labels: np.ndarray, classes: int) -> dict[str, float]:
    by_class = per_class_mean(hits, labels, classes)
    return {"conditional_accuracy": float(hits.mean()), "conditional_accuracy_worst_class": float(np.nanmin(by_class))}


def conditional_metrics(dataset, samples: np.ndarray, labels: np.ndarray, *, classes: int, seed: int = 0,
                        cache_dir=None) -> dict[str, float]:
    """The metrics of the module doc for ``samples`` requested with ``labels``."""
    labels = np.asarray(labels, np.int64)
    if dataset.synthetic and dataset.modes is not None:
        hits = mode_hits(samples, labels, dataset.modes, float(dataset.mode_std))
        real_labels = np.random.default_rng(seed).integers(0, classes, size=len(samples))
        real = dataset.modes[real_labels] + dataset.mode_std * np.random.default_rng(seed + 1).normal(
            size=(len(samples), *dataset.shape))
        return {**_summary(hits, labels, classes),
                "classes_covered": int((per_class_mean(hits, labels, classes) > 0).sum()),
                "intra_fd": intra_fd(real, real_labels, samples, labels, classes)}
    real, real_labels = (dataset.test_array, dataset.test_labels) if dataset.test_labels is not None else (
        dataset.array, dataset.labels)
    if dataset.kind != "image" or not dataset.labelled:
        return {"intra_fd": intra_fd(real, real_labels, samples, labels, classes)}
    from fgan_bench.metrics.classifier import classifier_features, feature_classifier

    model, _ = feature_classifier(dataset, cache_dir)
    predicted = np.argmax(model.predict(np.asarray(samples, np.float32), batch_size=512, verbose=0), axis=-1)
    return {**_summary(predicted == labels, labels, classes),
            "intra_fd": intra_fd(classifier_features(model, real), real_labels,
                                 classifier_features(model, samples), labels, classes)}


def _compute(inputs) -> dict[str, float]:
    from fgan_bench.datasets.labels import class_count

    return conditional_metrics(inputs.dataset, inputs.fake, inputs.fake_labels, classes=class_count(inputs.dataset),
                               seed=inputs.seed, cache_dir=inputs.cache_dir)


CONDITIONAL_METRIC = Metric(
    "conditional",
    _compute,
    "samples of each requested class: classifier (images) or own-mode (ring8, grid25) accuracy, intra-FD",
    applies_to=lambda inputs: inputs.fake_labels is not None,
    directions={"conditional_accuracy": "higher", "conditional_accuracy_worst_class": "higher",
                "intra_fd": "lower", "classes_covered": "higher"},
)


def _critic_accuracy(inputs) -> dict[str, float]:
    logits = np.asarray(inputs.class_logits(inputs.dataset.test_array))
    return {"critic_test_accuracy": float(np.mean(np.argmax(logits, axis=-1) == inputs.dataset.test_labels))}


#: The semi-supervised critic's test accuracy; ``labels_only_accuracy`` is the run's baseline
#: (:func:`fgan_bench.semisupervised.labels_only_baseline`), listed here for its direction.
SEMI_SUPERVISED_METRIC = Metric(
    "semi_supervised",
    _critic_accuracy,
    "a semi-supervised critic's test accuracy as a K-class classifier",
    applies_to=lambda inputs: inputs.class_logits is not None and inputs.dataset.labelled,
    directions={"critic_test_accuracy": "higher", "labels_only_accuracy": "higher"},
)
