"""The trainer's loss side: one small interface for f-divergences and baselines alike.

An *objective* is what :class:`~fgan_bench.FGAN` asks for its losses, per example, from the
critic's raw outputs v:

    critic_losses(v_real, v_fake)      the critic's loss (it minimises it)
    generator_losses(v_fake)           the generator's loss
    estimate(v_real, v_fake)           what the critic estimates (logged ``divergence_estimate``)
    critic_value(v)                    what v stands for (logged ``t_real`` / ``t_fake``)
    critic_penalties                   the terms added to the critic's loss, each
                                       ``term(critic, real, fake, seed) -> per-example``
                                       (``seed``, shape [2], for any randomness in it);
                                       ``()``: none, and the compiled step holds no op for them

A :class:`~fgan_bench.baselines.Baseline` is one directly; an f-divergence becomes one through
:class:`FGANObjective` (:mod:`fgan_bench.losses`: −F for the critic, the chosen generator
objective, F as the estimate, g_f(v) as the value, no penalty term). :func:`resolve` turns a spec
naming either into its object, :func:`as_objective` that object into an objective.
"""

from __future__ import annotations

import dataclasses

from fgan_bench import losses
from fgan_bench.baselines import Baseline, get_baseline, is_baseline
from fgan_bench.divergences import get_divergence
from fgan_bench.divergences.base import Divergence


@dataclasses.dataclass(frozen=True)
class FGANObjective:
    """The f-GAN objective of ``divergence`` (Nowozin et al., 2016) as the trainer's interface."""

    divergence: Divergence
    objective: str = "saddle"
    generator_divergence: Divergence | None = None

    def __post_init__(self):
        losses.check_generator_objective(self.divergence, self.objective, self.generator_divergence)

    @property
    def spec(self) -> str:
        return self.divergence.spec

    def critic_losses(self, v_real, v_fake):
        """−(g_f(v_real) − f*(g_f(v_fake)))."""
        return losses.critic_loss(self.divergence, v_real, v_fake)

    def generator_losses(self, v_fake):
        return losses.generator_loss(self.divergence, v_fake, self.objective, self.generator_divergence)

    def estimate(self, v_real, v_fake):
        """g_f(v_real) − f*(g_f(v_fake)): its mean is F, a lower bound of D_f(P‖Q)."""
        return losses.variational_estimate(self.divergence, v_real, v_fake)

    def critic_value(self, v):
        """T = g_f(v)."""
        return self.divergence.activation(v)

    #: No penalty term: the f-GAN critic is bounded by g_f, not by a Lipschitz constraint.
    critic_penalties = ()


def resolve(spec: str | Divergence | Baseline) -> Divergence | Baseline:
    """The divergence or baseline a ``--divergence`` spec names (baselines first: they never share a name).

    Raises:
        UnknownNameError, SpecError, InvalidDivergenceError: as :func:`~fgan_bench.get_divergence`
            and :func:`~fgan_bench.get_baseline` do.
    """
    if isinstance(spec, Divergence | Baseline):
        return spec
    return get_baseline(spec) if is_baseline(spec) else get_divergence(spec)


def as_objective(item: Divergence | Baseline, objective: str = "saddle",
                 generator_divergence: Divergence | None = None):
    """The trainer's objective for a divergence (with its generator objective) or a baseline.

    Raises:
        ValueError: one line — the generator objective does not apply (a baseline has its own
            generator loss, so it takes only the default ``saddle`` and no generator divergence).
    """
    if isinstance(item, Baseline):
        if objective != "saddle" or generator_divergence is not None:
            raise ValueError(f"baseline {item.spec!r} has its own generator loss; drop --objective and "
                             "--generator-divergence (they choose among f-GAN generator objectives)")
        return item
    return FGANObjective(item, objective, generator_divergence)
