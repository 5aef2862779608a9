"""The math validator: machine checks that a :class:`Divergence` is what it claims.

Each check measures an error and compares it with a tolerance; all computations run in
float64 except the float32 stability check. The checks:

========================  =====================================================================
``f_at_1``                f(1) equals the declared ``f_at_1`` (0, or −log 4 for GAN).
``convexity``             f is convex: its chord slopes on a log grid of u ∈ [1e−4, 1e4]
                          never decrease.
``conjugate``             f*(t) equals the numerical conjugate sup_{u ≥ 0}(u·t − f(u)) at
                          t = g_f(v), v ∈ [−8, 8] (relative error ≤ 1e−5).
``activation_domain``     g_f(v) lies in dom f* for v ∈ [−50, 50].
``f_prime_at_1``          the declared f'(1) matches a central difference of f at 1.
``fused_conjugate``       the fused f*(g_f(v)) equals the composition wherever the
                          composition is finite, v ∈ [−20, 20].
``float32_stability``     in float32, g_f(v), f*(g_f(v)) and their gradients — hence the critic
                          loss E_P[g_f(v)] − E_Q[f*(g_f(v))] and its gradient — are finite for
                          every v ∈ [−50, 50].
``fenchel_young``         for two pairs of Gaussians P, Q: E_P[T*] − E_Q[f*(T*)] equals
                          D_f(P‖Q) = E_Q[f(p/q)], both by quadrature, to 1e−4.
``closed_form``           D_f(P‖Q) by quadrature equals the declared Gaussian closed form
                          (not applicable where none is declared).
``density_ratio``         the declared r(t) = (f')⁻¹(t) inverts the optimal-critic map both
                          ways: r(f'(u)) = u for u on a log grid [1e−3, 1e3], and f'(r(t)) = t
                          for t = g_f(v), v ∈ [−8, 8] (relative error ≤ 1e−6); where r(t) = 0,
                          t must lie below f'(0⁺) (Pearson's t < −2). Not applicable where
                          none is declared (f' not invertible: total variation).
========================  =====================================================================
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable

import numpy as np

from fgan_bench._lazy import tf
from fgan_bench.divergences.base import Divergence

#: Gaussian pairs (μ_P, σ_P, μ_Q, σ_Q) for the quadrature checks. σ_P ≠ σ_Q in both
#: directions, close enough that χ², α ∈ [−1, 3] and similar divergences are finite.
GAUSSIAN_PAIRS = ((0.0, 1.0, 0.5, 1.1), (0.2, 1.1, -0.3, 1.0))
#: Quadrature ignores x where |log p(x)/q(x)| exceeds this (negligible mass for the pairs above).
MAX_LOG_RATIO = 30.0
#: Largest relative decrease of f's chord slopes still taken for rounding (measured: ≤ 1e−10).
CONVEXITY_TOLERANCE = 1e-7


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    Attributes:
        name: the check's identifier, e.g. ``"conjugate"``.
        passed: True, False, or None when the check does not apply.
        error: the measured error (what ``tolerance`` bounds).
        tolerance: the largest error that passes.
        detail: where the error is largest, or why the check does not apply.
    """

    name: str
    passed: bool | None
    error: float
    tolerance: float
    detail: str = ""

    def __post_init__(self):
        if self.passed is not None:
            object.__setattr__(self, "passed", bool(self.passed))
        object.__setattr__(self, "error", float(self.error))

    def describe(self) -> str:
        """One line: ``conjugate failed: max relative error 1.72 > 1e-05 (worst at ...)``."""
        if self.passed is None:
            return f"{self.name} not applicable: {self.detail}"
        verdict = "passed" if self.passed else "failed"
        relation = "≤" if self.passed else ">"
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.name} {verdict}: error {self.error:.3g} {relation} tolerance {self.tolerance:.3g}{detail}"


@dataclasses.dataclass(frozen=True)
class ValidationReport:
    """All check results for one divergence."""

    spec: str
    checks: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(check.passed is not False for check in self.checks)

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(check for check in self.checks if check.passed is False)

    def __getitem__(self, name: str) -> CheckResult:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def summary(self) -> str:
        """One line naming every failed check and its error."""
        if self.ok:
            return f"{self.spec}: all {len(self.checks)} checks passed"
        return f"{self.spec}: " + "; ".join(check.describe() for check in self.failed)

    def format(self) -> str:
        """A table with one row per check, for the command line."""
        rows = [f"Validating divergence {self.spec}"]
        for check in self.checks:
            status = {True: "PASS", False: "FAIL", None: "n/a "}[check.passed]
            error = "" if check.passed is None else f"error {check.error:9.3g}  tolerance {check.tolerance:7.1g}"
            rows.append(f"  {status}  {check.name:<18} {error}  {check.detail}".rstrip())
        verdict = "all checks passed" if self.ok else f"{len(self.failed)} check(s) FAILED"
        rows.append(f"{self.spec}: {verdict}")
        return "\n".join(rows)


def evaluate_float64(fn: Callable, x: np.ndarray) -> np.ndarray:
    """Evaluates an element-wise divergence function on float64 input, as float64."""
    y = np.asarray(fn(np.asarray(x, dtype=np.float64)), dtype=np.float64)
    if y.shape != np.shape(x):
        raise ValueError(f"returned shape {y.shape} for input of shape {np.shape(x)}: functions must be element-wise")
    return y


def _relative_error(value: np.ndarray, reference: np.ndarray, floor: float = 1e-3) -> np.ndarray:
    """|value − reference| / max(|reference|, floor); inf where exactly one is not finite."""
    error = np.abs(value - reference) / np.maximum(np.abs(reference), floor)
    same_infinity = (value == reference) & np.isinf(reference)
    return np.where(same_infinity, 0.0, np.where(np.isnan(error), np.inf, error))


def numerical_conjugate(
    f: Callable[[np.ndarray], np.ndarray],
    t: np.ndarray,
    *,
    log_u_range: tuple[float, float] = (-35.0, 35.0),
    grid_step: float = 0.004,
    iterations: int = 80,
) -> np.ndarray:
    """sup_{u ≥ 0} (u·t − f(u)) for each t, independently of any declared conjugate.

    u·t − f(u) is concave in u, hence unimodal in s = log u. A grid search over s brackets
    the maximiser between two grid neighbours, and golden-section search narrows the
    bracket to machine precision; the end point u = 0 (where the supremum sits for, e.g.,
    Pearson χ² at t < −2) is compared separately. A maximiser at the top of the grid means
    the supremum is unbounded (t outside dom f*): +inf.

    Args:
        f: f on float64 NumPy arrays.
        t: the points, a 1-D float64 array.
    """
    t = np.asarray(t, dtype=np.float64)
    s = np.arange(log_u_range[0], log_u_range[1] + grid_step, grid_step)
    fs = f(np.exp(s))
    values = t[:, None] * np.exp(s)[None, :] - fs[None, :]
    values = np.where(np.isnan(values), -np.inf, values)
    index = np.argmax(values, axis=1)
    best = values[np.arange(len(t)), index]
    lower = s[np.maximum(index - 1, 0)]
    upper = s[np.minimum(index + 1, len(s) - 1)]

    def objective(log_u):
        value = np.exp(log_u) * t - f(np.exp(log_u))
        return np.where(np.isnan(value), -np.inf, value)

    golden = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(iterations):
        width = upper - lower
        left, right = upper - golden * width, lower + golden * width
        left_is_better = objective(left) > objective(right)
        upper = np.where(left_is_better, right, upper)
        lower = np.where(left_is_better, lower, left)
    best = np.maximum(best, objective(0.5 * (lower + upper)))
    f_at_0 = float(f(np.zeros(1))[0])
    if np.isfinite(f_at_0):
        best = np.maximum(best, -f_at_0)
    return np.where(index == len(s) - 1, np.inf, best)


def _first(values: np.ndarray, mask: np.ndarray) -> str:
    hits = np.flatnonzero(mask)
    return f"{values[hits[0]]:.4g}" if hits.size else "?"


class _Validator:
    """Runs every check on one divergence; quadrature results are computed once."""

    def __init__(self, divergence: Divergence):
        self.divergence = divergence

    def check_f_at_1(self) -> CheckResult:
        value = float(evaluate_float64(self.divergence.f, np.ones(1))[0])
        error = abs(value - self.divergence.f_at_1)
        return CheckResult(
            "f_at_1",
            error <= 1e-9,
            error,
            1e-9,
            f"f(1) = {value:.12g}, declared {self.divergence.f_at_1:.12g}",
        )

    def check_convexity(self) -> CheckResult:
        u = np.logspace(-4.0, 4.0, 2001)
        fu = evaluate_float64(self.divergence.f, u)
        if not np.all(np.isfinite(fu)):
            bad = ~np.isfinite(fu)
            return CheckResult(
                "convexity", False, math.inf, CONVEXITY_TOLERANCE, f"f is not finite at u = {_first(u, bad)}"
            )
        slopes = np.diff(fu) / np.diff(u)
        drops = (slopes[:-1] - slopes[1:]) / np.maximum(1.0, np.abs(slopes[:-1]) + np.abs(slopes[1:]))
        worst = int(np.argmax(drops))
        error = max(float(drops[worst]), 0.0)
        detail = f"largest chord-slope decrease at u = {u[worst + 1]:.4g}" if error > 0 else "slopes non-decreasing"
        return CheckResult("convexity", error <= CONVEXITY_TOLERANCE, error, CONVEXITY_TOLERANCE, detail)

    def check_conjugate(self) -> CheckResult:
        div = self.divergence
        v = np.linspace(-8.0, 8.0, 161)
        t = evaluate_float64(div.activation, v)
        declared = evaluate_float64(div.conjugate, t)
        numerical = numerical_conjugate(functools.partial(evaluate_float64, div.f), t)
        errors = _relative_error(declared, numerical)
        worst = int(np.argmax(errors))
        detail = (
            f"max relative error at v = {v[worst]:.3g}, t = {t[worst]:.6g}: "
            f"f*(t) = {declared[worst]:.8g}, sup_u(ut − f(u)) = {numerical[worst]:.8g}"
        )
        return CheckResult("conjugate", errors[worst] <= 1e-5, float(errors[worst]), 1e-5, detail)

    def check_activation_domain(self) -> CheckResult:
        domain = self.divergence.domain
        v = np.linspace(-50.0, 50.0, 1001)
        t = evaluate_float64(self.divergence.activation, v)
        outside = domain.distance_outside(t)
        worst = int(np.argmax(outside))
        finite_ends = [abs(end) for end in (domain.lower, domain.upper) if math.isfinite(end)]
        tolerance = 1e-12 * (1.0 + max(finite_ends, default=0.0))
        error = float(outside[worst])
        detail = f"dom f* = {domain}; " + (
            f"g_f({v[worst]:.3g}) = {t[worst]:.8g} lies outside" if error > tolerance else "g_f([−50, 50]) inside"
        )
        return CheckResult("activation_domain", error <= tolerance, error, tolerance, detail)

    def check_f_prime_at_1(self) -> CheckResult:
        h = 1e-6
        f_plus, f_minus = evaluate_float64(self.divergence.f, np.array([1.0 + h, 1.0 - h]))
        numerical = (f_plus - f_minus) / (2.0 * h)
        error = abs(numerical - self.divergence.f_prime_at_1)
        return CheckResult(
            "f_prime_at_1",
            error <= 1e-6,
            error,
            1e-6,
            f"central difference {numerical:.10g}, declared {self.divergence.f_prime_at_1:.10g}",
        )

    def check_fused_conjugate(self) -> CheckResult:
        div = self.divergence
        v = np.linspace(-20.0, 20.0, 401)
        fused = evaluate_float64(div.conjugate_of_activation, v)
        composed = evaluate_float64(div.conjugate, evaluate_float64(div.activation, v))
        comparable = np.isfinite(composed)
        if not comparable.any():
            return CheckResult("fused_conjugate", False, math.inf, 1e-6, "f*(g_f(v)) is nowhere finite on [−20, 20]")
        errors = np.where(comparable, _relative_error(fused, composed), 0.0)
        worst = int(np.argmax(errors))
        detail = f"worst at v = {v[worst]:.3g}: fused {fused[worst]:.8g}, composition {composed[worst]:.8g}"
        return CheckResult("fused_conjugate", errors[worst] <= 1e-6, float(errors[worst]), 1e-6, detail)

    def check_float32_stability(self) -> CheckResult:
        div = self.divergence
        v = tf.constant(np.linspace(-50.0, 50.0, 1001), tf.float32)
        parts = {}
        for label, fn in (("g_f(v)", div.activation), ("f*(g_f(v))", div.conjugate_of_activation)):
            with tf.GradientTape() as tape:
                tape.watch(v)
                value = fn(v)
            gradient = tape.gradient(value, v)
            parts[label] = np.asarray(value, dtype=np.float64)
            parts[f"d/dv {label}"] = np.zeros(v.shape) if gradient is None else np.asarray(gradient, dtype=np.float64)
        problems = {label: ~np.isfinite(x) for label, x in parts.items()}
        count = int(sum(mask.sum() for mask in problems.values()))
        v_np = v.numpy()
        detail = (
            "; ".join(
                f"{label} not finite at v = {_first(v_np, mask)} ({int(mask.sum())} points)"
                for label, mask in problems.items()
                if mask.any()
            )
            or "critic loss and gradient finite on [−50, 50]"
        )
        return CheckResult("float32_stability", count == 0, float(count), 0.0, detail)

    @functools.cached_property
    def _quadrature(self) -> list[tuple[float, float]]:
        """(D_f(P‖Q), E_P[T*] − E_Q[f*(T*)]) for each Gaussian pair, by Simpson's rule."""
        from scipy import integrate, stats

        div = self.divergence
        x = np.linspace(-25.0, 25.0, 50001)
        results = []
        for mu_p, sigma_p, mu_q, sigma_q in GAUSSIAN_PAIRS:
            log_p = stats.norm.logpdf(x, mu_p, sigma_p)
            log_q = stats.norm.logpdf(x, mu_q, sigma_q)
            # Where |log(p/q)| > 30 both densities are below e^-150 here, and T* = f'(p/q) can sit
            # closer to the end of dom f* than float64 resolves (GAN: T* = −log(1 + 1/u)).
            kept = np.abs(log_p - log_q) <= MAX_LOG_RATIO
            p, q, u = np.exp(log_p[kept]), np.exp(log_q[kept]), np.exp(log_p[kept] - log_q[kept])
            critic = evaluate_float64(div.optimal_critic, u)
            integrands = {
                "q·f(p/q)": q * evaluate_float64(div.f, u),
                "p·T* − q·f*(T*)": p * critic - q * evaluate_float64(div.conjugate, critic),
            }
            integrals = []
            for label, values in integrands.items():
                if not np.all(np.isfinite(values)):
                    raise FloatingPointError(
                        f"{label} is not finite at x = {_first(x[kept], ~np.isfinite(values))} "
                        f"for P = N({mu_p}, {sigma_p}²), Q = N({mu_q}, {sigma_q}²)"
                    )
                integrand = np.zeros_like(x)
                integrand[kept] = values
                integrals.append(float(integrate.simpson(integrand, x=x)))
            results.append(tuple(integrals))
        return results

    def check_fenchel_young(self) -> CheckResult:
        errors, details = [], []
        for (mu_p, sigma_p, mu_q, sigma_q), (value, bound) in zip(GAUSSIAN_PAIRS, self._quadrature, strict=True):
            errors.append(abs(bound - value) / max(1.0, abs(value)))
            details.append(f"N({mu_p},{sigma_p}²)‖N({mu_q},{sigma_q}²): D_f = {value:.8g}, bound at T* = {bound:.8g}")
        return CheckResult("fenchel_young", max(errors) <= 1e-4, max(errors), 1e-4, "; ".join(details))

    def check_closed_form(self) -> CheckResult:
        closed_form = self.divergence.gaussian_closed_form
        if closed_form is None:
            return CheckResult("closed_form", None, math.nan, 1e-4, "no Gaussian closed form declared")
        errors, details = [], []
        for (mu_p, sigma_p, mu_q, sigma_q), (value, _) in zip(GAUSSIAN_PAIRS, self._quadrature, strict=True):
            exact = float(closed_form(mu_p, sigma_p, mu_q, sigma_q))
            errors.append(abs(value - exact) / max(1.0, abs(exact)) if math.isfinite(exact) else math.inf)
            details.append(f"quadrature {value:.8g}, closed form {exact:.8g}")
        return CheckResult("closed_form", max(errors) <= 1e-4, max(errors), 1e-4, "; ".join(details))


    def check_density_ratio(self) -> CheckResult:
        div, tolerance = self.divergence, 1e-6
        if div.density_ratio is None:
            return CheckResult(
                "density_ratio", None, math.nan, tolerance, "no r = (f')⁻¹ declared (f' not invertible, or not given)"
            )
        u = np.logspace(-3.0, 3.0, 241)
        t = evaluate_float64(div.optimal_critic, u)
        round_trip = _relative_error(evaluate_float64(div.density_ratio, t), u, floor=1e-12)
        v = np.linspace(-8.0, 8.0, 161)
        t_range = evaluate_float64(div.activation, v)
        ratio = evaluate_float64(div.density_ratio, t_range)
        inside = ratio > 0
        back = evaluate_float64(div.optimal_critic, np.where(inside, ratio, 1.0))
        t_at_zero = float(evaluate_float64(div.optimal_critic, np.array([1e-300]))[0])
        inverse = np.where(inside, _relative_error(back, t_range, floor=1e-8), 0.0)
        inverse = np.where(np.isfinite(ratio) & (ratio >= 0), inverse, np.inf)
        inverse = np.where(~inside & (t_range > t_at_zero + 1e-9 * (1 + abs(t_at_zero))), np.inf, inverse)
        worst_u, worst_t = int(np.argmax(round_trip)), int(np.argmax(inverse))
        error = max(float(round_trip[worst_u]), float(inverse[worst_t]))
        detail = (
            f"r(f'(u)) = u: worst at u = {u[worst_u]:.3g} (error {round_trip[worst_u]:.2g}); "
            f"f'(r(t)) = t on g_f([−8, 8]): worst at v = {v[worst_t]:.3g} (error {inverse[worst_t]:.2g})"
        )
        return CheckResult("density_ratio", error <= tolerance, error, tolerance, detail)


#: The checks, in the order they are reported.
CHECKS = (
    "f_at_1",
    "convexity",
    "conjugate",
    "activation_domain",
    "f_prime_at_1",
    "fused_conjugate",
    "float32_stability",
    "fenchel_young",
    "closed_form",
    "density_ratio",
)


def validate_divergence(divergence: Divergence) -> ValidationReport:
    """Runs every check in :data:`CHECKS` on ``divergence``.

    A check whose computation raises (a function of the wrong shape, a non-finite
    integrand) fails with the exception's message as its detail.
    """
    validator = _Validator(divergence)
    results = []
    for name in CHECKS:
        try:
            results.append(getattr(validator, f"check_{name}")())
        except Exception as error:  # noqa: BLE001 - a plugin's function may raise anything
            message = str(error).strip().splitlines()[0] if str(error).strip() else ""
            results.append(CheckResult(name, False, math.inf, math.nan, f"raised {type(error).__name__}: {message}"))
    return ValidationReport(divergence.spec, tuple(results))
