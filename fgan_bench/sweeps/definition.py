"""Sweep definitions: TOML files naming datasets × divergences × seeds × a grid of run options.

::

    [sweep]
    name = "synthetic"                     # the output folder: <out>/<name>/
    datasets = ["ring8", "grid25"]
    divergences = ["kl", "gan", "alpha:0.5"]
    seeds = [0, 1, 2]
    plugins = ["../divergences"]           # optional, relative to this file

    [defaults]                             # any `run` option, for every run
    steps = 5000

    [grid]                                 # every combination of these values
    generator_lr = [1e-4, 2e-4]

    [overrides.mixture1d]                  # options for one dataset only
    model = "linear"

Every run is a :class:`~fgan_bench.config.RunConfig`; its id is derived from its whole
config, so a sweep run again finds the runs it already did. Errors name the file, the line
and the key.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from fgan_bench.config import RunConfig
from fgan_bench.errors import ConfigError, FganBenchError

#: Run options a sweep may set in [defaults], [grid] and [overrides.*].
RUN_OPTIONS = tuple(f.name for f in dataclasses.fields(RunConfig) if f.name not in ("divergence", "dataset", "plugins"))
TABLES = ("sweep", "defaults", "grid", "overrides", "search", "confirm")  # the last two: sweeps/protocol_spec.py
SWEEP_KEYS = ("name", "datasets", "divergences", "seeds", "plugins", "description")
#: A sweep name is one folder under --out: these characters, and not only dots (".", "..").
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.\-]+")
#: Seeds are unsigned 32-bit integers (TensorFlow's and NumPy's seed range).
MAX_SEED = 2**32 - 1
_WARNED: set[str] = set()


def _line_of(text: str, table: str, key: str | None = None) -> int | None:
    """The 1-based line of ``key`` inside ``[table]`` (or of the table header), if found."""
    lines = text.splitlines()
    header = re.compile(r"^\s*\[\s*" + re.escape(table) + r"\s*\]\s*(#.*)?$")
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        return None
    if key is None:
        return start + 1
    pattern = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
    for i in range(start + 1, len(lines)):
        if lines[i].lstrip().startswith("["):
            break
        if pattern.match(lines[i]):
            return i + 1
    return start + 1


@dataclasses.dataclass(frozen=True)
class Sweep:
    """A parsed sweep file."""

    name: str
    path: Path
    text: str
    datasets: tuple[str, ...]
    divergences: tuple[str, ...]
    seeds: tuple[int, ...]
    defaults: dict[str, Any]
    grid: dict[str, list[Any]]
    overrides: dict[str, dict[str, Any]]
    plugins: tuple[str, ...]
    description: str = ""

    def error(self, message: str, table: str, key: str | None = None) -> FganBenchError:
        line = _line_of(self.text, table, key)
        return FganBenchError(f"{self.path}:{line or '?'}: {message}")

    def configs(self) -> list[RunConfig]:
        """Every run of the sweep (not yet resolved), in file order: dataset, divergence, grid, seed."""
        names = list(self.grid)
        runs = []
        for dataset in self.datasets:
            for divergence in self.divergences:
                for values in itertools.product(*(self.grid[n] for n in names)):
                    for seed in self.seeds:
                        options = {
                            **self.defaults,
                            **dict(zip(names, values, strict=True)),
                            **self.overrides.get(dataset, {}),
                            "seed": seed,
                        }
                        runs.append(RunConfig(divergence=divergence, dataset=dataset, plugins=self.plugins, **options))
        return runs

    def resolved_configs(self) -> list[RunConfig]:
        """:meth:`configs`, validated and with every default filled (errors name file, line and key)."""
        resolved = []
        for config in self.configs():
            try:
                resolved.append(config.resolved())
            except ConfigError as error:
                table, key = self._origin_of(error.option, config)
                line = _line_of(self.text, table, key)
                raise FganBenchError(f"{self.path}:{line or '?'}: {error.worded(key or error.option)}") from None
        unique, repeated = deduplicate(resolved)
        if repeated:
            _warn_once(
                f"{self.path}: warning: duplicate entries give the same run; each is trained and counted once: "
                + ", ".join(f"{label} ×{count}" for label, count in repeated.items())
            )
        return unique

    def _origin_of(self, option: str, config: RunConfig) -> tuple[str, str | None]:
        """The table and key a run option of ``config`` was set by (for its line number)."""
        if option in ("divergence", "dataset"):
            return "sweep", f"{option}s"
        if option in self.overrides.get(config.dataset, {}):
            return f"overrides.{config.dataset}", option
        if option in self.grid:
            return "grid", option
        if option in self.defaults:
            return "defaults", option
        return "sweep", "datasets"  # a default that does not fit this dataset


def deduplicate(configs: list[RunConfig]) -> tuple[list[RunConfig], dict[str, int]]:
    """``configs`` with each run id once (first occurrence kept, order kept), and
    ``{"<dataset> × <divergence>, seed <s>": times listed}`` for the repeated ones: a divergence
    listed twice, an alias beside its canonical name (both resolve to one spec),
    ``seeds = [0, 0]``, a dataset listed twice."""
    seen: dict[str, RunConfig] = {}
    counts: dict[str, int] = {}
    for config in configs:
        counts[config.run_id] = counts.get(config.run_id, 0) + 1
        seen.setdefault(config.run_id, config)
    repeated = {
        f"{seen[run_id].dataset} × {seen[run_id].divergence}, seed {seen[run_id].seed}": count
        for run_id, count in counts.items()
        if count > 1
    }
    return list(seen.values()), repeated


def _warn_once(message: str) -> None:
    """One line on stderr, once per process (a sweep resolves its runs more than once)."""
    if message not in _WARNED:
        _WARNED.add(message)
        print(message, file=sys.stderr)


def check_sweep_name(name: object) -> str | None:
    """Why ``name`` cannot be a sweep's folder under ``--out``, or ``None`` when it can.

    >>> check_sweep_name(".."), check_sweep_name("smoke-2")
    ("expected a folder name (letters, digits, _ . -, not only dots), got '..'", None)
    """
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or not name.strip("."):
        return f"expected a folder name (letters, digits, _ . -, not only dots), got {name!r}"
    return None


def load_sweep(path: str | Path) -> Sweep:
    """Parses and checks a sweep file; raises a one-line FganBenchError naming file, line and key."""
    path = Path(path)
    text, data = _read(path)

    def fail(message: str, table: str, key: str | None = None) -> FganBenchError:
        return FganBenchError(f"{path}:{_line_of(text, table, key) or '?'}: {message}")

    sweep = _sweep_table(path, data, fail)
    name = _name(sweep, path, fail)
    seeds = _seeds(sweep, fail)
    defaults = _options("defaults", data.get("defaults", {}), fail)
    grid = _grid(data.get("grid", {}), fail)
    datasets = _string_list(sweep, "datasets", fail)
    overrides = _overrides(data.get("overrides", {}), datasets, fail)
    plugins = _plugins(sweep, path, fail)
    return Sweep(
        name=name,
        path=path.resolve(),
        text=text,
        datasets=datasets,
        divergences=_string_list(sweep, "divergences", fail),
        seeds=seeds,
        defaults=defaults,
        grid=grid,
        overrides=overrides,
        plugins=plugins,
        description=str(sweep.get("description", "")),
    )


def _read(path: Path) -> tuple[str, dict[str, Any]]:
    """The file's text and its TOML tables (a missing, non-UTF-8 or invalid file is one line)."""
    if not path.is_file():
        raise FganBenchError(f"sweep file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise FganBenchError(
            f"{path}: not UTF-8 text ({error.reason} at byte {error.start}); save the sweep file as UTF-8"
        ) from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise FganBenchError(f"{path}: invalid TOML: {error}") from None


def _sweep_table(path: Path, data: dict[str, Any], fail) -> dict[str, Any]:
    """The ``[sweep]`` table, with only known tables beside it and only known keys in it."""
    for table in data:
        if table not in TABLES:
            raise fail(f"unknown table [{table}]; a sweep has {', '.join(f'[{t}]' for t in TABLES)}", table)
    sweep = data.get("sweep")
    if not isinstance(sweep, dict):
        raise FganBenchError(f"{path}: missing the [sweep] table (name, datasets, divergences, seeds)")
    for key in sweep:
        if key not in SWEEP_KEYS:
            raise fail(f"unknown key '{key}' in [sweep]; known: {', '.join(SWEEP_KEYS)}", "sweep", key)
    return sweep


def _string_list(sweep: dict[str, Any], key: str, fail, required: bool = True) -> tuple[str, ...]:
    """``[sweep] key`` as a tuple of strings (non-empty when ``required``)."""
    value = sweep.get(key, [] if not required else None)
    if value is None or not isinstance(value, list) or (required and not value):
        example = {"datasets": '["ring8"]', "plugins": '["../divergences"]'}.get(key, '["kl", "alpha:0.5"]')
        got = "nothing" if value is None else _toml(value)
        raise fail(f"{key}: expected a non-empty list of strings, e.g. {example}, got {got}", "sweep",
                   key if key in sweep else None)
    if not all(isinstance(v, str) for v in value):
        raise fail(f'{key}: expected a list of strings, e.g. ["ring8"], got {_toml(value)}', "sweep", key)
    return tuple(value)


def _name(sweep: dict[str, Any], path: Path, fail) -> str:
    """``[sweep] name``, else the file's stem: one folder name under ``--out``."""
    name = sweep.get("name", path.stem)
    problem = check_sweep_name(name)
    if problem:
        raise fail(f"name: {problem}" + ("" if "name" in sweep else " (from the file name)"), "sweep", "name")
    return name


def _seeds(sweep: dict[str, Any], fail) -> tuple[int, ...]:
    """``[sweep] seeds``: a non-empty list of integers in [0, 2³² − 1] (default ``[0]``)."""
    seeds = sweep.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or not all(
        isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= MAX_SEED for s in seeds
    ):
        raise fail(f"seeds: expected a non-empty list of integers in [0, 2³² − 1], e.g. [0, 1, 2], got {_toml(seeds)}",
                   "sweep", "seeds")
    return tuple(seeds)


def _options(table: str, values: Any, fail) -> dict[str, Any]:
    """A table of run options (``[defaults]``, ``[grid]``, ``[overrides.<dataset>]``)."""
    if not isinstance(values, dict):
        raise fail(f"[{table}] must be a table of run options", table)
    for key in values:
        if key not in RUN_OPTIONS:
            raise fail(f"unknown run option '{key}' in [{table}]; known: {', '.join(RUN_OPTIONS)}", table, key)
    return dict(values)


def _grid(table: Any, fail) -> dict[str, list[Any]]:
    """``[grid]``: run options, each with a non-empty list of values."""
    grid = _options("grid", table, fail)
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise fail(f"[grid] {key} must be a non-empty list of values", "grid", key)
    return grid


def _overrides(table: Any, datasets: tuple[str, ...], fail) -> dict[str, dict[str, Any]]:
    """``[overrides.<dataset>]``: run options for one of the sweep's datasets."""
    if not isinstance(table, dict):
        raise fail("[overrides] must hold one table per dataset, e.g. [overrides.mixture1d]", "overrides")
    overrides = {}
    for dataset, values in table.items():
        if dataset not in datasets:
            raise fail(
                f"[overrides.{dataset}] names a dataset the sweep does not run ({', '.join(datasets)})",
                f"overrides.{dataset}",
            )
        overrides[dataset] = _options(f"overrides.{dataset}", values, fail)
    return overrides


def _plugins(sweep: dict[str, Any], path: Path, fail) -> tuple[str, ...]:
    """``[sweep] plugins``: paths relative to the sweep file, resolved; each must exist."""
    plugins = tuple(str((path.parent / p).resolve()) for p in _string_list(sweep, "plugins", fail, required=False))
    for plugin in plugins:
        if not Path(plugin).exists():
            raise fail(f"plugin path {plugin} does not exist", "sweep", "plugins")
    return plugins


def _toml(value: Any) -> str:
    """A value as TOML writes it (``true``, ``"a"``), for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)
