"""The f-GAN objectives, per example, from a :class:`~fgan_bench.Divergence` alone.

With the critic's raw outputs v = V_ω(x) on real data and on generated data, the f-GAN
objective (Nowozin et al., 2016, eq. 6) is

    F(θ, ω) = E_P[g_f(V_ω(x))] − E_Q[f*(g_f(V_ω(G_θ(z))))],

a variational lower bound of D_f(P‖Q_θ). The critic maximises F; the generator minimises it
(``"saddle"``) or, with the paper's alternative (``"nonsaturating"``) objective, maximises
E_Q[g_f(V_ω(G_θ(z)))]. f*(g_f(v)) is always the divergence's fused
``conjugate_of_activation``, stable for large |v|; nothing here is divergence-specific.

Functions return per-example values; reduce them with ``tf.nn.compute_average_loss`` so
that the loss is scaled by the global batch under ``tf.distribute``.
"""

from __future__ import annotations

from fgan_bench.divergences.base import Divergence

OBJECTIVES = ("saddle", "nonsaturating")


def variational_estimate(divergence: Divergence, v_real, v_fake):
    """g_f(v_real) − f*(g_f(v_fake)), per example: its mean is F, the critic's estimate of D_f."""
    return divergence.activation(v_real) - divergence.conjugate_of_activation(v_fake)


def critic_loss(divergence: Divergence, v_real, v_fake):
    """−(g_f(v_real) − f*(g_f(v_fake))), per example: the critic maximises F."""
    return -variational_estimate(divergence, v_real, v_fake)


def generator_loss(divergence: Divergence, v_fake, objective: str = "saddle"):
    """The generator's loss per generated example.

    * ``"saddle"``: f*(g_f(v_fake)) enters F with a minus sign, so minimising F over θ
      minimises −f*(g_f(v_fake)).
    * ``"nonsaturating"``: maximise g_f(v_fake), i.e. minimise −g_f(v_fake).
    """
    if objective == "saddle":
        return -divergence.conjugate_of_activation(v_fake)
    if objective == "nonsaturating":
        return -divergence.activation(v_fake)
    raise ValueError(f"unknown generator objective {objective!r}; choose one of {', '.join(OBJECTIVES)}")
