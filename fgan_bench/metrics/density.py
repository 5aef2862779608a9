"""The true f-divergence D_f(P‖Q̂) where the target density p is known (1-D and 2-D data).

**Grid path.** Where the exact path (:mod:`fgan_bench.metrics.exact_1d`: a 1-D
Gaussian-mixture target and the paper's linear generator) does not apply, 2-D exact
generator densities and every KDE go through the grid quadrature below; its limits: the
e^±50 (exact) or 10^±3 (KDE) clip of p/q and the finite grid bias χ²-type divergences
(Pearson, Neyman, α ∉ [0, 1]) wherever their integrand lives in the far tails, and an
infinite divergence comes out as a large finite number. With a KDE the estimate is of the
smoothed D_f(P * K_h‖Q̂) (below) and is meant to rank generators, not to equal D_f(P‖Q).

The generator's density q̂ is exact where the generator has a closed form (the paper's
linear generator G(z) = μ + σ·z gives Q = N(μ, σ²)), and otherwise a Gaussian kernel
density estimate of its samples, with the bandwidth h chosen by likelihood
cross-validation on the samples themselves (so a generator concentrated on σ = 0.02 modes
gets a narrow kernel, a diffuse one a wide kernel).

With a KDE, P is smoothed by the same kernel: the estimate is D_f(P * K_h ‖ Q̂), where
Q̂ = Q̂_n * K_h. Both sides then carry the same smoothing and the same Gaussian tails, so a
perfect generator scores ≈ 0 — against the raw P, the KDE's thinner-than-P tails beyond
the outermost samples would make χ²-type divergences (Pearson, α > 1) astronomically large
for any generator. As n → ∞ and h → 0 the estimate tends to D_f(P‖Q).

Both densities are tabulated on a regular grid covering the target's support, and

    D_f(P‖Q) = ∫ q(x) f(p(x)/q(x)) dx  ≈  Σ_cells q f(p/q) · |cell|  +  Q(outside) · f(0),

the last term being the generator's mass outside the grid, where p ≈ 0. The KDE is
binned: samples are counted into grid cells and smoothed with a Gaussian filter of width
h (:func:`gaussian_smooth`: ``scipy.ndimage``'s filter, by FFT where the kernel is long), so
the cost is that of the grid, not of the sample count. Where P is a mixture of diagonal
Gaussians (every built-in synthetic target), P * K_h is evaluated in closed form (each
component's variance widened by h², :mod:`fgan_bench.metrics.mixture`) and the cells need
only resolve h (h/3 wide); otherwise P is tabulated on cells that also resolve its own scale
and filtered like the counts. (Closed form against tabulated and filtered on ring8: the
divergences agree to < 1 %, the tabulated path's binning error; a diffuse generator's
evaluation is ~10× faster on the coarser grid.)

With a KDE, density ratios p/q̂ are clipped to [10⁻³, 10³]. Beyond its outermost samples a
KDE's tails are those of its kernel, thinner than P's, so unclipped χ²-type divergences
(Pearson, α > 1) come out astronomically large for any generator, a perfect one included
(10¹⁵ for exact ring8 samples); where the generator has no mass at all, most D_f are
infinite. The clipped estimate stays finite and still ranks generators: on ring8, exact
samples score Pearson 0.08, samples missing half a mode 16 (KL: 0.011 and 0.18). With an
exact generator density the ratio is clipped only at e^±50, against float64 overflow.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence

import numpy as np

#: |log(p/q)| is clipped to this with an exact generator density (float64 safety) ...
MAX_LOG_RATIO = 50.0
#: ... and to this with a KDE (see the module docstring).
KDE_MAX_LOG_RATIO = math.log(1e3)
#: Grid points per axis at most (1-D, 2-D).
MAX_POINTS = {1: 200_001, 2: 1_201}
#: Gaussian kernels are cut at this many standard deviations (as ``scipy.ndimage``'s ``truncate``) ...
TRUNCATE = 6.0
#: ... and applied by FFT along an axis where their radius exceeds this many cells.
FFT_RADIUS = 32


@dataclasses.dataclass(frozen=True)
class Grid:
    """A regular grid: ``axes[i]`` holds the cell centres along axis i."""

    axes: tuple[np.ndarray, ...]

    @property
    def spacing(self) -> np.ndarray:
        return np.array([a[1] - a[0] for a in self.axes])

    @property
    def cell_volume(self) -> float:
        return float(np.prod(self.spacing))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.axes)

    @property
    def low(self) -> np.ndarray:
        return np.array([a[0] for a in self.axes]) - self.spacing / 2

    @property
    def high(self) -> np.ndarray:
        return np.array([a[-1] for a in self.axes]) + self.spacing / 2

    def points(self) -> np.ndarray:
        """Every cell centre, shape (prod(shape), d), in C order."""
        mesh = np.meshgrid(*self.axes, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1)


def make_grid(real: np.ndarray, resolution: float, *, padding: float) -> Grid:
    """A grid over the bounding box of ``real`` plus ``padding``, cells ≤ ``resolution`` wide.

    The number of points per axis is capped (:data:`MAX_POINTS`), coarsening the cells if
    need be.
    """
    real = np.asarray(real, np.float64).reshape(len(real), -1)
    d = real.shape[1]
    if d not in MAX_POINTS:
        raise ValueError(f"grid quadrature needs 1-D or 2-D data, got {d}-D")
    low, high = real.min(0) - padding, real.max(0) + padding
    axes = []
    for lo, hi in zip(low, high, strict=True):
        count = int(min(MAX_POINTS[d], max(3, math.ceil((hi - lo) / resolution) + 1)))
        axes.append(np.linspace(lo, hi, count))
    return Grid(tuple(axes))


@dataclasses.dataclass(frozen=True)
class DiagonalGaussian:
    """An exact generator density: independent N(μᵢ, σᵢ²) per coordinate."""

    mean: np.ndarray
    std: np.ndarray

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        from scipy import stats

        return stats.norm.logpdf(np.asarray(x, np.float64), self.mean, np.abs(self.std)).sum(-1)

    def mass_in(self, low: np.ndarray, high: np.ndarray) -> float:
        from scipy import stats

        std = np.abs(self.std)
        return float(np.prod(stats.norm.cdf(high, self.mean, std) - stats.norm.cdf(low, self.mean, std)))


def select_bandwidth(
    samples: np.ndarray, *, candidates: int = 11, seed: int = 0, max_fit: int = 3000, max_held_out: int = 1000
) -> float:
    """Kernel width h maximising the held-out log-likelihood of the samples (likelihood CV).

    The samples are split 80/20; candidates are h = s·10^k for k on an even grid in
    [−2.5, 0], s the samples' mean standard deviation per coordinate.
    """
    from fgan_bench.metrics.parzen import parzen_log_likelihoods

    samples = np.asarray(samples, np.float64).reshape(len(samples), -1)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(samples))
    cut = max(1, len(samples) // 5)
    held_out, fit = samples[order[:cut]][:max_held_out], samples[order[cut:]][:max_fit]
    scale = float(np.mean(samples.std(0))) or 1.0
    widths = scale * np.logspace(-2.5, 0.0, candidates)
    scores = parzen_log_likelihoods(fit, held_out, widths).mean(1)
    return float(widths[int(np.nanargmax(scores))])


def gaussian_smooth(values: np.ndarray, sigma: Sequence[float]) -> np.ndarray:
    """``scipy.ndimage.gaussian_filter(values, sigma, mode="constant", truncate=TRUNCATE)``, faster.

    Along each axis i: the zero-padded convolution with wᵢ(k) ∝ exp(−k²/2σᵢ²), |k| ≤ r =
    ⌊TRUNCATE·σᵢ + ½⌋ cells, Σ wᵢ = 1 — ndimage's own 1-D filter where r ≤ :data:`FFT_RADIUS`,
    else the same kernel by FFT (``scipy.signal.fftconvolve``; equal to within ~10⁻¹⁶ of the
    largest value, whose rounding noise below 0 is set to 0 — the filter of non-negative
    values is non-negative). Subnormal inputs (< 2.2·10⁻³⁰⁸, the far tails of exp(log p)) are
    set to 0 first: they add nothing, and arithmetic on them is several times slower.
    """
    from scipy import ndimage, signal

    out = np.where(values < np.finfo(np.float64).tiny, 0.0, np.asarray(values, np.float64))
    for axis, width in enumerate(sigma):
        radius = int(TRUNCATE * float(width) + 0.5)
        if radius <= FFT_RADIUS:
            out = ndimage.gaussian_filter1d(out, float(width), axis=axis, mode="constant", truncate=TRUNCATE)
            continue
        offsets = np.arange(-radius, radius + 1)
        kernel = np.exp(-0.5 / float(width) ** 2 * offsets**2)
        shape = [1] * out.ndim
        shape[axis] = len(kernel)
        out = np.maximum(signal.fftconvolve(out, (kernel / kernel.sum()).reshape(shape), mode="same", axes=axis), 0.0)
    return out


def binned_kde(samples: np.ndarray, grid: Grid, bandwidth: float) -> tuple[np.ndarray, float]:
    """(q̂ on the grid, shape ``grid.shape``; the KDE's mass outside the grid).

    Samples are counted into their nearest cell and the counts smoothed with a Gaussian
    filter of standard deviation h (in cells), i.e. the Gaussian KDE up to binning error
    (the cells are at most h/3 wide when the grid is made for h).
    """
    samples = np.asarray(samples, np.float64).reshape(len(samples), -1)
    edges = [np.concatenate([a - (a[1] - a[0]) / 2, [a[-1] + (a[1] - a[0]) / 2]]) for a in grid.axes]
    counts, _ = np.histogramdd(samples, bins=edges)
    smoothed = gaussian_smooth(counts, bandwidth / grid.spacing)
    density = smoothed / (len(samples) * grid.cell_volume)
    inside = float(density.sum() * grid.cell_volume)
    return density, max(0.0, 1.0 - inside)


def divergence_by_quadrature(
    divergence,
    log_p: np.ndarray,
    log_q: np.ndarray,
    cell_volume: float,
    q_outside: float = 0.0,
    *,
    max_log_ratio: float = MAX_LOG_RATIO,
) -> float:
    """Σ q·f(p/q)·|cell| + Q(outside)·f(0), with |log p/q| clipped to ``max_log_ratio`` = L.

    Where q is below p·e^−L, q is raised to p·e^−L so the cell keeps its p-mass
    contribution p·f(u)/u at u = e^L.
    """
    from fgan_bench.divergences.validation import evaluate_float64

    log_p = np.asarray(log_p, np.float64).ravel()
    log_q = np.maximum(np.asarray(log_q, np.float64).ravel(), log_p - max_log_ratio)
    keep = np.isfinite(log_q)
    log_p, log_q = log_p[keep], log_q[keep]
    log_ratio = np.clip(log_p - log_q, -max_log_ratio, max_log_ratio)
    integrand = np.exp(log_q) * evaluate_float64(divergence.f, np.exp(log_ratio))
    value = float(np.sum(integrand) * cell_volume)
    if q_outside > 0:
        value += q_outside * float(evaluate_float64(divergence.f, np.array([math.exp(-max_log_ratio)]))[0])
    return value


def target_log_density(dataset, points: np.ndarray) -> np.ndarray:
    """log p at ``points`` from the dataset's exact TFP distribution, in float64."""
    distribution = dataset.distribution()
    values = distribution.log_prob(np.asarray(points, np.float32).reshape((-1, *dataset.shape)))
    return np.asarray(values, np.float64)


def true_divergences(
    dataset,
    fake: np.ndarray,
    divergences: Iterable,
    *,
    real: np.ndarray,
    generator_density: DiagonalGaussian | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """``{"true_<spec>": D_f(P‖Q̂)}`` for each divergence, plus ``kde_bandwidth`` (0 when exact).

    With a KDE (no ``generator_density``), P is smoothed by the same kernel (see above).

    Args:
        dataset: a synthetic 1-D or 2-D dataset (its exact density is P).
        fake: generator samples (for the KDE; ignored when ``generator_density`` is given).
        divergences: :class:`~fgan_bench.divergences.Divergence` objects.
        real: samples of P, to place the grid.
        generator_density: the generator's exact density, where it has one.
    """
    from fgan_bench.metrics.exact_1d import GaussianMixture1D, exact_divergences_1d

    mixture = GaussianMixture1D.of(dataset) if generator_density is not None else None
    if mixture is not None:
        exact = exact_divergences_1d(
            mixture, float(generator_density.mean[0]), float(generator_density.std[0]), list(divergences)
        )
        return {**{f"true_{spec}": value for spec, value in exact.items()}, "kde_bandwidth": 0.0}
    real = np.asarray(real, np.float64).reshape(len(real), -1)
    spread = float(np.max(real.max(0) - real.min(0)))
    target_scale = dataset.mode_std or spread / 50
    if generator_density is None:
        bandwidth, grid, log_p, log_q, q_outside = _kde_densities(dataset, fake, real, spread, target_scale, seed)
        max_log_ratio = KDE_MAX_LOG_RATIO
    else:
        bandwidth, max_log_ratio = 0.0, MAX_LOG_RATIO
        scale = float(np.min(np.abs(generator_density.std)))
        resolution = min(scale, target_scale) / 10
        grid = make_grid(real, resolution, padding=spread)  # wide: χ²-type integrands live in the tails
        points = grid.points()
        log_q = generator_density.log_prob(points)
        q_outside = max(0.0, 1.0 - generator_density.mass_in(grid.low, grid.high))
        log_p = target_log_density(dataset, points)
    results = {
        f"true_{div.spec}": divergence_by_quadrature(
            div, log_p, log_q, grid.cell_volume, q_outside, max_log_ratio=max_log_ratio
        )
        for div in divergences
    }
    results["kde_bandwidth"] = bandwidth
    return results


def _kde_densities(dataset, fake, real, spread: float, target_scale: float, seed: int):
    """``(h, grid, log(P * K_h), log Q̂, Q̂'s mass outside)`` for generator samples ``fake``.

    Where the target is a mixture of diagonal Gaussians (:mod:`fgan_bench.metrics.mixture`),
    P * K_h is evaluated in closed form and the grid's cells need only resolve the kernel
    (h/3 wide); otherwise P is tabulated on a grid that also resolves the target's own scale
    (min(h, target scale)/3) and smoothed numerically by :func:`gaussian_smooth`.
    """
    from fgan_bench.metrics.mixture import DiagonalGaussianMixture

    fake = np.asarray(fake, np.float64).reshape(len(fake), -1)
    fake = fake[np.all(np.isfinite(fake), axis=1)]
    bandwidth = select_bandwidth(fake, seed=seed)
    mixture = DiagonalGaussianMixture.of(dataset)
    resolution = (bandwidth if mixture is not None else min(bandwidth, target_scale)) / 3
    grid = make_grid(real, resolution, padding=0.1 * spread + 4 * max(bandwidth, target_scale))
    q, q_outside = binned_kde(fake, grid, bandwidth)
    if mixture is not None:
        p = mixture.smoothed_density(grid.axes, bandwidth)
    else:
        p = np.exp(target_log_density(dataset, grid.points())).reshape(grid.shape)
        p = gaussian_smooth(p, bandwidth / grid.spacing)
    with np.errstate(divide="ignore"):
        return bandwidth, grid, np.log(p).ravel(), np.log(q).ravel(), q_outside


def best_gaussian_fit(
    divergence, dataset, *, starts: Sequence[tuple[float, float]] | None = None, tolerance: float = 1e-3
) -> list[dict[str, float]]:
    """The local minima of θ ↦ D_f(P‖N(μ, σ²)) for a 1-D target P, best first.

    Nelder–Mead over θ = (μ, log σ) from several starting points, on the quadrature of both
    exact densities on a fine grid; minima closer than ``tolerance`` are merged. When P is a
    Gaussian mixture (every built-in 1-D target), each minimum is then polished on the exact
    D_f(P‖Q_θ) of :mod:`fgan_bench.metrics.exact_1d` (the grid's error in the far tails moves
    χ²-type optima: Neyman D(N(0, 1)‖N(0.5, 1.35²)) is 6.19, the grid says 6.04). Returns
    ``[{"mu": μ*, "sigma": σ*, "divergence": D_f(P‖Q_θ*)}, ...]``; an infinite D_f is no minimum.
    """
    if dataset.dimension != 1:
        raise ValueError(f"the Gaussian fit needs 1-D data, got {dataset.name} ({dataset.dimension}-D)")
    real = dataset.sample(20000, seed=12345).reshape(-1, 1).astype(np.float64)
    on_grid, exact = _grid_objective(divergence, dataset, real), _exact_objective(divergence, dataset)
    mean, std = float(real.mean()), float(real.std())
    if starts is None:
        starts = [(mean + a * std, std * b) for a in (-1.0, 0.0, 1.0) for b in (0.3, 1.0)]
    located: list[np.ndarray] = []
    for mu0, sigma0 in starts:
        theta, value = _nelder_mead(on_grid, [mu0, math.log(sigma0)], step=0.05 * sigma0)
        if math.isfinite(value) and not any(_close(theta, other, tolerance) for other in located):
            located.append(theta)
    minima: list[dict[str, float]] = []
    for theta in located:
        value = on_grid(theta)
        if exact is not None:
            theta, value = _nelder_mead(exact, theta, step=1e-3)
        if math.isfinite(value) and not any(_close(theta, [m["mu"], math.log(m["sigma"])], tolerance) for m in minima):
            minima.append({"mu": float(theta[0]), "sigma": float(math.exp(theta[1])), "divergence": value})
    return sorted(minima, key=lambda m: m["divergence"])


def _close(theta, other, tolerance: float) -> bool:
    """Whether two (μ, log σ) points are within ``tolerance`` in μ and in σ."""
    return abs(theta[0] - other[0]) < tolerance and abs(math.exp(theta[1]) - math.exp(other[1])) < tolerance


def _nelder_mead(objective, theta0, *, step: float) -> tuple[np.ndarray, float]:
    """Nelder–Mead from ``theta0`` with a first simplex of size ``step``, ``(θ*, f(θ*))``."""
    from scipy import optimize

    theta0 = np.asarray(theta0, np.float64)
    simplex = np.stack([theta0, theta0 + [step, 0.0], theta0 + [0.0, step]])
    fit = optimize.minimize(
        objective,
        theta0,
        method="Nelder-Mead",
        options={"xatol": 1e-6, "fatol": 1e-10, "maxiter": 4000, "initial_simplex": simplex},
    )
    return fit.x, float(fit.fun)


def _exact_objective(divergence, dataset):
    """θ ↦ exact D_f(P‖N(μ, σ²)) when P is a 1-D Gaussian mixture, else ``None``."""
    from fgan_bench.metrics.exact_1d import GaussianMixture1D, exact_divergences_1d

    mixture = GaussianMixture1D.of(dataset)
    if mixture is None:
        return None
    return lambda theta: exact_divergences_1d(
        mixture, float(theta[0]), math.exp(theta[1]), [divergence], rtol=1e-8
    )[divergence.spec]


def _grid_objective(divergence, dataset, real: np.ndarray):
    """θ ↦ D_f(P‖N(μ, σ²)) by quadrature on a grid spanning three times the samples' range."""
    low, high = float(real.min()), float(real.max())
    x = np.linspace(2 * low - high, 2 * high - low, 40001)
    cell = float(x[1] - x[0])
    log_p = target_log_density(dataset, x[:, None])

    def on_grid(theta):
        gaussian = DiagonalGaussian(np.array([theta[0]]), np.array([math.exp(theta[1])]))
        outside = 1.0 - gaussian.mass_in(np.array([x[0] - cell / 2]), np.array([x[-1] + cell / 2]))
        return divergence_by_quadrature(divergence, log_p, gaussian.log_prob(x[:, None]), cell, max(outside, 0.0))

    return on_grid
