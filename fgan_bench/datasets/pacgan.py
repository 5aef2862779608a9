"""The mode-coverage targets with PacGAN's published parameters (Lin et al., 2018, Table 1).

* ``ring8_pacgan``: 8 Gaussians on the unit circle at angles 2πk/8, k = 0…7 (not
  ``linspace(0, 2π, 8)``, which repeats a mode), σ = 0.01.
* ``grid25_pacgan``: 25 Gaussians at {−4, −2, 0, 2, 4}², σ = 0.05 (the same law as
  ``grid25``; its own name pins the protocol).

Both are scored as PacGAN and VEEGAN do (the ``modes`` metric): on 2,500 generated
samples, a sample is high quality within 3σ of its nearest mode; a mode is captured when
it is the nearest mode of a high-quality sample.
"""

from __future__ import annotations

import numpy as np

from fgan_bench.datasets.base import Dataset
from fgan_bench.datasets.builtin import VECTOR_RANGE, GaussianMixture

#: PacGAN's evaluation: this many generated samples per run.
PACGAN_SAMPLES = 2500


def _mixture_dataset(name: str, description: str, modes: np.ndarray, std: float) -> Dataset:
    mixture = GaussianMixture(modes, std)
    return Dataset(
        name=name,
        kind="vector",
        shape=(2,),
        value_range=VECTOR_RANGE,
        description=description,
        distribution=mixture.distribution,
        sampler=mixture.sample,
        modes=modes.astype(np.float32),
        mode_std=std,
        defaults={"num_samples": PACGAN_SAMPLES},
    )


def ring8_pacgan() -> Dataset:
    """PacGAN's ring: 8 Gaussians on the unit circle, angles 2πk/8, σ = 0.01."""
    angles = 2 * np.pi * np.arange(8) / 8
    modes = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return _mixture_dataset("ring8_pacgan", "PacGAN's ring: 8 Gaussians on the unit circle, σ = 0.01", modes, 0.01)


def grid25_pacgan() -> Dataset:
    """PacGAN's grid: 25 Gaussians at {−4, −2, 0, 2, 4}², σ = 0.05."""
    axis = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
    modes = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    return _mixture_dataset("grid25_pacgan", "PacGAN's grid: 25 Gaussians at {−4, −2, 0, 2, 4}², σ = 0.05", modes, 0.05)


PACGAN_DATASETS = {"ring8_pacgan": ring8_pacgan, "grid25_pacgan": grid25_pacgan}
