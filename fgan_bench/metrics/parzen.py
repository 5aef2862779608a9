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

#: Goodfellow et al.'s bandwidth grid.
BANDWIDTHS = tuple(np.logspace(-1, 0, 10))


def parzen_log_likelihood(samples: np.ndarray, points: np.ndarray, bandwidth: float, chunk: int = 512) -> np.ndarray:
    """log p̂(x) for each row of ``points``, p̂ the Gaussian KDE of ``samples`` (vectorised in chunks)."""
    from scipy.special import logsumexp

    samples = np.asarray(samples, np.float64).reshape(len(samples), -1)
    points = np.asarray(points, np.float64).reshape(len(points), -1)
    d = samples.shape[1]
    norm = -math.log(len(samples)) - 0.5 * d * math.log(2.0 * math.pi * bandwidth**2)
    sample_sq = (samples**2).sum(1)
    values = np.empty(len(points))
    for start in range(0, len(points), chunk):
        block = points[start : start + chunk]
        squared = np.maximum((block**2).sum(1)[:, None] + sample_sq[None, :] - 2.0 * block @ samples.T, 0.0)
        values[start : start + chunk] = logsumexp(-squared / (2.0 * bandwidth**2), axis=1) + norm
    return values


def parzen_window(
    samples: np.ndarray, validation: np.ndarray, test: np.ndarray, bandwidths: tuple[float, ...] = BANDWIDTHS
) -> dict[str, float]:
    """``parzen_log_likelihood`` (mean test LL, nats), ``parzen_log_likelihood_sem`` and ``parzen_bandwidth``."""
    scores = [float(np.mean(parzen_log_likelihood(samples, validation, h))) for h in bandwidths]
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
