"""``python -m fgan_bench`` imports nothing from the working directory.

Python puts the working directory first on ``sys.path`` for ``python -m``, so a stray
``numpy.py``, ``h5py.py`` or ``sklearn.py`` there would be executed in place of the real
library. This module runs first when the package is imported and, only when Python is
locating ``fgan_bench`` (or one of its modules) as the ``-m`` target, removes that one
entry. ``$PYTHONPATH`` entries (even the working directory named there explicitly) stay,
and so does everything when Python already runs with ``-P``/``-I``/``PYTHONSAFEPATH``.
The ``fgan-bench`` console script needs nothing: its ``sys.path[0]`` is the script's
own folder. Importing ``fgan_bench`` as a library never touches ``sys.path``.
"""

from __future__ import annotations

import os
import sys

PACKAGE = "fgan_bench"


def dash_m_target(orig_argv: list[str]) -> str | None:
    """The module named by ``-m`` in the interpreter's own arguments (``sys.orig_argv``), if any.

    >>> dash_m_target(["python", "-X", "dev", "-m", "fgan_bench", "list", "metrics"])
    'fgan_bench'
    >>> dash_m_target(["python", "-Om", "fgan_bench.cli"]), dash_m_target(["python", "script.py", "-m", "x"])
    ('fgan_bench.cli', None)
    """
    args = orig_argv[1:]
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--" or not arg.startswith("-") or arg == "-":
            return None  # a script, or stdin: not -m
        if arg.startswith("--"):
            index += 1
            continue
        flags = arg[1:]
        for position, flag in enumerate(flags):
            rest = flags[position + 1:]
            if flag == "m":
                target = rest or (args[index + 1] if index + 1 < len(args) else "")
                return target or None
            if flag == "c":
                return None
            if flag in "WX":  # these take a value: the rest of this argument, or the next one
                index += 0 if rest else 1
                break
        index += 1
    return None


def isolate_from_working_directory() -> bool:
    """Removes the working directory that ``python -m fgan_bench`` put first on ``sys.path``.

    Acts only while Python locates an ``fgan_bench`` module as the ``-m`` target (then
    ``sys.argv[0]`` is still ``"-m"``), so it runs at most once per process.

    Returns:
        True when the entry was removed.
    """
    if sys.flags.safe_path or sys.argv[:1] != ["-m"]:
        return False
    target = dash_m_target(list(getattr(sys, "orig_argv", [])))
    if target is None or target.split(".")[0] != PACKAGE:
        return False
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
        return True
    return False


isolate_from_working_directory()
