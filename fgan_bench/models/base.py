"""What a model is: :class:`Model`, a named builder of a (generator, critic) pair.

``build(shape=..., latent_dim=..., **options)`` returns two Keras models: the generator maps
noise of shape (batch, latent_dim) to data of shape (batch, *shape); the critic maps data to
raw outputs V of shape (batch, 1). :func:`check_models` verifies exactly that, so a plugin
model with the wrong shapes fails in one line naming the model, before training starts.

Conditional (``--conditional``) and semi-supervised (``--labelled N``) runs wrap the same pair
(:mod:`fgan_bench.models.conditional`); the one extra convention is that the input of the
critic's last layer is its feature vector φ(x).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from fgan_bench.errors import FganBenchError

KINDS = ("vector", "image")
#: Options of ``run`` that a model may take (each model declares which in ``options``).
MODEL_OPTIONS = ("width", "depth", "filters")


@dataclasses.dataclass(frozen=True)
class Model:
    """A generator/critic architecture.

    Args:
        name: the registry name (``--model NAME``).
        kind: the data it is for: ``"vector"`` or ``"image"``.
        build: ``build(*, shape, latent_dim, **options) -> (generator, critic)``.
        description: one line for ``list models``.
        options: which of :data:`MODEL_OPTIONS` ``build`` takes.
        defaults: run options this model suggests (its options' defaults, and e.g. steps).
        latent_is_data_dimension: the generator's noise has the data's dimension
            (``latent_dim`` is then fixed by the data).
    """

    name: str
    kind: str
    build: Callable[..., tuple[Any, Any]]
    description: str = ""
    options: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    latent_is_data_dimension: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"model {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        unknown = set(self.options) - set(MODEL_OPTIONS)
        if unknown:
            raise ValueError(f"model {self.name!r}: unknown options {sorted(unknown)}; known: {MODEL_OPTIONS}")


def check_models(model: Model, generator, critic, *, shape: tuple[int, ...], latent_dim: int) -> None:
    """Raises a one-line error naming ``model`` unless G: (b, latent_dim) → (b, *shape) and C: (b, *shape) → (b, 1)."""
    import numpy as np

    try:
        fake = generator(np.zeros((2, latent_dim), np.float32))
        v = critic(np.zeros((2, *shape), np.float32))
    except Exception as error:  # noqa: BLE001 - user code: report it in one line
        raise FganBenchError(
            f"model {model.name!r} does not accept noise of shape (batch, {latent_dim}) and data of shape "
            f"(batch, {', '.join(map(str, shape))}): {type(error).__name__}: {str(error).splitlines()[0]}"
        ) from None
    if tuple(fake.shape) != (2, *shape):
        raise FganBenchError(
            f"model {model.name!r}: the generator returns shape {tuple(fake.shape)[1:]} per example, "
            f"the data has shape {tuple(shape)}"
        )
    if tuple(v.shape) != (2, 1):
        raise FganBenchError(
            f"model {model.name!r}: the critic returns shape {tuple(v.shape)[1:]} per example, expected (1,) "
            "(one raw output V per example)"
        )
