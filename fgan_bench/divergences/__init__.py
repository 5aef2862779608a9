"""The divergence registry: look up, list and register f-divergences.

>>> import fgan_bench
>>> fgan_bench.get_divergence("alpha:0.5").domain.upper
2.0

Built-ins are the rows of the f-GAN table (:mod:`fgan_bench.divergences.builtin`). Plugins
add more through :func:`register_divergence`, installed entry points in the group
``fgan_bench.divergences``, or plugin files (:mod:`fgan_bench.plugins`); every plugin
divergence must pass the math validator (:mod:`fgan_bench.divergences.validation`).
"""

from __future__ import annotations

import warnings

import fgan_bench.baselines  # noqa: F401 - its registry shares the --divergence names (Registry namespace)
from fgan_bench.divergences.base import Divergence, DivergenceFamily, Interval
from fgan_bench.divergences.validation import ValidationReport, validate_divergence
from fgan_bench.errors import InvalidDivergenceError, SpecError
from fgan_bench.registry import Entry, Registry, parse_spec, registration_source

ENTRY_POINT_GROUP = "fgan_bench.divergences"


def _load_builtins() -> None:
    from fgan_bench.divergences import builtin

    with registration_source("builtin"):
        for make in builtin.BUILTIN_DIVERGENCES:
            divergence = make()
            _REGISTRY.add(divergence.name, divergence, aliases=divergence.aliases)
        for family in builtin.BUILTIN_FAMILIES:
            _REGISTRY.add(family.name, family, aliases=family.aliases)


def _load_entry_points() -> None:
    from fgan_bench.plugins import load_entry_points

    load_entry_points(ENTRY_POINT_GROUP, register_divergence)


_REGISTRY: Registry[Divergence | DivergenceFamily] = Registry(
    "divergence", loaders=(_load_builtins, _load_entry_points), namespace="--divergence"
)


def validate(item: Divergence | DivergenceFamily) -> list[ValidationReport]:
    """Validation reports for a divergence, or for each example member of a family."""
    if isinstance(item, DivergenceFamily):
        return [validate_divergence(item(**example)) for example in item.examples]
    return [validate_divergence(item)]


def register_divergence(
    item: Divergence | DivergenceFamily, *, replace: bool = False, validate_math: bool = True
) -> Divergence | DivergenceFamily:
    """Adds a divergence (or a parameterised family) to the registry.

    Args:
        item: a :class:`Divergence`, or a :class:`DivergenceFamily` (validated at each of
            its ``examples``).
        replace: allow replacing a registered divergence of the same name.
        validate_math: run the math validator first (on by default; turn off only for
            divergences validated elsewhere).

    Returns:
        ``item``, so that a plugin can write ``KL2 = register_divergence(Divergence(...))``.

    Raises:
        InvalidDivergenceError: a validator check failed; the message names each failed
            check and its measured error.
        RegistrationError: the name or an alias is taken and ``replace`` is false.
    """
    if not isinstance(item, Divergence | DivergenceFamily):
        raise TypeError(f"register_divergence expects a Divergence or DivergenceFamily, got {type(item).__name__}")
    if not replace:
        _REGISTRY.refuse_taken(item.name, tuple(item.aliases))  # here or by a baseline: before the validator
    if validate_math:
        for report in validate(item):
            if not report.ok:
                raise InvalidDivergenceError(
                    f"divergence {report.spec!r} refused by the math validator: {report.summary()}", report
                )
    _REGISTRY.add(item.name, item, aliases=item.aliases, replace=replace)
    return item


def unregister_divergence(name: str) -> None:
    """Removes a registered divergence (by name or alias)."""
    _REGISTRY.remove(name)


def get_divergence(spec: str | Divergence, *, validated: bool = True) -> Divergence:
    """The divergence for a spec string such as ``"reverse_kl"``, ``"alpha:0.5"`` or ``"js_weighted:0.3"``.

    A :class:`Divergence` is returned as it is. A family member (``alpha:1e308``) must pass
    the math validator like any registered divergence: it is validated once per process
    and spec (:func:`checked_member`), unless ``validated=False`` (for ``check-divergence``,
    which prints the full report instead).

    Raises:
        UnknownNameError: unknown name; the message suggests the closest known names.
        SpecError: missing, extra or invalid parameters.
        InvalidDivergenceError: a family member that fails a validator check (named).
    """
    if isinstance(spec, Divergence):
        return spec
    parsed = parse_spec(spec)
    item = _REGISTRY.lookup(parsed.name).item
    if isinstance(item, DivergenceFamily):
        member = item(*parsed.args, **dict(parsed.kwargs))
        return checked_member(item, member) if validated else member
    if parsed.has_parameters:
        raise SpecError(f"divergence {item.name!r} takes no parameters; write {item.name!r}")
    return item


_MEMBER_REPORTS: dict[tuple[int, str], ValidationReport | None] = {}


def checked_member(family: DivergenceFamily, member: Divergence) -> Divergence:
    """``member`` of ``family`` after the math validator passed it.

    Members at the family's ``examples`` were validated with the family (at a plugin's
    registration; in the test suite for built-ins) and are not run again; any other member
    is validated on first use in a process (about 0.5 s) and its report cached by spec.

    Raises:
        InvalidDivergenceError: naming each failed check and its measured error.
    """
    key = (id(family), member.spec)
    if key not in _MEMBER_REPORTS:
        is_example = any(family(**example).spec == member.spec for example in family.examples)
        if is_example:
            _MEMBER_REPORTS[key] = None
        else:
            with warnings.catch_warnings():  # the report says what overflowed; no numpy noise around it
                warnings.simplefilter("ignore", RuntimeWarning)
                _MEMBER_REPORTS[key] = validate_divergence(member)
    report = _MEMBER_REPORTS[key]
    if report is not None and not report.ok:
        raise InvalidDivergenceError(
            f"divergence {report.spec!r} refused by the math validator: {report.summary()}; "
            f"choose parameters like the family's examples ({family.usage}, e.g. "
            f"{', '.join(family(**e).spec for e in family.examples)})",
            report,
        )
    return member


def list_divergences() -> list[str]:
    """Registered divergence names; families appear as their usage, e.g. ``"alpha:<alpha>"``."""
    return [e.item.usage if isinstance(e.item, DivergenceFamily) else e.name for e in _REGISTRY.entries()]


def example_divergences() -> list[Divergence]:
    """Every registered divergence, families at each of their example parameters (``alpha:0.5``, ...)."""
    members: list[Divergence] = []
    for entry in _REGISTRY.entries():
        if isinstance(entry.item, DivergenceFamily):
            members.extend(entry.item(**example) for example in entry.item.examples)
        else:
            members.append(entry.item)
    return members


def density_ratio_status(item: Divergence | DivergenceFamily) -> str:
    """For listings: ``"checked"`` where the density-ratio map r = (f')⁻¹ is declared (the
    validator's ``density_ratio`` check inverts it both ways, at registration of every plugin
    and in the test suite), ``"—"`` where it is not (f' not invertible: total variation)."""
    members = [item(**example) for example in item.examples] if isinstance(item, DivergenceFamily) else [item]
    return "checked" if all(member.density_ratio is not None for member in members) else "—"


def divergence_entries() -> list[Entry[Divergence | DivergenceFamily]]:
    """Registry entries (object, aliases and where each came from), for listings."""
    return _REGISTRY.entries()


__all__ = [
    "ENTRY_POINT_GROUP",
    "Divergence",
    "DivergenceFamily",
    "Interval",
    "ValidationReport",
    "checked_member",
    "density_ratio_status",
    "divergence_entries",
    "example_divergences",
    "get_divergence",
    "list_divergences",
    "register_divergence",
    "unregister_divergence",
    "validate",
    "validate_divergence",
]
