"""The f-divergences of the f-GAN paper's table, with the reference's errata E1–E7 fixed.

Each function below returns one :class:`Divergence`; its docstring states f, f*, g_f,
dom f*, f'(1), the optimal critic T*(u) = f'(u) and the fused form of f*(g_f(v)) that the
critic loss evaluates. The fused forms are written in v directly (E6), so that the loss and
its gradient stay finite in float32 for every v ∈ [−50, 50]. Every formula is checked
numerically by :mod:`fgan_bench.divergences.validation`.
"""

from __future__ import annotations

import math

import numpy as np

from fgan_bench._lazy import tf
from fgan_bench.divergences.base import REAL_LINE, Divergence, DivergenceFamily, Interval
from fgan_bench.divergences.special import log1mexp, log_softplus, wright_omega

LOG2 = math.log(2.0)


def _kl_gaussians(mu_p, sigma_p, mu_q, sigma_q):
    """KL(P‖Q) = log(σ_q/σ_p) + (σ_p² + (μ_p − μ_q)²) / (2σ_q²) − ½ for Gaussians P, Q."""
    return np.log(sigma_q / sigma_p) + (sigma_p**2 + (mu_p - mu_q) ** 2) / (2 * sigma_q**2) - 0.5


def _pearson_gaussians(mu_p, sigma_p, mu_q, sigma_q):
    """χ²(P‖Q) = σ_q² / (σ_p √(2σ_q² − σ_p²)) · exp((μ_p − μ_q)² / (2σ_q² − σ_p²)) − 1; ∞ unless 2σ_q² > σ_p²."""
    spread = 2 * sigma_q**2 - sigma_p**2
    if spread <= 0:
        return math.inf
    return sigma_q**2 / (sigma_p * np.sqrt(spread)) * np.exp((mu_p - mu_q) ** 2 / spread) - 1


def total_variation() -> Divergence:
    """Total variation ½∫|p − q|.

    f(u) = ½|u − 1|,  g_f(v) = ½ tanh(v),  dom f* = [−½, ½],  f*(t) = t,  f'(1) = 0
    (the subgradient at the kink that makes T* = ½ sign(u − 1) optimal).
    Fused: f*(g_f(v)) = ½ tanh(v).
    """
    return Divergence(
        name="total_variation",
        aliases=("tv",),
        f=lambda u: 0.5 * tf.abs(u - 1.0),
        conjugate=lambda t: t,
        activation=lambda v: 0.5 * tf.tanh(v),
        conjugate_of_activation=lambda v: 0.5 * tf.tanh(v),
        optimal_critic=lambda u: 0.5 * tf.sign(u - 1.0),
        domain=Interval(-0.5, 0.5, True, True, "|t| ≤ 1/2"),
        f_prime_at_1=0.0,
        f_formula="½|u − 1|",
        description="total variation ½∫|p − q|: f*(t) = t, g_f(v) = ½tanh(v)",
    )


def kl() -> Divergence:
    """Kullback–Leibler KL(P‖Q) = ∫ p log(p/q) (mass-covering).

    f(u) = u log u,  g_f(v) = v,  dom f* = ℝ,  f*(t) = exp(t − 1),  f'(1) = 1,
    T*(u) = 1 + log u,  r(t) = (f')⁻¹(t) = exp(t − 1).  Fused: f*(g_f(v)) = exp(v − 1).
    """
    return Divergence(
        name="kl",
        aliases=("kullback_leibler",),
        f=lambda u: tf.math.xlogy(u, u),
        conjugate=lambda t: tf.exp(t - 1.0),
        activation=lambda v: v,
        conjugate_of_activation=lambda v: tf.exp(v - 1.0),
        optimal_critic=lambda u: 1.0 + tf.math.log(u),
        density_ratio=lambda t: tf.exp(t - 1.0),
        domain=REAL_LINE,
        f_prime_at_1=1.0,
        gaussian_closed_form=_kl_gaussians,
        f_formula="u log u",
        description="Kullback–Leibler KL(P‖Q): f*(t) = exp(t − 1), g_f(v) = v",
    )


def reverse_kl() -> Divergence:
    """Reverse Kullback–Leibler KL(Q‖P) = ∫ q log(q/p) (mode-seeking).

    f(u) = −log u,  g_f(v) = −exp(−v),  dom f* = {t < 0},  f*(t) = −1 − log(−t),
    f'(1) = −1,  T*(u) = −1/u,  r(t) = −1/t (with g_f: r = eᵛ).  Fused: f*(g_f(v)) = −1 − log(exp(−v)) = v − 1.
    """
    return Divergence(
        name="reverse_kl",
        aliases=("rkl",),
        f=lambda u: -tf.math.log(u),
        conjugate=lambda t: -1.0 - tf.math.log(-t),
        activation=lambda v: -tf.exp(-v),
        conjugate_of_activation=lambda v: v - 1.0,
        optimal_critic=lambda u: -1.0 / u,
        density_ratio=lambda t: -1.0 / t,
        domain=Interval(upper=0.0),
        f_prime_at_1=-1.0,
        gaussian_closed_form=lambda mp, sp, mq, sq: _kl_gaussians(mq, sq, mp, sp),
        f_formula="−log u",
        description="reverse KL(Q‖P): f*(t) = −1 − log(−t), g_f(v) = −exp(−v)",
    )


def pearson() -> Divergence:
    """Pearson χ²(P‖Q) = ∫ (p − q)² / q.

    f(u) = (u − 1)²,  g_f(v) = v,  dom f* = ℝ,  f'(1) = 0,  T*(u) = 2(u − 1),
    r(t) = max(0, 1 + t/2) (0 below t = −2 = f'(0), where f*'s supremum sits at u = 0).
    f*(t) = max(0, t/2 + 1)² − 1: the table's t²/4 + t holds only for t ≥ −2; below, the
    supremum of ut − (u − 1)² over u ≥ 0 sits at u = 0 and equals −1 (erratum E1).
    """

    def conjugate(t):
        return tf.square(tf.nn.relu(0.5 * t + 1.0)) - 1.0

    return Divergence(
        name="pearson",
        aliases=("pearson_chi2", "chi2"),
        f=lambda u: tf.square(u - 1.0),
        conjugate=conjugate,
        activation=lambda v: v,
        conjugate_of_activation=conjugate,
        optimal_critic=lambda u: 2.0 * (u - 1.0),
        density_ratio=lambda t: tf.nn.relu(1.0 + 0.5 * t),
        domain=REAL_LINE,
        f_prime_at_1=0.0,
        gaussian_closed_form=_pearson_gaussians,
        f_formula="(u − 1)²",
        description="Pearson χ²: f*(t) = max(0, t/2 + 1)² − 1 (exact, E1), g_f(v) = v",
    )


def neyman() -> Divergence:
    """Neyman χ²(P‖Q) = ∫ (q − p)² / p = Pearson χ²(Q‖P).

    f(u) = (1 − u)²/u,  g_f(v) = 1 − exp(−v),  dom f* = {t < 1},  f*(t) = 2 − 2√(1 − t),
    f'(1) = 0,  T*(u) = 1 − 1/u²,  r(t) = (1 − t)^−½ (with g_f: r = e^{v/2}).  Fused: f*(g_f(v)) = 2 − 2 exp(−v/2).
    """
    return Divergence(
        name="neyman",
        aliases=("neyman_chi2",),
        f=lambda u: tf.square(1.0 - u) / u,
        conjugate=lambda t: 2.0 - 2.0 * tf.sqrt(1.0 - t),
        activation=lambda v: -tf.math.expm1(-v),
        conjugate_of_activation=lambda v: 2.0 - 2.0 * tf.exp(-0.5 * v),
        optimal_critic=lambda u: 1.0 - 1.0 / tf.square(u),
        density_ratio=lambda t: tf.math.rsqrt(1.0 - t),
        domain=Interval(upper=1.0),
        f_prime_at_1=0.0,
        gaussian_closed_form=lambda mp, sp, mq, sq: _pearson_gaussians(mq, sq, mp, sp),
        f_formula="(1 − u)²/u",
        description="Neyman χ²: f*(t) = 2 − 2√(1 − t), g_f(v) = 1 − exp(−v)",
    )


def squared_hellinger() -> Divergence:
    """Squared Hellinger ∫ (√p − √q)².

    f(u) = (√u − 1)²,  g_f(v) = 1 − exp(−v),  dom f* = {t < 1},  f*(t) = t/(1 − t),
    f'(1) = 0,  T*(u) = 1 − 1/√u,  r(t) = (1 − t)⁻² (with g_f: r = e^{2v}).
    Fused: f*(g_f(v)) = (1 − e⁻ᵛ)/e⁻ᵛ = eᵛ − 1 (E6: the composition divides
    by 1 − t, which rounds to 0 in float32 from v ≈ 17).
    """

    def closed_form(mu_p, sigma_p, mu_q, sigma_q):
        """2 − 2√(2σ_pσ_q/(σ_p² + σ_q²)) · exp(−(μ_p − μ_q)²/(4(σ_p² + σ_q²)))."""
        total = sigma_p**2 + sigma_q**2
        return 2 - 2 * np.sqrt(2 * sigma_p * sigma_q / total) * np.exp(-((mu_p - mu_q) ** 2) / (4 * total))

    return Divergence(
        name="squared_hellinger",
        aliases=("hellinger",),
        f=lambda u: tf.square(tf.sqrt(u) - 1.0),
        conjugate=lambda t: t / (1.0 - t),
        activation=lambda v: -tf.math.expm1(-v),
        conjugate_of_activation=lambda v: tf.math.expm1(v),
        optimal_critic=lambda u: 1.0 - tf.math.rsqrt(u),
        density_ratio=lambda t: 1.0 / tf.square(1.0 - t),
        domain=Interval(upper=1.0),
        f_prime_at_1=0.0,
        gaussian_closed_form=closed_form,
        f_formula="(√u − 1)²",
        description="squared Hellinger ∫(√p − √q)²: f*(t) = t/(1 − t), g_f(v) = 1 − exp(−v)",
    )


def jeffrey() -> Divergence:
    """Jeffrey divergence KL(P‖Q) + KL(Q‖P).

    f(u) = (u − 1) log u,  g_f(v) = v,  dom f* = ℝ,  f'(1) = 0,  T*(u) = log u + 1 − 1/u.
    f*(t) = W(e^{1−t}) + 1/W(e^{1−t}) + t − 2 with W the principal Lambert W (E5). With
    ω = W(eˣ), x = 1 − t, computed by :func:`wright_omega`, and 1/ω = e^{ω − x} (from
    ω e^ω = eˣ), nothing overflows before the result does.
    r(t) = (f')⁻¹(t) = 1/ω = e^{ω − x}: with u = 1/ω, log u + 1 − 1/u = t ⇔ ω + log ω = x.
    """

    def conjugate(t):
        x = 1.0 - t
        omega = wright_omega(x)
        return omega + tf.exp(omega - x) + t - 2.0

    return Divergence(
        name="jeffrey",
        aliases=("jeffreys",),
        f=lambda u: (u - 1.0) * tf.math.log(u),
        conjugate=conjugate,
        activation=lambda v: v,
        conjugate_of_activation=conjugate,
        optimal_critic=lambda u: tf.math.log(u) + 1.0 - 1.0 / u,
        density_ratio=lambda t: tf.exp(wright_omega(1.0 - t) - (1.0 - t)),
        domain=REAL_LINE,
        f_prime_at_1=0.0,
        f_formula="(u − 1) log u",
        description="Jeffrey KL(P‖Q) + KL(Q‖P): f*(t) = W(e^{1−t}) + 1/W(e^{1−t}) + t − 2, g_f(v) = v",
    )


def jensen_shannon() -> Divergence:
    """Jensen–Shannon, as the table's f gives it: D_f = 2·JSD(P‖Q), at most 2 log 2 (E2).

    f(u) = −(u + 1) log((1 + u)/2) + u log u,  g_f(v) = log 2 − log(1 + e⁻ᵛ),
    dom f* = {t < log 2},  f*(t) = −log(2 − eᵗ),  f'(1) = 0,  T*(u) = log(2u/(1 + u)) = log 2 − log(1 + 1/u),
    r(t) = eᵗ/(2 − eᵗ) = 1/(e^{log 2 − t} − 1) (with g_f: r = eᵛ).
    Fused: 2 − e^{g_f(v)} = 2σ(−v), so f*(g_f(v)) = softplus(v) − log 2.
    """
    return Divergence(
        name="jensen_shannon",
        aliases=("js",),
        f=lambda u: tf.math.xlogy(u, u) - (u + 1.0) * (tf.math.log1p(u) - LOG2),
        conjugate=lambda t: -tf.math.log(2.0 - tf.exp(t)),
        activation=lambda v: LOG2 - tf.math.softplus(-v),
        conjugate_of_activation=lambda v: tf.math.softplus(v) - LOG2,
        optimal_critic=lambda u: LOG2 - tf.math.log1p(1.0 / u),
        density_ratio=lambda t: 1.0 / tf.math.expm1(LOG2 - t),
        domain=Interval(upper=LOG2, text="t < log 2"),
        f_prime_at_1=0.0,
        f_formula="u log u − (u + 1) log((1 + u)/2)",
        description="2·Jensen–Shannon (max 2 log 2): f*(t) = −log(2 − eᵗ), g_f(v) = log 2 − log(1 + e⁻ᵛ)",
    )


def js_weighted(weight: float) -> Divergence:
    """π-weighted Jensen–Shannon, π ∈ (0, 1) the mixture weight (not 3.14159, E3).

    f(u) = π u log u − (1 − π + πu) log(1 − π + πu),  g_f(v) = −π log π − log(1 + e⁻ᵛ),
    dom f* = {t < −π log π},  f*(t) = (1 − π) log((1 − π)/(1 − π e^{t/π})),  f'(1) = 0
    (−π log π is the end of dom f*, not f'(1), E3),
    T*(u) = π log(u/(1 − π + πu)) = −π log(π + (1 − π)/u),  r(t) = (1 − π)/(e^{−t/π} − π).
    Fused: π e^{g_f(v)/π} = exp(−softplus(−v)/π), so
    f*(g_f(v)) = (1 − π)(log(1 − π) − log(1 − exp(−softplus(−v)/π))).
    """
    pi = float(weight)
    if not 0.0 < pi < 1.0 or not math.isfinite(pi):
        raise ValueError(f"the weight π must lie strictly between 0 and 1, got {weight!r}")

    def f(u):
        mixture = 1.0 - pi + pi * u
        return pi * tf.math.xlogy(u, u) - tf.math.xlogy(mixture, mixture)

    def conjugate_of_activation(v):
        return (1.0 - pi) * (math.log1p(-pi) - log1mexp(tf.math.softplus(-v) / pi))

    upper = -pi * math.log(pi)
    return Divergence(
        name="js_weighted",
        f=f,
        conjugate=lambda t: (1.0 - pi) * tf.math.log((1.0 - pi) / (1.0 - pi * tf.exp(t / pi))),
        activation=lambda v: upper - tf.math.softplus(-v),
        conjugate_of_activation=conjugate_of_activation,
        optimal_critic=lambda u: -pi * tf.math.log(pi + (1.0 - pi) / u),
        density_ratio=lambda t: (1.0 - pi) / (tf.exp(-t / pi) - pi),
        domain=Interval(upper=upper, text=f"t < −π log π = {upper:.6g}"),
        f_prime_at_1=0.0,
        f_formula=f"π u log u − (1 − π + πu) log(1 − π + πu), π = {pi:g}",
        description=f"π-weighted Jensen–Shannon, π = {pi:g}",
        parameters={"weight": pi},
    )


def gan() -> Divergence:
    """The original GAN objective: D_GAN = 2·JSD(P‖Q) − log 4.

    f(u) = u log u − (u + 1) log(u + 1), the one row with f(1) = −log 4 ≠ 0 (E2),
    g_f(v) = −log(1 + e⁻ᵛ),  dom f* = {t < 0},  f*(t) = −log(1 − eᵗ),  f'(1) = −log 2,
    T*(u) = log(u/(1 + u)) = −log(1 + 1/u) = log D* with D* = p/(p + q),
    r(t) = eᵗ/(1 − eᵗ) = 1/(e^{−t} − 1) = D/(1 − D), and with g_f: r = eᵛ (v is the logit of D).
    Fused: 1 − e^{g_f(v)} = σ(−v), so f*(g_f(v)) = softplus(v).
    """
    return Divergence(
        name="gan",
        # = u log u − (u + 1) log(u + 1) without its cancellation for large u (where it is −log u − 1);
        # reciprocal_no_nan keeps f(0) = 0 and its gradient finite at u = 0 (1/u would give 0·∞)
        f=lambda u: -tf.math.xlog1py(u, tf.math.reciprocal_no_nan(u)) - tf.math.log1p(u),
        conjugate=lambda t: -tf.math.log(-tf.math.expm1(t)),
        activation=lambda v: -tf.math.softplus(-v),
        conjugate_of_activation=lambda v: tf.math.softplus(v),
        optimal_critic=lambda u: -tf.math.log1p(1.0 / u),
        density_ratio=lambda t: 1.0 / tf.math.expm1(-t),
        domain=Interval(upper=0.0),
        f_prime_at_1=-LOG2,
        f_at_1=-math.log(4.0),
        f_formula="u log u − (u + 1) log(u + 1)",
        description="GAN 2·JSD − log 4: f*(t) = −log(1 − eᵗ), g_f(v) = −log(1 + e⁻ᵛ)",
    )


def alpha(alpha: float) -> Divergence:
    """α-divergence (Amari), α ∉ {0, 1}.

    f(u) = (u^α − 1 − α(u − 1)) / (α(α − 1)),  f'(1) = 0,  T*(u) = (u^{α−1} − 1)/(α − 1),
    r(t) = (1 + (α − 1)t)^{1/(α−1)},
    f*(t) = (1/α)(t(α − 1) + 1)^{α/(α−1)} − 1/α where f' reaches t.

    α < 1: f' ranges over (−∞, 1/(1 − α)); g_f(v) = 1/(1 − α) − softplus(−v),
    dom f* = {t < 1/(1 − α)}.
    α > 1: f' ranges over (1/(1 − α), ∞) and below that f* is the constant −1/α, so
    f*(t) = (1/α) max(0, t(α − 1) + 1)^{α/(α−1)} − 1/α exactly; g_f(v) = 1/(1 − α) + softplus(v)
    keeps T in dom f* (E4: the paper's g_f(v) = v leaves it).
    Fused, with s = softplus(∓v) (− for α < 1, + for α > 1): t(α − 1) + 1 = |1 − α|·s, so
    f*(g_f(v)) = (1/α) exp((α/(α − 1))(log|1 − α| + log s)) − 1/α.
    """
    a = float(alpha)
    if not math.isfinite(a) or a in (0.0, 1.0):
        raise ValueError(
            f"α = {alpha!r} is not allowed: α = 1 is KL (use 'kl') and α = 0 is reverse KL "
            "(use 'reverse_kl'); choose a finite α ∉ {0, 1}, e.g. alpha:0.5"
        )
    power = a / (a - 1.0)
    bound = 1.0 / (1.0 - a)
    sign = 1.0 if a > 1.0 else -1.0

    def conjugate(t):
        base = t * (a - 1.0) + 1.0
        if a > 1.0:
            base = tf.nn.relu(base)
        return tf.pow(base, power) / a - 1.0 / a

    def conjugate_of_activation(v):
        return tf.exp(power * (math.log(abs(1.0 - a)) + log_softplus(sign * v))) / a - 1.0 / a

    domain = Interval(upper=bound) if a < 1.0 else Interval(lower=bound)
    return Divergence(
        name="alpha",
        f=lambda u: (tf.pow(u, a) - 1.0 - a * (u - 1.0)) / (a * (a - 1.0)),
        conjugate=conjugate,
        activation=lambda v: bound + sign * tf.math.softplus(sign * v),
        conjugate_of_activation=conjugate_of_activation,
        optimal_critic=lambda u: (tf.pow(u, a - 1.0) - 1.0) / (a - 1.0),
        density_ratio=lambda t: tf.pow(1.0 + (a - 1.0) * t, 1.0 / (a - 1.0)),
        domain=domain,
        f_prime_at_1=0.0,
        f_formula=f"(u^α − 1 − α(u − 1))/(α(α − 1)), α = {a:g}",
        description=f"α-divergence, α = {a:g}",
        parameters={"alpha": a},
    )


BUILTIN_DIVERGENCES = (
    total_variation,
    kl,
    reverse_kl,
    pearson,
    neyman,
    squared_hellinger,
    jeffrey,
    jensen_shannon,
    gan,
)

BUILTIN_FAMILIES = (
    DivergenceFamily(
        name="js_weighted",
        build=js_weighted,
        parameters=("weight",),
        examples=({"weight": 0.3}, {"weight": 0.5}, {"weight": 0.9}),
        f_formula="π u log u − (1 − π + πu) log(1 − π + πu)",
        domain_formula="t < −π log π",
        f_prime_at_1_formula="0",
        description="π-weighted Jensen–Shannon, π ∈ (0, 1)",
    ),
    DivergenceFamily(
        name="alpha",
        build=alpha,
        parameters=("alpha",),
        examples=({"alpha": -1.0}, {"alpha": 0.5}, {"alpha": 2.0}, {"alpha": 3.0}),
        f_formula="(u^α − 1 − α(u − 1))/(α(α − 1))",
        domain_formula="t < 1/(1 − α) if α < 1; t > 1/(1 − α) if α > 1",
        f_prime_at_1_formula="0",
        description="α-divergence (Amari), α ∉ {0, 1}",
    ),
)
