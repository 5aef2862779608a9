"""Loading plugins: Python files and folders the user names, and installed entry points.

A plugin is ordinary Python that calls the registration functions, e.g.
:func:`fgan_bench.register_divergence`. Plugin code is only ever loaded from

* paths the user names: ``--plugins PATH`` on the command line, the ``FGAN_BENCH_PLUGINS``
  environment variable (paths separated by ``os.pathsep``), or :func:`load_plugins`;
* installed packages' entry points (group ``fgan_bench.divergences``), whose object is a
  module (imported, its registrations run), a registrable object, or a list of them.

Nothing is ever imported implicitly from the working directory.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import sys
import traceback
import types
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

from fgan_bench.errors import FganBenchError, PluginError
from fgan_bench.registry import registration_source

ENVIRONMENT_VARIABLE = "FGAN_BENCH_PLUGINS"


def plugin_paths_from_environment() -> list[str]:
    """The paths listed in ``$FGAN_BENCH_PLUGINS``."""
    return [p for p in os.environ.get(ENVIRONMENT_VARIABLE, "").split(os.pathsep) if p.strip()]


def _plugin_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
    if path.is_file() and path.suffix == ".py":
        return [path]
    if not path.exists():
        raise PluginError(f"plugin path {str(path)!r} does not exist; pass a .py file or a folder of them")
    raise PluginError(f"plugin path {str(path)!r} is not a .py file or a folder")


def _where(error: BaseException, file: Path) -> str:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename).resolve() == file]
    return f" (line {frames[-1].lineno})" if frames else ""


def content_fingerprint(paths: Iterable[str | os.PathLike]) -> list[str]:
    """One short content hash per plugin file named by ``paths`` (folders give their ``*.py``):
    what a run's identity holds of its plugins, so the same plugins in two checkouts give the same
    run id and an edited plugin a new one. A path that does not exist counts by its name."""
    prints = []
    for path in paths:
        try:
            files = _plugin_files(Path(path))
        except PluginError:
            prints.append(f"missing:{Path(path).name}")
            continue
        prints += [hashlib.sha1(file.read_bytes()).hexdigest()[:12] for file in files]
    return sorted(prints)


def load_plugin_file(path: str | os.PathLike) -> types.ModuleType:
    """Executes one plugin file, recording its registrations' source.

    Loading a file again re-registers its objects (a registration from the same source
    replaces the earlier one), so naming a plugin twice is harmless.

    Raises:
        PluginError: the file failed to import — any exception, ``sys.exit()`` included (a
            plugin that exits would end the command silently) — or a registration it made
            was refused (the message keeps the validator's one-line verdict). A
            ``KeyboardInterrupt`` (Ctrl-C) propagates unchanged.
    """
    file = Path(path).resolve()
    digest = hashlib.sha1(str(file).encode()).hexdigest()[:8]
    module_name = f"fgan_bench_plugins.{file.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise PluginError(f"plugin {str(path)!r} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        with registration_source(f"plugin {path}"):
            spec.loader.exec_module(module)
    except FganBenchError as error:
        sys.modules.pop(module_name, None)
        raise PluginError(f"plugin {str(path)!r}: {error}") from error
    except KeyboardInterrupt:
        sys.modules.pop(module_name, None)
        raise
    except BaseException as error:  # noqa: BLE001 - report any failure of user code in one line
        sys.modules.pop(module_name, None)
        raise PluginError(f"plugin {str(path)!r} failed to load{_where(error, file)}: {_describe(error)}") from error
    return module


def _describe(error: BaseException) -> str:
    """One line for what user code raised; ``sys.exit`` is named as such (it is not a success)."""
    if isinstance(error, SystemExit):
        return f"it called sys.exit({error.code!r}); a plugin must only define and register objects"
    return f"{type(error).__name__}: {error}"


def load_plugins(paths: Iterable[str | os.PathLike]) -> list[types.ModuleType]:
    """Loads every plugin file named by ``paths`` (files, or folders of ``*.py`` files)."""
    modules = []
    for path in paths:
        for file in _plugin_files(Path(path)):
            modules.append(load_plugin_file(file))
    return modules


def load_entry_points(group: str, register: Callable[[object], object]) -> None:
    """Registers what installed packages declare under entry-point ``group``.

    A broken entry point must not make the whole tool unusable: it is skipped with a
    warning that names it and the reason.
    """
    for entry_point in importlib.metadata.entry_points(group=group):
        source = f"entry point {entry_point.name} ({entry_point.value})"
        try:
            with registration_source(source):
                target = entry_point.load()
                if isinstance(target, types.ModuleType):
                    continue
                for item in target if isinstance(target, list | tuple) else (target,):
                    register(item)
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # noqa: BLE001 - skip, do not crash (or exit), on a bad installed plugin
            warnings.warn(f"fgan-bench: skipped {source}: {_describe(error)}", stacklevel=2)
