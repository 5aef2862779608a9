"""The :class:`Divergence` object: everything f-GAN needs to know about one f-divergence.

Conventions (Nowozin, Cseke & Tomioka, "f-GAN", 2016): P is the data distribution, Q the
model, and

    D_f(P ‖ Q) = ∫ q(x) f(p(x) / q(x)) dx,        f convex, f(1) = 0 (GAN: see ``f_at_1``).

The Fenchel conjugate f*(t) = sup_u {u·t − f(u)} turns any critic T into a lower bound

    D_f(P ‖ Q) ≥ E_P[T(x)] − E_Q[f*(T(x))],        tight at T*(x) = f'(p(x) / q(x)).

The critic network outputs an unconstrained V(x); the output activation g_f maps it into
dom f*, T = g_f(V). All functions of a :class:`Divergence` are element-wise, differentiable
TensorFlow functions; they also accept NumPy arrays and Python numbers (float64 input stays
float64).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from fgan_bench._lazy import keras, tf
from fgan_bench.errors import SpecError

TensorFunction = Callable[[Any], Any]


def as_tensor(x: Any) -> Any:
    """``x`` as a floating-point tensor.

    Tensors pass through; NumPy arrays keep a floating dtype (float64 stays float64);
    Python numbers, lists and integer arrays become Keras' float type (float32 by default).
    """
    if tf.is_tensor(x) or isinstance(x, tf.Variable):
        return x
    if isinstance(x, np.ndarray | np.floating) and np.issubdtype(x.dtype, np.floating):
        return tf.constant(x)
    return tf.constant(np.asarray(x, dtype=keras.config.floatx()))


def _elementwise(fn: TensorFunction) -> TensorFunction:
    """Wraps ``fn`` so that it accepts NumPy arrays and Python numbers as well as tensors.

    Inside a ``tf.function`` ``fn`` runs as written, never converted by AutoGraph: it is
    element-wise tensor math with no data-dependent Python control flow, and AutoGraph cannot
    read the source of a lambda sharing its statement with others (the registry's rows), which
    it would report for each one. The wrapper keeps ``fn``'s docstring, but neither its name
    (AutoGraph takes a function named ``<lambda>`` for a lambda) nor ``__wrapped__`` (which
    would send AutoGraph to that source).
    """
    if getattr(fn, "_fgan_wrapped", False):
        return fn

    def wrapper(x):
        return tf.autograph.experimental.do_not_convert(fn)(as_tensor(x))

    functools.update_wrapper(wrapper, fn, assigned=("__module__", "__doc__"))
    del wrapper.__wrapped__
    wrapper._fgan_wrapped = True
    return wrapper


def derivative(fn: TensorFunction) -> TensorFunction:
    """The element-wise derivative of an element-wise function, by automatic differentiation."""

    def fn_prime(u):
        u = as_tensor(u)
        with tf.GradientTape() as tape:
            tape.watch(u)
            y = fn(u)
        return tape.gradient(y, u)

    return fn_prime


def _format_number(x: float) -> str:
    return f"{x:g}".replace("-", "−") if math.isfinite(x) else ("∞" if x > 0 else "−∞")


@dataclasses.dataclass(frozen=True)
class Interval:
    """An interval of the real line, used for dom f*.

    Args:
        lower, upper: the end points (±inf for unbounded).
        lower_closed, upper_closed: whether each end point belongs to the interval.
        text: how to print it (e.g. ``"t < log 2"``); derived from the end points if empty.
    """

    lower: float = -math.inf
    upper: float = math.inf
    lower_closed: bool = False
    upper_closed: bool = False
    text: str = ""

    def distance_outside(self, t: np.ndarray) -> np.ndarray:
        """How far each ``t`` lies outside the closed interval (0 inside; inf for NaN)."""
        t = np.asarray(t, dtype=np.float64)
        outside = np.maximum(np.maximum(self.lower - t, t - self.upper), 0.0)
        return np.where(np.isnan(t), np.inf, outside)

    def __str__(self) -> str:
        if self.text:
            return self.text
        lo, hi = math.isfinite(self.lower), math.isfinite(self.upper)
        if not lo and not hi:
            return "ℝ"
        lower = f"{_format_number(self.lower)} {'≤' if self.lower_closed else '<'} " if lo else ""
        upper = f" {'≤' if self.upper_closed else '<'} {_format_number(self.upper)}" if hi else ""
        if lo and not hi:
            return f"t {'≥' if self.lower_closed else '>'} {_format_number(self.lower)}"
        return f"{lower}t{upper}"


REAL_LINE = Interval()


@dataclasses.dataclass(frozen=True, eq=False)
class Divergence:
    """One f-divergence: f, its conjugate f*, the critic's output activation g_f, and more.

    Args:
        name: registry name, e.g. ``"reverse_kl"``.
        f: the generator function f(u) of the density ratio u = p/q, convex on u ≥ 0.
        conjugate: the Fenchel conjugate f*(t), valid at least on ``domain``.
        activation: g_f(v), mapping the critic's raw output v ∈ ℝ into ``domain``.
        domain: dom f* (where ``conjugate`` holds), as an :class:`Interval`.
        f_prime_at_1: f'(1), the critic's value where P = Q.
        f_at_1: f(1); 0 for a normalised f (every row but GAN, whose f(1) = −log 4).
        optimal_critic: T*(u) = f'(u) as a function of the density ratio; by default the
            derivative of ``f`` by automatic differentiation.
        conjugate_of_activation: f*(g_f(v)) as one fused, numerically stable expression in
            v; by default the composition ``conjugate(activation(v))``.
        density_ratio: r(t) = (f')⁻¹(t), the inverse of the optimal-critic map: the density
            ratio p/q that a critic value t = T(x) stands for (Poole et al., 2016), so that
            ``density_ratio(optimal_critic(u)) == u``. Where t lies below the range of f'
            on u > 0 (Pearson's g_f(v) = v reaches t < −2) it returns 0, where the supremum
            of u·t − f(u) sits. ``None`` where f' is not invertible (f not strictly convex:
            total variation). Needed to train the generator on another divergence than the
            critic's; checked by the validator.
        gaussian_closed_form: optional ``(mu_p, sigma_p, mu_q, sigma_q) -> D_f(P‖Q)`` for
            Gaussians P, Q (NaN where the divergence is infinite); checked by the validator.
        f_formula: f(u) as text, for listings.
        description: one line with the math.
        aliases: other names for the registry.
        parameters: parameter values of a family member, e.g. ``{"alpha": 0.5}``.
    """

    name: str
    f: TensorFunction
    conjugate: TensorFunction
    activation: TensorFunction
    domain: Interval
    f_prime_at_1: float
    f_at_1: float = 0.0
    optimal_critic: TensorFunction | None = None
    conjugate_of_activation: TensorFunction | None = None
    density_ratio: TensorFunction | None = None
    gaussian_closed_form: Callable[[float, float, float, float], float] | None = None
    f_formula: str = ""
    description: str = ""
    aliases: tuple[str, ...] = ()
    parameters: Mapping[str, float] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        set_field = functools.partial(object.__setattr__, self)
        for field in ("f", "conjugate", "activation", "optimal_critic", "conjugate_of_activation", "density_ratio"):
            value = getattr(self, field)
            if value is not None and not callable(value):
                raise TypeError(f"Divergence {self.name!r}: {field} must be callable, got {value!r}")
        if self.optimal_critic is None:
            set_field("optimal_critic", derivative(_elementwise(self.f)))
        if self.conjugate_of_activation is None:
            conjugate, activation = self.conjugate, self.activation
            set_field("conjugate_of_activation", lambda v: conjugate(activation(v)))
        for field in ("f", "conjugate", "activation", "optimal_critic", "conjugate_of_activation"):
            set_field(field, _elementwise(getattr(self, field)))
        if self.density_ratio is not None:
            set_field("density_ratio", _elementwise(self.density_ratio))
        set_field("aliases", tuple(self.aliases))
        set_field("parameters", dict(self.parameters))
        set_field("f_prime_at_1", float(self.f_prime_at_1))
        set_field("f_at_1", float(self.f_at_1))

    @property
    def spec(self) -> str:
        """The spec string that recreates this divergence, e.g. ``"alpha:0.5"``."""
        if not self.parameters:
            return self.name
        if len(self.parameters) == 1:
            return f"{self.name}:{_format_parameter(next(iter(self.parameters.values())))}"
        return f"{self.name}:" + ",".join(f"{k}={_format_parameter(v)}" for k, v in self.parameters.items())

    def __repr__(self) -> str:
        return f"<Divergence {self.spec}: f(u) = {self.f_formula or '?'}, dom f* = {self.domain}>"


def _format_parameter(value: float) -> str:
    return repr(float(value)).removesuffix(".0") if isinstance(value, int | float) else str(value)


@dataclasses.dataclass(frozen=True, eq=False)
class DivergenceFamily:
    """A parameterised family of divergences, e.g. α-divergences (spec ``"alpha:0.5"``).

    Args:
        name: registry name of the family.
        build: ``build(**parameters) -> Divergence``; raises ``ValueError`` for invalid values.
        parameters: parameter names, in positional order.
        examples: parameter sets at which the family is validated (at registration of a
            plugin and in the test suite).
        f_formula, description, aliases: as for :class:`Divergence`.
        domain_formula: dom f* as text, in terms of the parameters, for listings.
        f_prime_at_1_formula: f'(1) as text, for listings.
    """

    name: str
    build: Callable[..., Divergence]
    parameters: tuple[str, ...]
    examples: tuple[Mapping[str, float], ...]
    f_formula: str = ""
    domain_formula: str = ""
    f_prime_at_1_formula: str = ""
    description: str = ""
    aliases: tuple[str, ...] = ()

    def __post_init__(self):
        if not self.parameters:
            raise TypeError(f"DivergenceFamily {self.name!r} needs at least one parameter name")
        if not self.examples:
            raise TypeError(f"DivergenceFamily {self.name!r} needs at least one example parameter set")
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "examples", tuple(dict(e) for e in self.examples))
        object.__setattr__(self, "aliases", tuple(self.aliases))

    @property
    def usage(self) -> str:
        """How to write a member as a spec, e.g. ``"alpha:<alpha>"``."""
        return f"{self.name}:" + ",".join(f"<{p}>" for p in self.parameters)

    def __call__(self, *args: float, **kwargs: float) -> Divergence:
        """Builds the member with these parameters (positional in ``parameters`` order)."""
        if len(args) > len(self.parameters):
            raise SpecError(f"{self.name!r} takes {len(self.parameters)} parameter(s) ({self.usage}), got {len(args)}")
        values = dict(zip(self.parameters, args, strict=False))
        for key, value in kwargs.items():
            if key not in self.parameters:
                raise SpecError(f"{self.name!r} has no parameter {key!r}; its parameters: {', '.join(self.parameters)}")
            if key in values:
                raise SpecError(f"{self.name!r}: parameter {key!r} given twice")
            values[key] = value
        missing = [p for p in self.parameters if p not in values]
        if missing:
            example = self.examples[0]
            example_spec = f"{self.name}:" + ",".join(_format_parameter(example[p]) for p in self.parameters)
            raise SpecError(
                f"divergence {self.name!r} needs parameter(s) {', '.join(missing)}: "
                f"write {self.usage}, e.g. {example_spec}"
            )
        for key, value in values.items():
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise SpecError(f"{self.name!r}: parameter {key!r} must be a number, got {value!r}")
        try:
            return self.build(**{k: float(v) for k, v in values.items()})
        except ValueError as error:
            raise SpecError(f"invalid {self.usage}: {error}") from None

    def __repr__(self) -> str:
        return f"<DivergenceFamily {self.usage}: f(u) = {self.f_formula or '?'}>"
