"""Atomic file writes: the one writer every file of the package goes through.

:func:`write_atomically` hands the writer a temporary sibling of the target (a name of its
own per writer: two processes may write one file at once and the last rename wins), fsyncs
it, then ``os.replace`` puts it in place, so a kill at any moment leaves the old file or the
new one, never half of one. An :class:`OSError` while writing is one line naming the file
and the fix (:func:`write_error`: disk full with the free space, read-only, a file in the
way); the temporary file is removed and the previous file stays as it was.

Writers whose library can crash the process on a full disk (h5py segfaults when its buffered
writes fail) check the room first (:func:`ensure_room`); a temporary file a killed process
left behind is removed by :func:`remove_stale_temporaries`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from fgan_bench.errors import FganBenchError

#: ``.<name>.<pid>-<token>.tmp[<keras suffix>]``: see :func:`temporary_path`.
_TEMPORARY = re.compile(r"^\..+\.(?P<pid>\d+)-[0-9a-f]{8}\.tmp(\.weights\.h5|\.keras)?$")


def temporary_path(path: Path) -> Path:
    """The temporary sibling ``path`` is written to before the rename: same folder, a name of its
    own per writer (two processes may write one file at once, e.g. two sweeps sharing a study
    each writing ``sweep.json``: the last rename wins, neither fails), and Keras' suffixes."""
    path = Path(path)
    keras_suffix = next((s for s in (".weights.h5", ".keras") if path.name.endswith(s)), "")  # Keras checks it
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp{keras_suffix}")


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
    except OSError as error:
        raise write_error(path, error) from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


#: ``errno`` values that mean "no room left" (h5py often loses the errno: its message says 28).
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _is_disk_full(error: BaseException) -> bool:
    text = str(error)
    return getattr(error, "errno", None) in _FULL or "No space left" in text or "errno = 28" in text


def write_error(path: str | os.PathLike, error: OSError) -> FganBenchError:
    """The one-line error for an :class:`OSError` while writing ``path`` (disk full, read-only, ...)."""
    path = Path(path)
    if _is_disk_full(error):
        folder = path.parent if path.parent.exists() else Path(".")
        try:
            stats = os.statvfs(folder)
            kib = stats.f_bavail * stats.f_frsize / 1024
            free = f"{kib / 1024:.0f} MiB free" if kib >= 1024 else f"{kib:.0f} KiB free"
        except OSError:
            free = "free space unknown"
        return FganBenchError(
            f"disk full writing {path} (the disk holding {folder}: {free}); the previous file is intact: "
            f"free some space, then run the same command again (a run continues with --resume)"
        )
    lines = str(error).strip().splitlines()
    reason = error.strerror or (lines[-1] if lines else type(error).__name__)
    return FganBenchError(f"cannot write {path}: {reason}; choose a writable --out")


def make_directory(path: str | os.PathLike) -> Path:
    """``mkdir -p path``; a file in the way or a read-only parent is one line naming it."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocking = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), path)
        raise FganBenchError(f"cannot create folder {path}: {blocking} is a file of that name in the way; "
                             f"choose another --out") from None
    except OSError as error:
        raise write_error(path, error) from None
    return path


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


def ensure_room(path: str | os.PathLike, size: int) -> None:
    """Raises :func:`write_error`'s disk-full line unless ``size`` bytes fit beside ``path``."""
    path = Path(path)
    try:
        stats = os.statvfs(path.parent)
    except OSError:
        return  # unknown: the write itself will tell
    if stats.f_bavail * stats.f_frsize < size:
        raise write_error(path, OSError(errno.ENOSPC, "No space left on device"))


def remove_stale_temporaries(directory: str | os.PathLike) -> list[Path]:
    """Removes the temporary files in ``directory`` whose writing process is gone; returns them."""
    removed = []
    for path in Path(directory).glob(".*.tmp*"):
        match = _TEMPORARY.match(path.name)
        if match and not _alive(int(match["pid"])):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
