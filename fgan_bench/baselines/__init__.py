"""The baseline registry: GAN losses that are not f-divergences, compared beside them.

>>> import fgan_bench
>>> fgan_bench.get_baseline("lsgan:a=-1,b=1,c=0").spec
'lsgan:a=-1,b=1,c=0'

A baseline is named wherever a divergence is (``run --divergence wgan_gp``, a sweep's
``divergences = ["kl", "hinge"]``): the two registries share one name space, and listings and
reports mark baselines as such. Built-ins (:mod:`fgan_bench.baselines.builtin`): WGAN-GP,
hinge, LSGAN. Plugins add more through :func:`register_baseline` (in a plugin file), or
installed entry points in the group ``fgan_bench.baselines``; every one must pass the
baseline checks (:mod:`fgan_bench.baselines.checks`) — the divergence validator does not
apply to a loss without f, f* and g_f.
"""

from __future__ import annotations

from fgan_bench.baselines.base import Baseline
from fgan_bench.errors import RegistrationError, SpecError
from fgan_bench.registry import Entry, Registry, parse_spec, registration_source

ENTRY_POINT_GROUP = "fgan_bench.baselines"


def _load_builtins() -> None:
    from fgan_bench.baselines import builtin

    with registration_source("builtin"):
        for baseline in builtin.BUILTIN_BASELINES:
            _REGISTRY.add(baseline.name, baseline, aliases=baseline.aliases)


def _load_entry_points() -> None:
    from fgan_bench.plugins import load_entry_points

    load_entry_points(ENTRY_POINT_GROUP, register_baseline)


_REGISTRY: Registry[Baseline] = Registry("baseline", loaders=(_load_builtins, _load_entry_points),
                                         namespace="--divergence")


def register_baseline(baseline: Baseline, *, replace: bool = False) -> Baseline:
    """Adds a baseline after its checks pass; returns it (``LS = register_baseline(Baseline(...))``).

    Raises:
        RegistrationError: a check failed (each named with its detail), or the name is taken
            (by a baseline, or by a divergence: the two share the names ``run --divergence`` takes).
    """
    from fgan_bench.baselines.checks import failed_checks

    if not isinstance(baseline, Baseline):
        raise TypeError(f"register_baseline expects a Baseline, got {type(baseline).__name__}")
    failures = failed_checks(baseline)
    if failures:
        raise RegistrationError(f"baseline {baseline.name!r} refused by its checks: {failures}")
    _REGISTRY.add(baseline.name, baseline, aliases=baseline.aliases, replace=replace)
    return baseline


def unregister_baseline(name: str) -> None:
    """Removes a registered baseline (by name or alias)."""
    _REGISTRY.remove(name)


def get_baseline(spec: str | Baseline) -> Baseline:
    """The baseline for a spec such as ``"wgan_gp"``, ``"wgan_gp:gp=1"`` or ``"lsgan:a=-1,b=1,c=0"``.

    Raises:
        UnknownNameError: unknown name, with the closest known names.
        SpecError: unknown, repeated or non-numeric parameters.
    """
    if isinstance(spec, Baseline):
        return spec
    parsed = parse_spec(spec)
    registered = _REGISTRY.lookup(parsed.name).item
    if not parsed.has_parameters:
        return registered
    return registered.with_parameters(*parsed.args, **dict(parsed.kwargs))


def is_baseline(spec) -> bool:
    """Whether ``spec`` (a string or an object) names a registered baseline; never raises."""
    if isinstance(spec, Baseline):
        return True
    try:
        return parse_spec(spec).name in _REGISTRY
    except SpecError:
        return False


def list_baselines() -> list[str]:
    """Registered baselines as their usage, e.g. ``"lsgan[:a=0,b=1,c=1]"``."""
    return [entry.item.usage for entry in _REGISTRY.entries()]


def baseline_entries() -> list[Entry[Baseline]]:
    """Registry entries (object, aliases and where each came from), for listings."""
    return _REGISTRY.entries()


__all__ = [
    "ENTRY_POINT_GROUP",
    "Baseline",
    "baseline_entries",
    "get_baseline",
    "is_baseline",
    "list_baselines",
    "register_baseline",
    "unregister_baseline",
]
