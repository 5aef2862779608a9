"""The f-GAN objectives, per example, from a :class:`~fgan_bench.Divergence` alone.

With the critic's raw outputs v = V_ω(x) on real data and on generated data, the f-GAN
objective (Nowozin et al., 2016, eq. 6) is

    F(θ, ω) = E_P[g_f(V_ω(x))] − E_Q[f*(g_f(V_ω(G_θ(z))))],

a variational lower bound of D_f(P‖Q_θ). The critic maximises F. The generator has a choice
of objectives (:data:`GENERATOR_LOSSES`, name → pure function of the critic's output on
generated data):

* ``saddle``: −f*(g_f(v)) = f(r̂) − r̂ f'(r̂); minimises D_f(P‖Q), the critic's own. With
  ``generator_divergence`` h (``--generator-divergence``, Poole et al., 2016): h(r̂) − r̂ h'(r̂),
  which minimises D_h(P‖Q) instead.
* ``nonsaturating``: −g_f(v), the f-GAN paper's heuristic (with h: −h'(r̂), the h-critic);
  no exact divergence claim.
* ``maximum_likelihood``: −r̂ (GAN critic: −exp(logit) = −D/(1 − D)); minimises KL(P‖Q),
  i.e. its expected gradient is maximum likelihood's.
* ``log_ratio``: −log r̂ (GAN critic: −logit = −log(D/(1 − D))); minimises KL(Q‖P), the
  reverse KL.

Here r̂ = r(g_f(v)) is the density ratio p/q that the critic's value stands for, with
r = (f')⁻¹ the divergence's :attr:`~fgan_bench.Divergence.density_ratio` (T* = f'(p/q) at the
optimum, so r̂ = p/q there). ``maximum_likelihood`` is ``saddle`` with h = KL
(h(r) − r h'(r) = −r), ``log_ratio`` is ``saddle`` with h = reverse KL (−log r + 1, the
constant dropped): they fix the generator's divergence, so ``--generator-divergence`` may only
repeat it. Both are Goodfellow's (2014, "On distinguishability criteria for estimating
generative models"; NIPS 2016 tutorial) payoffs for the GAN critic, and work with any critic
whose f' is invertible.

Why h(r̂) − r̂ h'(r̂): the generator's gradient at the optimal critic
-----------------------------------------------------------------------
Let Q_θ be reparameterised, x = G_θ(z), z ~ p(z), and let the critic be optimal for the
current θ₀, so that r̂(x) = p(x)/q_θ₀(x). In training the critic's parameters are held fixed
while θ moves: r̂ is a fixed function of x, and autodiff differentiates only through
x = G_θ(z). For any φ,

    ∇_θ E_z[φ(r̂(G_θ(z)))] = ∇_θ ∫ q_θ(x) φ(r̂(x)) dx = ∫ ∇_θ q_θ(x) · φ(r̂(x)) dx      (1)

(for the fixed function g = φ∘r̂, E_z[g(G_θ(z))] = ∫ q_θ g for every θ, so the sample-path
gradient that autodiff computes is the gradient of that integral; r̂ does not move). The
divergence itself moves with q_θ inside the ratio:

    ∇_θ D_h(P‖Q_θ) = ∇_θ ∫ q_θ h(p/q_θ) dx = ∫ ∇_θ q_θ · [h(u) + q_θ h'(u) · (−p/q_θ²)] dx
                   = ∫ ∇_θ q_θ(x) · [h(u) − u h'(u)] dx,   u = p/q_θ.                      (2)

At θ = θ₀, u = r̂(x), so (1) equals (2) exactly when φ(r) = h(r) − r h'(r) (= −h*(h'(r)),
the Fenchel–Young equality), up to an additive constant c, whose gradient ∫ ∇_θ q_θ · c = 0
vanishes. Hence the generator loss h(r̂) − r̂ h'(r̂). With h = f and r̂ = r(T) it is
f(r(T)) − r(T)·T = −f*(T): exactly the saddle objective, which is why the saddle point
minimises D_f. For h = KL, φ(r) = r log r − r(log r + 1) = −r; for h = reverse KL,
φ(r) = −log r + 1; for h = GAN, φ(r) = −log(1 + r). The claim is checked numerically in the
tests: with the exact optimal critic on two Gaussians, Gauss–Hermite expectations and TF
autodiff through x = μ + σz, ∇_(μ,σ) of the loss equals finite differences of D_h by quadrature.

Functions return per-example values; reduce them with ``tf.nn.compute_average_loss`` so
that the loss is scaled by the global batch under ``tf.distribute``.
"""

from __future__ import annotations

from collections.abc import Callable

from fgan_bench._lazy import tf
from fgan_bench.divergences.base import Divergence

#: Objectives that fix the divergence the generator minimises (a spec of the registry).
FIXED_GENERATOR_DIVERGENCE = {"maximum_likelihood": "kl", "log_ratio": "reverse_kl"}


def variational_estimate(divergence: Divergence, v_real, v_fake):
    """g_f(v_real) − f*(g_f(v_fake)), per example: its mean is F, the critic's estimate of D_f."""
    return divergence.activation(v_real) - divergence.conjugate_of_activation(v_fake)


def critic_loss(divergence: Divergence, v_real, v_fake):
    """−(g_f(v_real) − f*(g_f(v_fake))), per example: the critic maximises F."""
    return -variational_estimate(divergence, v_real, v_fake)


def density_ratio_estimate(divergence: Divergence, v):
    """r̂ = (f')⁻¹(g_f(v)): the density ratio p/q that the critic's raw output v stands for.

    Exact at the optimal critic (T* = f'(p/q)); e.g. GAN, Jensen–Shannon, reverse KL: r̂ = eᵛ.
    """
    if divergence.density_ratio is None:
        raise ValueError(
            f"divergence {divergence.spec!r} declares no density ratio r = (f')⁻¹ (f' is not invertible), "
            "so its critic cannot drive this generator objective; use a strictly convex divergence such as 'gan'"
        )
    return divergence.density_ratio(divergence.activation(v))


def ratio_payoff(generator_divergence: Divergence, ratio):
    """φ_h(r) = h(r) − r·h'(r), per example: E_Q[φ_h(r̂)] has the gradient of D_h(P‖Q) (see above).

    At r = 0 (a critic value below f'(0⁺), e.g. Pearson's t < −2) r·h'(r) is taken as its limit 0
    (h convex, h(0) finite ⇒ r·h'(r) → 0), computed without NaN in value or gradient.
    """
    positive = ratio > 0
    safe = tf.where(positive, ratio, tf.ones_like(ratio))
    slope_term = tf.where(positive, safe * generator_divergence.optimal_critic(safe), tf.zeros_like(ratio))
    return generator_divergence.f(ratio) - slope_term


def saddle_generator_loss(divergence: Divergence, v_fake, generator_divergence: Divergence | None = None):
    """−f*(g_f(v_fake)) (F with its sign for the generator); with another h: φ_h(r̂) = h(r̂) − r̂ h'(r̂)."""
    if _is_own(divergence, generator_divergence):
        return -divergence.conjugate_of_activation(v_fake)
    return ratio_payoff(generator_divergence, density_ratio_estimate(divergence, v_fake))


def nonsaturating_generator_loss(divergence: Divergence, v_fake, generator_divergence: Divergence | None = None):
    """−g_f(v_fake): the f-GAN paper's alternative, maximise E_Q[T]; with another h: −h'(r̂), the h-critic."""
    if _is_own(divergence, generator_divergence):
        return -divergence.activation(v_fake)
    return -generator_divergence.optimal_critic(density_ratio_estimate(divergence, v_fake))


def maximum_likelihood_generator_loss(divergence: Divergence, v_fake, generator_divergence: Divergence | None = None):
    """−r̂: the payoff whose expected gradient at the optimal critic is maximum likelihood's, ∇KL(P‖Q).

    For the GAN critic r̂ = D/(1 − D) = exp(σ⁻¹(D)) = eᵛ, Goodfellow's −exp(σ⁻¹(D)).
    """
    return -density_ratio_estimate(divergence, v_fake)


def log_ratio_generator_loss(divergence: Divergence, v_fake, generator_divergence: Divergence | None = None):
    """−log r̂: minimises KL(Q‖P); for the GAN critic −log(D/(1 − D)) = −v, minus the logit."""
    return -tf.math.log(density_ratio_estimate(divergence, v_fake))


#: Generator objectives, name → ``loss(divergence, v_fake, generator_divergence=None)``.
GENERATOR_LOSSES: dict[str, Callable] = {
    "saddle": saddle_generator_loss,
    "nonsaturating": nonsaturating_generator_loss,
    "maximum_likelihood": maximum_likelihood_generator_loss,
    "log_ratio": log_ratio_generator_loss,
}
OBJECTIVES = tuple(GENERATOR_LOSSES)


def _is_own(divergence: Divergence, generator_divergence: Divergence | None) -> bool:
    return generator_divergence is None or generator_divergence.spec == divergence.spec


def check_generator_objective(
    divergence: Divergence, objective: str, generator_divergence: Divergence | None = None
) -> None:
    """Raises a one-line ``ValueError`` unless the critic's divergence can drive ``objective`` towards
    ``generator_divergence`` (``None``: the critic's own, or the one the objective fixes)."""
    if objective not in GENERATOR_LOSSES:
        raise ValueError(f"unknown generator objective {objective!r}; choose one of {', '.join(OBJECTIVES)}")
    fixed = FIXED_GENERATOR_DIVERGENCE.get(objective)
    if fixed is not None and generator_divergence is not None and generator_divergence.spec != fixed:
        raise ValueError(
            f"objective {objective!r} minimises {fixed}; drop --generator-divergence, or use "
            f"--objective saddle --generator-divergence {generator_divergence.spec}"
        )
    needs_ratio = fixed is not None or not _is_own(divergence, generator_divergence)
    if needs_ratio and divergence.density_ratio is None:
        density_ratio_estimate(divergence, 0.0)  # raises the one-line message
    if generator_divergence is not None and not _is_own(divergence, generator_divergence):
        if generator_divergence.density_ratio is None:
            raise ValueError(
                f"generator divergence {generator_divergence.spec!r} has no invertible f' (f not strictly "
                "convex): its payoff h(r) − r h'(r) is piecewise constant and gives no gradient; choose another"
            )


def generator_loss(
    divergence: Divergence, v_fake, objective: str = "saddle", generator_divergence: Divergence | None = None
):
    """The generator's loss per generated example for ``objective`` (see :data:`GENERATOR_LOSSES`)."""
    check_generator_objective(divergence, objective, generator_divergence)
    return GENERATOR_LOSSES[objective](divergence, v_fake, generator_divergence)
