"""Named registries with aliases, provenance and helpful errors.

Divergences, datasets and metrics are all looked up by a *spec* string such as
``"reverse_kl"`` or ``"alpha:0.5"``: a registered name (or alias), optionally followed by
``:`` and comma-separated parameters, positional (``alpha:0.5``) or by keyword
(``js_weighted:weight=0.3``). :class:`Registry` keeps the name → object map and where each
object came from (``builtin``, a plugin file, an entry point, code); unknown names get a
one-line error that suggests the closest known names.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import difflib
import re
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from fgan_bench.errors import RegistrationError, SpecError, UnknownNameError

T = TypeVar("T")

_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_source: contextvars.ContextVar[str] = contextvars.ContextVar("registration_source", default="code")


@contextlib.contextmanager
def registration_source(source: str) -> Iterator[None]:
    """Within this block, registrations are recorded as coming from ``source``."""
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)


def current_source() -> str:
    """Where a registration made now comes from (``"code"`` outside any plugin load)."""
    return _source.get()


@dataclasses.dataclass(frozen=True)
class Spec:
    """A parsed spec string: ``name[:arg,arg,key=value,...]``."""

    name: str
    args: tuple[float | str, ...] = ()
    kwargs: tuple[tuple[str, float | str], ...] = ()

    @property
    def has_parameters(self) -> bool:
        return bool(self.args or self.kwargs)


def _parse_value(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


_QUOTES = "\"'"


def _split_parameters(spec: str, rest: str) -> list[str]:
    """``rest`` split at commas outside quotes: ``'path="a,b.npy",x=1'`` → two parts."""
    parts, current, quote = [], [], None
    for char in rest:
        if quote:
            quote = None if char == quote else quote
        elif char in _QUOTES:
            quote = char
        elif char == ",":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quote:
        raise SpecError(f"{spec!r} has an unclosed {quote} quote")
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _parse_quoted(text: str) -> float | str:
    """A quoted value (``"a,b.npy"`` or ``'a,b.npy'``) is text, its quotes removed."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in _QUOTES:
        return text[1:-1]
    return _parse_value(text)


def quote_value(value) -> str:
    """A parameter value as a spec writes it: quoted where it holds a comma, a quote or
    surrounding spaces, so that :func:`parse_spec` reads it back unchanged."""
    text = str(value)
    if isinstance(value, str) and (any(c in text for c in ",\"'") or text != text.strip()):
        quote = "'" if '"' in text else '"'
        return f"{quote}{text}{quote}"
    return text


def parse_spec(spec: str) -> Spec:
    """Parses ``"alpha:0.5"`` into ``Spec("alpha", (0.5,))``.

    Parameters are separated by commas; a value holding a comma is quoted:
    ``file:path="runs,2024/data.npy"`` (or with single quotes).

    >>> parse_spec("js_weighted:weight=0.3")
    Spec(name='js_weighted', args=(), kwargs=(('weight', 0.3),))
    >>> parse_spec('file:path="a,b.npy"').kwargs
    (('path', 'a,b.npy'),)
    """
    if not isinstance(spec, str) or not spec.strip():
        raise SpecError(f"expected a name such as 'kl' or 'alpha:0.5', got {spec!r}")
    name, sep, rest = spec.strip().partition(":")
    name = name.strip()
    if not _NAME_PATTERN.match(name):
        raise SpecError(f"{spec!r} is not a valid spec: expected NAME or NAME:PARAM[,PARAM...]")
    if sep and not rest.strip():
        raise SpecError(f"{spec!r} has ':' but no parameters; write e.g. '{name}:0.5'")
    args: list[float | str] = []
    kwargs: list[tuple[str, float | str]] = []
    for part in _split_parameters(spec, rest) if rest else ():
        key, eq, value = part.partition("=")
        if eq and key.strip()[:1] not in _QUOTES:
            if kwargs and key.strip() in dict(kwargs):
                raise SpecError(f"{spec!r} gives parameter {key.strip()!r} twice")
            kwargs.append((key.strip(), _parse_quoted(value.strip())))
        elif kwargs:
            raise SpecError(f"{spec!r}: positional parameters must come before key=value ones")
        else:
            args.append(_parse_quoted(part))
    return Spec(name, tuple(args), tuple(kwargs))


@dataclasses.dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered object, with its aliases and where it came from."""

    name: str
    item: T
    aliases: tuple[str, ...]
    source: str


#: Namespace → the registries that share its names (:class:`Registry`'s ``namespace``).
_NAMESPACES: dict[str, list[Registry]] = {}


class Registry(Generic[T]):
    """A name → object map with aliases, provenance and close-match suggestions.

    Args:
        kind: what is registered, for messages (``"divergence"``).
        loaders: callables run once, on first use, that fill the registry (built-ins,
            installed entry points).
        namespace: registries of one namespace share their names: a name one of them holds
            is refused by the others (divergences and baselines both answer ``--divergence``).
    """

    def __init__(self, kind: str, loaders: tuple[Callable[[], None], ...] = (), *, namespace: str | None = None):
        self.kind = kind
        self._loaders = loaders
        self._loaded = False
        self._entries: dict[str, Entry[T]] = {}
        self._aliases: dict[str, str] = {}
        self._neighbours = _NAMESPACES.setdefault(namespace, []) if namespace else []
        self._neighbours.append(self)

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self._loaded = True
            for loader in self._loaders:
                loader()

    def add(
        self,
        name: str,
        item: T,
        *,
        aliases: tuple[str, ...] = (),
        source: str | None = None,
        replace: bool = False,
    ) -> Entry[T]:
        """Registers ``item`` under ``name`` and ``aliases``.

        A registration from the same source as the existing one (a plugin file loaded
        twice) replaces it.

        Raises:
            RegistrationError: a name or alias is taken and ``replace`` is false.
        """
        self._ensure_loaded()
        for key in (name, *aliases):
            if not _NAME_PATTERN.match(key):
                raise RegistrationError(f"{key!r} is not a valid {self.kind} name (letters, digits, '_', '-')")
        source = source or current_source()
        existing = self._entries.get(name)
        if replace or (existing is not None and existing.source == source and existing.source != "code"):
            self.remove(name, missing_ok=True)
        self.refuse_taken(name, aliases)
        entry = Entry(name, item, tuple(aliases), source)
        self._entries[name] = entry
        for key in (name, *aliases):
            self._aliases[key] = name
        return entry

    def refuse_taken(self, name: str, aliases: tuple[str, ...] = ()) -> None:
        """Raises :class:`RegistrationError` if ``name`` or an alias is taken here or in a registry
        of the same namespace (so a caller can refuse before costly checks)."""
        self._ensure_loaded()
        for key in (name, *aliases):
            owner = self._aliases.get(key)
            if owner is not None:
                raise RegistrationError(
                    f"cannot register {self.kind} {name!r}: {key!r} is already taken by "
                    f"{owner!r} ({self._entries[owner].source}); pass replace=True to replace it"
                )
            neighbour = next((r for r in self._neighbours if r is not self and key in r), None)
            if neighbour is not None:
                raise RegistrationError(f"cannot register {self.kind} {name!r}: {key!r} names a {neighbour.kind}")

    def remove(self, name: str, *, missing_ok: bool = False) -> None:
        """Unregisters ``name`` (and its aliases)."""
        self._ensure_loaded()
        canonical = self._aliases.get(name)
        if canonical is None:
            if missing_ok:
                return
            raise self._unknown(name)
        entry = self._entries.pop(canonical)
        for key in (entry.name, *entry.aliases):
            self._aliases.pop(key, None)

    def lookup(self, name: str) -> Entry[T]:
        """Returns the entry for a name or alias.

        Raises:
            UnknownNameError: naming the closest known names and listing all of them.
        """
        self._ensure_loaded()
        canonical = self._aliases.get(name)
        if canonical is None:
            raise self._unknown(name)
        return self._entries[canonical]

    def entries(self) -> list[Entry[T]]:
        """All entries, in registration order."""
        self._ensure_loaded()
        return list(self._entries.values())

    def names(self) -> list[str]:
        return [entry.name for entry in self.entries()]

    def __contains__(self, name: object) -> bool:
        self._ensure_loaded()
        return name in self._aliases

    def _unknown(self, name: str) -> UnknownNameError:
        close = difflib.get_close_matches(name, list(self._aliases), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else "."
        known = ", ".join(sorted(self._entries))
        return UnknownNameError(f"unknown {self.kind} {name!r}{hint} Known {self.kind}s: {known}")
