"""A synthetic target read as a mixture of diagonal Gaussians, and its smoothed density in closed form.

Every built-in synthetic target (``mixture1d``, ``ring8``, ``grid25``, ``spiral``,
``ring8_pacgan``, ``grid25_pacgan``) is a TFP ``MixtureSameFamily`` of ``Independent(Normal)``
components:

    P = Σ_k w_k Π_i N(μ_ki, s_ki²).

The KDE path of the true divergence (:mod:`fgan_bench.metrics.density`) compares the
generator's KDE Q̂ = Q̂_n * K_h with the target smoothed by the same Gaussian kernel,
P * K_h. For such a mixture the convolution only widens each component,

    (P * K_h)(x) = Σ_k w_k Π_i N(x_i; μ_ki, s_ki² + h²),

so it is evaluated directly on a grid, without tabulating P first: per axis i a table
A_i[n, k] = N(x_in; μ_ki, s_ki² + h²) of the grid's cell centres, and the density is
Σ_k w_k Π_i A_i[n_i, k] — one tensor contraction, cost (Π_i n_i)·K. Since P * K_h varies
on the scale √(s² + h²) ≥ h, a grid that resolves the kernel resolves it too.
"""

from __future__ import annotations

import dataclasses
import string

import numpy as np


@dataclasses.dataclass(frozen=True)
class DiagonalGaussianMixture:
    """P = Σ_k w_k Π_i N(μ_ki, s_ki²): ``weights`` (K,), ``means`` and ``stds`` (K, d)."""

    weights: np.ndarray
    means: np.ndarray
    stds: np.ndarray

    @property
    def dimension(self) -> int:
        return self.means.shape[1]

    @classmethod
    def of(cls, dataset) -> DiagonalGaussianMixture | None:
        """The synthetic dataset's exact density as such a mixture (a single Normal is one component),
        or ``None`` where it is something else (a plugin's distribution, image data)."""
        if not dataset.synthetic or len(dataset.shape) != 1:
            return None
        distribution = dataset.distribution()
        try:
            if hasattr(distribution, "components_distribution"):
                components = distribution.components_distribution
                weights = np.asarray(distribution.mixture_distribution.probs_parameter(), np.float64)
            else:
                components, weights = distribution, np.ones(1)
            normal = getattr(components, "distribution", components)  # Independent(Normal) or Normal
            shape = (len(weights), dataset.shape[0])
            means, stds = _per_component(normal.loc, shape), _per_component(normal.scale, shape)
        except (AttributeError, TypeError, ValueError):
            return None
        if type(normal).__name__ != "Normal" or weights.ndim != 1 or not np.all(stds > 0):
            return None
        return cls(weights / weights.sum(), means, stds)

    def smoothed_density(self, axes, bandwidth: float) -> np.ndarray:
        """(P * K_h) at the cell centres of a regular grid (``axes[i]``: the centres along axis i),
        shape ``(len(axes[0]), …)``, in float64; see the module docstring."""
        if len(axes) != self.dimension:
            raise ValueError(f"a {self.dimension}-D mixture needs {self.dimension} grid axes, got {len(axes)}")
        tables = []
        for i, centres in enumerate(axes):
            variance = self.stds[:, i] ** 2 + float(bandwidth) ** 2
            offsets = np.asarray(centres, np.float64)[:, None] - self.means[:, i]
            tables.append(np.exp(-0.5 * offsets**2 / variance) / np.sqrt(2 * np.pi * variance))
        letters = string.ascii_lowercase[: self.dimension]
        subscripts = ",".join(f"{letter}z" for letter in letters) + ",z->" + letters
        return np.einsum(subscripts, *tables, self.weights, optimize=True)


def _per_component(parameter, shape: tuple[int, int]) -> np.ndarray:
    """A Normal's ``loc`` or ``scale`` as a (K, d) table: given per component and coordinate (in
    any layout of K·d values), or broadcast (a scale shared by all)."""
    values = np.asarray(parameter, np.float64)
    if values.size == shape[0] * shape[1]:
        return values.reshape(shape)
    return np.broadcast_to(values, shape).copy()
