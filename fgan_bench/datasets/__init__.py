"""The dataset registry: ``get_dataset("ring8")``, ``list_datasets()``, ``register_dataset(...)``.

A registered dataset is a function of keyword parameters returning a :class:`Dataset`;
specs pass them as for divergences (``mixture1d:mu2=3``, ``mnist:path=~/mnist.npz``).
Plugin files may register datasets too; installed packages use the entry-point group
``fgan_bench.datasets``.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable

from fgan_bench.datasets.base import Dataset
from fgan_bench.datasets.pipeline import training_batches
from fgan_bench.datasets.validation import coerce_parameters
from fgan_bench.errors import FganBenchError, SpecError, UnknownNameError
from fgan_bench.registry import Entry, Registry, parse_spec, registration_source

ENTRY_POINT_GROUP = "fgan_bench.datasets"
DatasetBuilder = Callable[..., Dataset]


def _load_builtins() -> None:
    from fgan_bench.datasets.builtin import BUILTIN_DATASETS
    from fgan_bench.datasets.mnist5k import mnist5k
    from fgan_bench.datasets.pacgan import PACGAN_DATASETS
    from fgan_bench.datasets.tfds import tfds
    from fgan_bench.datasets.user_data import file

    with registration_source("builtin"):
        builtins = {**BUILTIN_DATASETS, "file": file, "mnist5k": mnist5k, **PACGAN_DATASETS, "tfds": tfds}
        for name, build in builtins.items():
            _REGISTRY.add(name, build)


def _load_entry_points() -> None:
    from fgan_bench.plugins import load_entry_points

    load_entry_points(ENTRY_POINT_GROUP, lambda item: register_dataset(item.__name__, item))


_REGISTRY: Registry[DatasetBuilder] = Registry("dataset", loaders=(_load_builtins, _load_entry_points))


def register_dataset(
    name: str, build: DatasetBuilder | Dataset, *, aliases: tuple[str, ...] = (), replace: bool = False
) -> DatasetBuilder | Dataset:
    """Registers a dataset: a :class:`Dataset`, or a function of keyword parameters returning one."""
    if isinstance(build, Dataset):
        dataset = build
        builder: DatasetBuilder = lambda: dataset  # noqa: E731
        builder.__doc__ = dataset.description
    elif callable(build):
        builder = build
    else:
        raise TypeError(f"register_dataset expects a Dataset or a function returning one, got {type(build).__name__}")
    _REGISTRY.add(name, builder, aliases=aliases, replace=replace)
    return build


def get_dataset(spec: str | Dataset) -> Dataset:
    """The dataset for a spec such as ``"ring8"`` or ``"mixture1d:mu2=3"``.

    Raises:
        UnknownNameError: unknown name, with the closest known names.
        SpecError: parameters the dataset does not take, or of the wrong type.
        DataError: user data that cannot be trained on (:mod:`fgan_bench.datasets.validation`).
        FganBenchError: data that cannot be found or read (with where to put it).
    """
    if isinstance(spec, Dataset):
        return spec
    parsed = parse_spec(spec)
    try:
        build = _REGISTRY.lookup(parsed.name).item
    except UnknownNameError:
        raise UnknownNameError(_unknown_dataset(parsed.name)) from None
    try:
        bound = inspect.signature(build).bind(*parsed.args, **dict(parsed.kwargs))
    except TypeError as error:
        parameters = ", ".join(inspect.signature(build).parameters) or "none"
        raise SpecError(f"dataset {parsed.name!r}: {error} (its parameters: {parameters})") from None
    bound.arguments.update(coerce_parameters(build, parsed.name, bound.arguments))
    try:
        dataset = build(*bound.args, **bound.kwargs)
    except FganBenchError:
        raise
    except ValueError as error:
        raise SpecError(f"dataset {spec!r}: {error}") from None
    except OSError as error:
        raise FganBenchError(f"dataset {spec!r}: {error}") from None
    return _without_default_parameters(dataset, build)


def _unknown_dataset(name: str) -> str:
    """The one line for an unknown dataset: a near-miss of a registered name (``rign8``), or
    else how to train on one's own data under that name (``moons`` is not ``mnist``)."""
    import difflib

    close = difflib.get_close_matches(name, list_datasets(), n=2, cutoff=0.8)
    if close:
        return f"unknown dataset {name!r}; did you mean {' or '.join(repr(c) for c in close)}?"
    return (f"unknown dataset {name!r}; for your own data pass file:path=FILE.npy,name={name} (an array, or a folder "
            f"of images); known datasets: {', '.join(list_datasets())}")


def _without_default_parameters(dataset: Dataset, build: DatasetBuilder) -> Dataset:
    """The dataset with parameters at their defaults left out of its spec: ``mixture1d``, not
    ``mixture1d:mu1=0.0,...``, so that specs, run ids and report labels stay short and one
    dataset has one name."""
    defaults = {name: p.default for name, p in inspect.signature(build).parameters.items()
                if p.default is not inspect.Parameter.empty}
    kept = {k: v for k, v in dataset.parameters.items() if k not in defaults or defaults[k] != v}
    if len(kept) == len(dataset.parameters):
        return dataset
    return dataclasses.replace(dataset, parameters=kept)


def list_datasets() -> list[str]:
    """Registered dataset names."""
    return _REGISTRY.names()


def dataset_parameters(build: DatasetBuilder) -> str:
    """A builder's spec parameters with their defaults, e.g. ``path, name='', test_fraction=0.2``."""
    shown = [name if p.default is inspect.Parameter.empty else f"{name}={p.default!r}"
             for name, p in inspect.signature(build).parameters.items()]
    return ", ".join(shown) or "-"


def dataset_entries() -> list[Entry[DatasetBuilder]]:
    return _REGISTRY.entries()


def unregister_dataset(name: str) -> None:
    _REGISTRY.remove(name)


__all__ = [
    "Dataset",
    "dataset_entries",
    "dataset_parameters",
    "get_dataset",
    "list_datasets",
    "register_dataset",
    "training_batches",
    "unregister_dataset",
]
