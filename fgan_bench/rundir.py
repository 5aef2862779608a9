"""The run directory: its file names, atomic writes, and reading a run back.

A run directory ``<out>/runs/<run-id>/`` holds

* ``config.json`` — the complete, resolved :class:`~fgan_bench.config.RunConfig`;
* ``metrics.csv`` — the training history (one row per ``log_every`` steps);
* ``checkpoint.weights.h5`` — generator, critic and optimizers, replaced atomically;
* ``samples.npy`` and ``samples.png`` — the final generator's samples and their figure;
* ``tensorboard/`` — event files (``run --tensorboard``);
* ``evaluation.json`` — the last ``evaluate`` of the run;
* ``failure.json`` — why the run failed (sweeps);
* ``result.json`` — written last, atomically: a run is done exactly when this file exists.

Every file is written by :func:`write_atomically` (or its JSON/CSV front ends): the bytes go
to a temporary file in the same folder, are flushed to disk, then ``os.replace`` puts them
in place, so a kill at any moment leaves the old file or the new one, never half of one.
This module is the one place that knows the names and the writing protocol; locks,
corrupt-file and disk-full handling belong here too.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from fgan_bench.errors import FganBenchError

CONFIG = "config.json"
METRICS = "metrics.csv"
CHECKPOINT = "checkpoint.weights.h5"
SAMPLES = "samples.npy"
SAMPLES_FIGURE = "samples.png"
TENSORBOARD = "tensorboard"
EVALUATION = "evaluation.json"
FAILURE = "failure.json"
RESULT = "result.json"
LOCK = ".lock"
#: What a fresh start (``--overwrite``) removes; config.json is rewritten.
PRODUCTS = (CHECKPOINT, RESULT, METRICS, SAMPLES, SAMPLES_FIGURE, EVALUATION, FAILURE)


def temporary_path(path: Path) -> Path:
    """The temporary sibling ``path`` is written to before the rename (same folder, same suffixes)."""
    path = Path(path)
    keras_suffix = ".weights.h5" if path.name.endswith(".weights.h5") else ""  # Keras checks the suffix
    return path.with_name(f".{path.name}.tmp{keras_suffix}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary path to write ``path``'s new content to; renames it over ``path`` on success.

    The temporary file is fsynced before the rename and removed if the writer raises.
    """
    path = Path(path)
    temporary = temporary_path(path)
    try:
        yield temporary
        with open(temporary, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_atomically(path: str | os.PathLike, write: Callable[[Path], None]) -> None:
    """Calls ``write(temporary_path)``, then puts the file in place atomically."""
    with atomic_path(path) as temporary:
        write(temporary)


def write_bytes_atomically(path: str | os.PathLike, data: bytes) -> None:
    write_atomically(path, lambda temporary: temporary.write_bytes(data))


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {value!r}")


def write_json_atomically(path: str | os.PathLike, payload: Any) -> None:
    write_bytes_atomically(path, json.dumps(payload, indent=2, default=_json_default).encode())


def write_array_atomically(path: str | os.PathLike, array) -> None:
    """Writes a NumPy array as ``.npy``, atomically."""

    def write(temporary: Path) -> None:
        with open(temporary, "wb") as file:
            np.save(file, array)

    write_atomically(path, write)


def write_csv_atomically(frame, path: str | os.PathLike) -> None:
    """Writes a pandas DataFrame as CSV (no index), atomically."""
    write_atomically(path, lambda temporary: frame.to_csv(temporary, index=False))


def read_json(path: str | os.PathLike) -> Any:
    """A JSON file's content; a missing or unreadable file is a one-line error naming it."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise FganBenchError(f"{path} does not exist") from None
    except (OSError, ValueError) as error:
        raise FganBenchError(f"{path} cannot be read: {error}") from None


def is_done(directory: str | os.PathLike) -> bool:
    """A run is done exactly when its ``result.json`` exists."""
    return (Path(directory) / RESULT).is_file()


def run_path(out: str | os.PathLike, run_id: str) -> Path:
    """``<out>/runs/<run-id>``."""
    return Path(out) / "runs" / run_id


def read_config(directory: str | os.PathLike):
    """The :class:`~fgan_bench.config.RunConfig` stored in a run directory."""
    from fgan_bench.config import RunConfig

    directory = Path(directory)
    if not (directory / CONFIG).is_file():
        raise FganBenchError(f"{directory} is not a run directory (no {CONFIG})")
    return RunConfig.from_dict(read_json(directory / CONFIG))


def read_result(directory: str | os.PathLike) -> dict[str, Any] | None:
    """The run's ``result.json``, or ``None`` while it is not done."""
    directory = Path(directory)
    return read_json(directory / RESULT) if is_done(directory) else None


def read_history(directory: str | os.PathLike):
    """``metrics.csv`` as a DataFrame, or ``None`` when there is none yet."""
    import pandas as pd

    path = Path(directory) / METRICS
    if not path.exists() or path.stat().st_size == 0:
        return None
    return pd.read_csv(path)


def clear_products(directory: str | os.PathLike) -> None:
    """Removes what a run wrote (for ``--overwrite``)."""
    for name in PRODUCTS:
        (Path(directory) / name).unlink(missing_ok=True)
