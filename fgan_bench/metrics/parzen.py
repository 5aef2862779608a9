"""Parzen-window log-likelihood, Goodfellow et al. (2014)'s protocol for image GANs.

A Gaussian kernel density estimate is fitted to the generated samples; its bandwidth σ is
the one in logspace(−1, 0, 10) that maximises the mean log-likelihood of a validation
split of real data; the reported value is the mean log-likelihood of the test split under
that KDE, ± its standard error std/√N. Images are scaled to [0, 1] first, the range the
protocol's bandwidth grid was made for.

    log p̂(x) = log Σᵢ exp(−‖x − yᵢ‖² / 2σ²) − log N − (d/2) log(2πσ²)
"""

from __future__ import annotations

import math

import numpy as np

from fgan_bench.metrics.samples import squared_distances

#: Goodfellow et al.'s bandwidth grid.
BANDWIDTHS = tuple(np.logspace(-1, 0, 10))


def parzen_log_likelihood(samples: np.ndarray, points: np.ndarray, bandwidth: float, chunk: int = 512) -> np.ndarray:
    """log p̂(x) for each row of ``points``, p̂ the Gaussian KDE of ``samples`` (vectorised in chunks)."""
    return parzen_log_likelihoods(samples, points, (bandwidth,), chunk)[0]


def parzen_log_likelihoods(samples: np.ndarray, points: np.ndarray, bandwidths, chunk: int = 512) -> np.ndarray:
    """log p̂_σ(x) for each σ in ``bandwidths`` (rows) and each row of ``points`` (columns).

    The squared distances ‖x − yᵢ‖² are computed once per chunk of points for all σ, and each
    log-sum-exp is shifted by the row's nearest sample: log Σᵢ exp(−dᵢ/2σ²) = −d_min/2σ² +
    log Σᵢ exp(−(dᵢ − d_min)/2σ²), every term ≤ 1 and the largest exactly 1.
    """
    samples = np.asarray(samples, np.float64).reshape(len(samples), -1)
    points = np.asarray(points, np.float64).reshape(len(points), -1)
    widths = np.asarray(bandwidths, np.float64)
    d = samples.shape[1]
    norms = -math.log(len(samples)) - 0.5 * d * np.log(2.0 * math.pi * widths**2)
    values = np.empty((len(widths), len(points)))
    for start in range(0, len(points), chunk):
        squared = squared_distances(points[start : start + chunk], samples)
        nearest = squared.min(1)
        excess = squared - nearest[:, None]
        for row, width in enumerate(widths):
            scale = 0.5 / width**2
            values[row, start : start + chunk] = -scale * nearest + np.log(np.exp(-scale * excess).sum(1)) + norms[row]
    return values


def parzen_window(
    samples: np.ndarray, validation: np.ndarray, test: np.ndarray, bandwidths: tuple[float, ...] = BANDWIDTHS
) -> dict[str, float]:
    """``parzen_log_likelihood`` (mean test LL, nats), ``parzen_log_likelihood_sem`` and ``parzen_bandwidth``."""
    scores = parzen_log_likelihoods(samples, validation, bandwidths).mean(1)
    best = float(bandwidths[int(np.argmax(scores))])
    test_ll = parzen_log_likelihood(samples, test, best)
    return {
        "parzen_log_likelihood": float(np.mean(test_ll)),
        "parzen_log_likelihood_sem": float(np.std(test_ll) / math.sqrt(len(test_ll))),
        "parzen_bandwidth": best,
    }


def to_unit_range(images: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """Images rescaled from ``value_range`` to [0, 1]."""
    low, high = value_range
    return (np.asarray(images, np.float64) - low) / (high - low)
