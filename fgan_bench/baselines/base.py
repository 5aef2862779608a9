"""A baseline: a GAN loss that is not an f-divergence (no f, f* or g_f), as a small frozen record.

A :class:`Baseline` is the other half of the trainer's objective interface
(:mod:`fgan_bench.objectives`): it gives the critic's and the generator's loss per example from
the critic's raw outputs v = V(x), an optional gradient penalty, and the run options its
paper published (``run_defaults``), which fill the options a user leaves unset. Its
parameters are written in its spec like a divergence family's: ``lsgan:a=-1,b=1,c=0``.

The losses are pure functions ``critic_loss(v_real, v_fake, **parameters)`` and
``generator_loss(v_fake, **parameters)`` (TF-GAN's style); the critic minimises its loss,
the generator its own. The logged ``divergence_estimate`` of a baseline is minus its critic
loss without the penalty (WGAN-GP: E_P[V] − E_Q[V], the critic's Wasserstein-1 estimate).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from fgan_bench.errors import SpecError


@dataclasses.dataclass(frozen=True)
class Baseline:
    """A non-f GAN loss (WGAN-GP, hinge, LSGAN, or a plugin's).

    Args:
        name: registry name (``"wgan_gp"``).
        description: one line for ``list``.
        critic_loss: ``(v_real, v_fake, **parameters) -> per-example loss`` the critic minimises.
        generator_loss: ``(v_fake, **parameters) -> per-example loss`` the generator minimises.
        parameters: ``(name, value)`` pairs, the defaults or this member's values.
        penalty_weight: the parameter holding the gradient-penalty weight λ
            (:func:`fgan_bench.baselines.penalty.gradient_penalty`), or ``None`` for no penalty.
        run_defaults: run options as published (``critic_steps``, ``beta1``, ...); an option
            the user sets wins.
        reference: where the loss is published.
        aliases: other registry names.
    """

    name: str
    description: str
    critic_loss: Callable
    generator_loss: Callable
    parameters: tuple[tuple[str, float], ...] = ()
    penalty_weight: str | None = None
    run_defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    reference: str = ""
    aliases: tuple[str, ...] = ()
    spec: str = ""

    #: Marks a baseline for listings and reports; divergences have no such attribute.
    is_baseline = True

    def __post_init__(self):
        if not self.spec:
            object.__setattr__(self, "spec", self.name)

    @property
    def values(self) -> dict[str, float]:
        return dict(self.parameters)

    @property
    def usage(self) -> str:
        """``lsgan[:a=0,b=1,c=1]``: the spec with its default parameters."""
        if not self.parameters:
            return self.name
        return f"{self.name}[:{','.join(f'{k}={v:g}' for k, v in self.parameters)}]"

    def with_parameters(self, *args, **kwargs) -> Baseline:
        """This baseline with some parameters changed (positional in declared order, or by name).

        Called on the registered baseline: its spec is the bare name where every value is the
        default, else ``name:k=v,...`` with every parameter, so that one member has one spec."""
        names = [name for name, _ in self.parameters]
        if len(args) > len(names):
            raise SpecError(f"baseline {self.name!r} takes {len(names)} parameter(s) ({', '.join(names) or 'none'})")
        given = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in names:
                raise SpecError(f"baseline {self.name!r} has no parameter {key!r}; it has {', '.join(names) or 'none'}")
            if key in given:
                raise SpecError(f"baseline {self.name!r}: parameter {key!r} given twice")
            given[key] = value
        for key, value in given.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SpecError(f"baseline {self.name!r}: parameter {key!r} must be a number, got {value!r}")
        values = {**self.values, **{k: float(v) for k, v in given.items()}}
        parameters = tuple((name, values[name]) for name in names)
        spec = self.name if parameters == self.parameters else \
            f"{self.name}:" + ",".join(f"{k}={v:g}" for k, v in parameters)
        return dataclasses.replace(self, parameters=parameters, spec=spec)

    # The trainer's objective interface (see fgan_bench.objectives).
    def critic_losses(self, v_real, v_fake):
        """The critic's per-example loss, without the gradient penalty."""
        return self.critic_loss(v_real, v_fake, **self.values)

    def generator_losses(self, v_fake):
        return self.generator_loss(v_fake, **self.values)

    def estimate(self, v_real, v_fake):
        """Minus the critic's loss, per example (WGAN-GP: V(x) − V(x̃), the Wasserstein-1 estimate)."""
        return -self.critic_losses(v_real, v_fake)

    def critic_value(self, v):
        """What the critic's output stands for, for the ``t_real``/``t_fake`` logs: V itself."""
        return v

    @property
    def critic_penalties(self) -> tuple:
        """``(critic_penalty,)`` where the baseline has a penalty of non-zero weight (WGAN-GP), else ``()``."""
        weight = self.values.get(self.penalty_weight, 0.0) if self.penalty_weight else 0.0
        return (self.critic_penalty,) if weight else ()

    def critic_penalty(self, critic, real, fake, seed=(0, 0)):
        """λ·(‖∇V(x̂)‖ − 1)² per example on interpolates x̂ (ε drawn from ``seed``), or 0 without a penalty."""
        weight = self.values.get(self.penalty_weight, 0.0) if self.penalty_weight else 0.0
        if not weight:
            return 0.0
        from fgan_bench.baselines.penalty import gradient_penalty

        return gradient_penalty(critic, real, fake, weight, seed)
