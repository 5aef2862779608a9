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

Every file is written by :mod:`fgan_bench.atomic_io` (a temporary file in the same folder,
flushed, then ``os.replace``: a kill at any moment leaves the old file or the new one, never
half of one; a full disk is one line). This module is the one place that knows the names,
and so the one place that handles what goes wrong with them:

* **Stale temporary files.** A process killed mid-write leaves its temporary file; taking
  the run lock removes those of processes that are gone (:func:`run_lock`).
* **Corrupt files.** A ``result.json`` that does not parse is not a result: the run is not
  done (:func:`read_result` returns ``None``; :func:`result_problem` says why). Other damaged
  files (``config.json``, ``metrics.csv``, a checkpoint) are one line naming the file.
* **One process per run directory.** :func:`run_lock` takes an exclusive ``flock`` on
  ``<run>/.lock`` and writes the holder (pid, host, command) into it; it dies with its
  process, so SIGKILL never leaves it held. ``run`` refuses a held lock naming the holder;
  sweep workers wait for it.
* **One queue per run.** A protocol driver that has queued a run but not started it holds
  a claim on it (:func:`try_claim`, a non-blocking ``flock`` on ``<run>/.claim``), so a
  second driver sharing the study does not take the queued run over; the claim too dies
  with its process.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import socket
import sys
import tarfile
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fgan_bench.atomic_io import (  # noqa: F401 - the run directory's writers are these
    atomic_path,
    make_directory,
    remove_stale_temporaries,
    write_array_atomically,
    write_atomically,
    write_bytes_atomically,
    write_csv_atomically,
    write_error,
    write_json_atomically,
)
from fgan_bench.errors import FganBenchError
from fgan_bench.run_records import RunResult

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
CLAIM = ".claim"
#: What a fresh start (``--overwrite``) removes; config.json is rewritten.
PRODUCTS = (CHECKPOINT, RESULT, METRICS, SAMPLES, SAMPLES_FIGURE, EVALUATION, FAILURE)


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
    """A run is done exactly when its ``result.json`` exists and reads as a result."""
    return read_result(directory) is not None


def run_path(out: str | os.PathLike, run_id: str) -> Path:
    """``<out>/runs/<run-id>``."""
    return Path(out) / "runs" / run_id


def read_config(directory: str | os.PathLike):
    """The :class:`~fgan_bench.config.RunConfig` stored in a run directory."""
    from fgan_bench.config import RunConfig

    directory = Path(directory)
    if not (directory / CONFIG).is_file():
        raise FganBenchError(f"{directory} is not a run directory (no {CONFIG})")
    values = read_json(directory / CONFIG)
    if not isinstance(values, dict):
        raise FganBenchError(f"{directory / CONFIG} is damaged: expected a JSON object of run options")
    try:
        return RunConfig.from_dict(values)
    except FganBenchError as error:
        raise FganBenchError(f"{directory / CONFIG} is damaged: {error}") from None


def result_problem(directory: str | os.PathLike) -> str | None:
    """Why an existing ``result.json`` is not a result (unreadable, not JSON, no status), or ``None``."""
    return _load_result(directory)[1]


def read_result(directory: str | os.PathLike) -> RunResult | None:
    """The run's ``result.json``, or ``None`` while it is not done — or when it is corrupt
    (see :func:`result_problem`): a damaged result is never taken for a finished run."""
    return _load_result(directory)[0]


def _load_result(directory: str | os.PathLike) -> tuple[RunResult | None, str | None]:
    """``(result, None)``, ``(None, why it is corrupt)``, or ``(None, None)`` when there is none; one read."""
    path = Path(directory) / RESULT
    if not path.exists():
        return None, None
    try:
        values = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        return None, f"{path} is corrupt ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})"
    try:
        return RunResult.from_json(values), None
    except (TypeError, ValueError):
        return None, f"{path} is corrupt (no status)"


def read_failure(directory: str | os.PathLike) -> str | None:
    """The reason recorded in ``failure.json``, or ``None``; a damaged file is named as the reason."""
    path = Path(directory) / FAILURE
    if not path.exists():
        return None
    try:
        return str(json.loads(path.read_text())["reason"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"failed; its {path} is damaged"


def read_history(directory: str | os.PathLike):
    """``metrics.csv`` as a DataFrame, or ``None`` when there is none yet; a damaged file is one line."""
    import pandas as pd

    path = Path(directory) / METRICS
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        history = pd.read_csv(path)
    except (OSError, ValueError) as error:  # pandas' ParserError and EmptyDataError are ValueErrors
        raise FganBenchError(f"{path} is damaged ({str(error).strip().splitlines()[-1]}); "
                             f"move it away to continue without the history") from None
    if not {"step", "wall_time_s"} <= set(history.columns) or not pd.api.types.is_numeric_dtype(history["step"]):
        raise FganBenchError(f"{path} is damaged (no numeric step and wall_time_s columns); "
                             f"move it away to continue without the history")
    return history


def load_checkpoint(model, path: str | os.PathLike) -> None:
    """``model.load_weights(path)``; a damaged checkpoint, one of another architecture, or a
    folder in its place is one line naming it."""
    path = Path(path)
    if not path.is_file():
        raise FganBenchError(f"{path} is not a checkpoint file; move it away and pass --overwrite to start afresh")
    try:
        with warnings.catch_warnings(record=True) as caught:  # Keras warns, per layer, before it raises
            warnings.simplefilter("always")
            model.load_weights(path)
        skipped = [str(w.message) for w in caught if "freshly-initialized" in str(w.message)]
        if skipped:
            raise ValueError(skipped[0])
    except Exception as error:  # noqa: BLE001 - h5py, Keras and TF each raise their own
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        raise FganBenchError(
            f"{path} cannot be loaded ({type(error).__name__}: {lines[-1] if lines else ''}): it is damaged or "
            f"from another architecture; move it away and pass --overwrite to start afresh"
        ) from None


_HELD: dict[str, int] = {}


class Hold:
    """This process's hold on a lock file (an open, ``flock``-ed descriptor): ``<run>/.lock``
    (:func:`hold_run_lock`) or ``<run>/.claim`` (:func:`try_claim`). It ends with
    :meth:`release` or with the process, so SIGKILL never leaves a lock held."""

    def __init__(self, descriptor: int):
        self._descriptor: int | None = descriptor

    def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


#: A protocol driver's hold on a run it has queued.
Claim = Hold


def hold_run_lock(directory: str | os.PathLike, *, wait: bool) -> Hold | None:
    """Takes ``<directory>/.lock`` for this process (``None`` if another holds it and ``wait`` is
    False), writes the holder — pid, host, start time, command — into it, and removes the
    temporary files of writers that are gone. For a hold that outlives a ``with`` block (the
    Ray driver's); everything else uses :func:`run_lock`."""
    directory = Path(directory)
    descriptor = _locked_descriptor(directory / LOCK, wait=wait)
    if descriptor is None:
        return None
    command = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:200]
    holder = f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%H:%M:%S')} ({command})"
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, holder.encode(), 0)
    remove_stale_temporaries(directory)
    return Hold(descriptor)


@contextlib.contextmanager
def run_lock(directory: str | os.PathLike, *, wait: bool) -> Iterator[None]:
    """Holds ``<directory>/.lock`` (:func:`hold_run_lock`) for one process's work on a run.

    ``wait``: block until the holder is gone (sweep workers), or raise a one-line
    :class:`FganBenchError` naming the directory and the holder (``run``). Re-entrant within
    a process (a sweep worker holds it around :func:`fgan_bench.runner.run`, which takes it
    again). The holder text stays in the file after release, for a post-mortem.
    """
    directory = Path(directory)
    key = str(directory.resolve())
    if _HELD.get(key):
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    hold = hold_run_lock(directory, wait=wait)
    if hold is None:
        holder = lock_holder(directory) or "another process"
        raise FganBenchError(f"{directory} is in use by {holder}; wait for it to finish (or stop it), then run again")
    _HELD[key] = 1
    try:
        yield
    finally:
        _HELD.pop(key, None)
        hold.release()


def is_locked(directory: str | os.PathLike) -> bool:
    """Whether a process holds ``<directory>/.lock`` now (so it is training the run)."""
    path = Path(directory) / LOCK
    if not path.exists():
        return False
    descriptor = _locked_descriptor(path, wait=False)
    if descriptor is None:
        return True
    os.close(descriptor)
    return False


def try_claim(directory: str | os.PathLike) -> Claim | None:
    """Claims a run for this process's queue, or ``None`` if another process (or another claim
    of this process) holds it. The claim ends with :meth:`Hold.release` or the process."""
    descriptor = _locked_descriptor(make_directory(directory) / CLAIM, wait=False)
    return None if descriptor is None else Hold(descriptor)


def _locked_descriptor(path: Path, *, wait: bool) -> int | None:
    """``path`` opened (created if missing) with an exclusive ``flock`` taken on it; ``None``
    when another open of it holds the lock and ``wait`` is False."""
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise write_error(path, error) from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(descriptor)
        return None
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def lock_holder(directory: str | os.PathLike) -> str | None:
    """The text the last holder of ``<directory>/.lock`` wrote (``pid N on HOST since ...``)."""
    try:
        return (Path(directory) / LOCK).read_text().strip() or None
    except OSError:
        return None


def lock_holder_pid(directory: str | os.PathLike) -> int | None:
    holder = lock_holder(directory) or ""
    return int(holder.split()[1]) if holder.startswith("pid ") and holder.split()[1].isdigit() else None


def clear_products(directory: str | os.PathLike) -> None:
    """Removes what a run wrote (for ``--overwrite``)."""
    for name in PRODUCTS:
        (Path(directory) / name).unlink(missing_ok=True)


def record_failure(directory: str | os.PathLike, run_id: str, reason: str, **details) -> None:
    """``failure.json``; when even that cannot be written (disk full), the sweep's outcome still says why."""
    try:
        write_json_atomically(Path(directory) / FAILURE, {"run_id": run_id, "reason": reason, **details})
    except FganBenchError:
        pass


class RunDirectory:
    """One run's folder (``<out>/runs/<run-id>/``): its files' paths, and reading, writing,
    locking and claiming it — the one implementation the runner, the evaluation, the CLI and
    both sweep executors use.

    >>> run = RunDirectory("reports/runs/ring8-kl-s0-0123abcd")
    >>> run.result.name, run.checkpoint.name
    ('result.json', 'checkpoint.weights.h5')
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @classmethod
    def of(cls, out: str | os.PathLike, run_id: str) -> RunDirectory:
        """The run directory of ``run_id`` under the output root ``out``."""
        return cls(run_path(out, run_id))

    def __repr__(self) -> str:
        return f"RunDirectory({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    config = property(lambda self: self.path / CONFIG, doc="``config.json``")
    result = property(lambda self: self.path / RESULT, doc="``result.json``")
    metrics = property(lambda self: self.path / METRICS, doc="``metrics.csv``")
    checkpoint = property(lambda self: self.path / CHECKPOINT, doc="``checkpoint.weights.h5``")
    samples = property(lambda self: self.path / SAMPLES, doc="``samples.npy``")
    samples_figure = property(lambda self: self.path / SAMPLES_FIGURE, doc="``samples.png``")
    evaluation = property(lambda self: self.path / EVALUATION, doc="``evaluation.json``")
    failure = property(lambda self: self.path / FAILURE, doc="``failure.json``")
    tensorboard = property(lambda self: self.path / TENSORBOARD, doc="``tensorboard/``")
    lock_file = property(lambda self: self.path / LOCK, doc="``.lock``")

    def make(self) -> RunDirectory:
        make_directory(self.path)
        return self

    def read_config(self):
        return read_config(self.path)

    def write_config(self, config) -> None:
        write_json_atomically(self.config, config.to_dict())

    def read_result(self) -> RunResult | None:
        """The :class:`RunResult`, or ``None`` when there is none or it is corrupt (:meth:`result_problem`)."""
        return read_result(self.path)

    def result_problem(self) -> str | None:
        return result_problem(self.path)

    def is_done(self) -> bool:
        return self.read_result() is not None

    def write_result(self, result: RunResult) -> None:
        """``result.json``, atomically: the run is done once it is in place."""
        write_json_atomically(self.result, result.to_json())

    def read_history(self):
        return read_history(self.path)

    def read_failure(self) -> str | None:
        return read_failure(self.path)

    def record_failure(self, run_id: str, reason: str, **details) -> None:
        record_failure(self.path, run_id, reason, **details)

    def load_checkpoint(self, model) -> None:
        load_checkpoint(model, self.checkpoint)

    def lock(self, *, wait: bool):
        """A ``with`` block holding the run lock (:func:`run_lock`)."""
        return run_lock(self.path, wait=wait)

    def hold(self, *, wait: bool) -> Hold | None:
        """The run lock, held until :meth:`Hold.release` (:func:`hold_run_lock`)."""
        return hold_run_lock(self.path, wait=wait)

    def claim(self) -> Claim | None:
        """A protocol driver's claim on the run it queued (:func:`try_claim`)."""
        return try_claim(self.path)

    def is_locked(self) -> bool:
        return is_locked(self.path)

    def holder(self) -> str | None:
        return lock_holder(self.path)

    def holder_pid(self) -> int | None:
        return lock_holder_pid(self.path)

    def clear_products(self) -> None:
        clear_products(self.path)

    def pack(self, names: Sequence[str] | None = None) -> bytes:
        """A gzip'ed tar archive of the run's files ``names`` (default: all but hidden ones)."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for path in sorted(self.path.iterdir()):
                if path.is_file() and not path.name.startswith(".") and (names is None or path.name in names):
                    archive.add(path, arcname=path.name)
        return buffer.getvalue()

    def receive(self, files: dict[str, bytes] | bytes) -> list[str]:
        """Writes files (name → bytes, or a :meth:`pack` archive) into the run, each atomically and
        ``result.json`` last, so the run is done only once all the others are in place."""
        if isinstance(files, bytes):
            files = archive_files(files)
        names = sorted(files, key=lambda name: name == RESULT)
        for name in names:
            write_bytes_atomically(self.path / name, files[name])
        return names


def archive_files(archive: bytes) -> dict[str, bytes]:
    """The plain files of a :meth:`RunDirectory.pack` archive, in memory: name → bytes."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile() and "/" not in m.name}
