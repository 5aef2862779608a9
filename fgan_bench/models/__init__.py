"""The model registry: ``get_model("mlp")``, ``list_models()``, ``register_model(Model(...))``.

Built-ins: ``mlp`` (vector data), ``dcgan`` and ``mlp_gan`` (images), ``linear`` (the f-GAN paper's 1-D
experiment); see :mod:`fgan_bench.models.builtin`. Plugin files register models the same
way; installed packages use the entry-point group ``fgan_bench.models``. Listing and
looking up models never imports TensorFlow: the built-ins' builders import Keras on call.
"""

from __future__ import annotations

from typing import Any

from fgan_bench.models.base import MODEL_OPTIONS, Model, check_models
from fgan_bench.registry import Entry, Registry, registration_source

ENTRY_POINT_GROUP = "fgan_bench.models"
#: The paper's 1-D experiment (``linear``): single-step updates, batches of 1024. The paper's
#: step size 0.01, taken as Adam's, saturates the tanh critic: reverse KL then ends with (μ̂, σ̂)
#: 0.46 from the exact best fit; Adam at 1e-3 for 20,000 steps lands within 0.011.
LINEAR_DEFAULTS = {"steps": 20000, "batch_size": 1024, "generator_lr": 1e-3, "critic_lr": 1e-3,
                   "optimizer": "adam", "clip_norm": 0.0}


def _builtin(name: str):
    def build(**kwargs):
        import importlib

        return getattr(importlib.import_module("fgan_bench.models.builtin"), f"build_{name}")(**kwargs)

    return build


def _load_builtins() -> None:
    with registration_source("builtin"):
        _REGISTRY.add("mlp", Model(
            "mlp", "vector", _builtin("mlp"), "fully connected, ReLU hidden layers, linear output",
            options=("width", "depth"), defaults={"width": 128, "depth": 2},
        ))
        _REGISTRY.add("dcgan", Model(
            "dcgan", "image", _builtin("dcgan"), "DCGAN: strided (transposed) convolutions, batch norm",
            options=("filters",), defaults={"filters": 64},
        ))
        _REGISTRY.add("mlp_gan", Model(
            "mlp_gan", "image", _builtin("mlp_gan"),
            "the lecture notes' MLP GAN: noise 128 → 256 ReLU → sigmoid pixels; pixels → 256 ReLU → 1",
            defaults={"latent_dim": 128},
        ))
        _REGISTRY.add("linear", Model(
            "linear", "vector", _builtin("linear"), "G(z) = μ + σ·z and a 2×64 tanh critic (the paper's 1-D fit)",
            defaults=LINEAR_DEFAULTS,
            latent_is_data_dimension=True,
        ))


def _load_entry_points() -> None:
    from fgan_bench.plugins import load_entry_points

    load_entry_points(ENTRY_POINT_GROUP, register_model)


_REGISTRY: Registry[Model] = Registry("model", loaders=(_load_builtins, _load_entry_points))


def register_model(model: Model, *, aliases: tuple[str, ...] = (), replace: bool = False) -> Model:
    """Registers a :class:`Model` (refused on a name clash unless ``replace``)."""
    if not isinstance(model, Model):
        raise TypeError(f"register_model expects a fgan_bench.Model, got {type(model).__name__}")
    _REGISTRY.add(model.name, model, aliases=aliases, replace=replace)
    return model


def unregister_model(name: str) -> None:
    _REGISTRY.remove(name)


def get_model(name: str) -> Model:
    """The model registered as ``name`` (an unknown name lists the closest known ones)."""
    return _REGISTRY.lookup(name).item


def list_models() -> list[str]:
    return _REGISTRY.names()


def model_entries() -> list[Entry[Model]]:
    return _REGISTRY.entries()


def build_models(name: str, *, shape: tuple[int, ...], latent_dim: int, kind: str | None = None, **options):
    """(generator, critic) of model ``name`` for data of this shape, checked for the right shapes.

    ``options`` the model does not take (e.g. ``width`` for dcgan) are ignored; ``kind`` is
    accepted for compatibility and checked.
    """
    from fgan_bench.errors import FganBenchError

    model = get_model(name)
    if kind is not None and kind != model.kind:
        raise FganBenchError(f"model {name!r} is for {model.kind} data, not {kind} data")
    taken = {k: v for k, v in options.items() if k in model.options}
    try:
        generator, critic = model.build(shape=tuple(shape), latent_dim=latent_dim, **taken)
    except (ValueError, TypeError) as error:
        raise FganBenchError(f"model {name!r} cannot be built for data of shape {tuple(shape)}: {error}") from None
    check_models(model, generator, critic, shape=tuple(shape), latent_dim=latent_dim)
    return generator, critic


def __getattr__(name: str) -> Any:
    """The built-in builders (``mlp_generator``, ``dcgan_critic``, ``exact_density``...), imported on use."""
    import importlib

    if name.startswith("_") or name == "builtin":
        raise AttributeError(f"module 'fgan_bench.models' has no attribute {name!r}")
    builtin = importlib.import_module("fgan_bench.models.builtin")
    try:
        return getattr(builtin, name)
    except AttributeError:
        raise AttributeError(f"module 'fgan_bench.models' has no attribute {name!r}") from None


__all__ = [
    "MODEL_OPTIONS",
    "Model",
    "build_models",
    "check_models",
    "get_model",
    "list_models",
    "model_entries",
    "register_model",
    "unregister_model",
]
