"""Content fingerprints of user data, and the dataset part of a run id.

A run id must change when the data behind a path changes (else a new file at the same path
returns the old result as "already done") and must stay short whatever the path (a long
path would make a folder name beyond the file system's 255-byte limit). So the run id holds
the file's stem and a fingerprint of its bytes, never the path itself.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from fgan_bench.registry import parse_spec

#: Hex digits of SHA-256 kept: 48 bits, ample to tell one user's data files apart.
FINGERPRINT_LENGTH = 12
#: Characters of a file's stem kept in a run id.
STEM_LENGTH = 24
#: Longest dataset part of a run id; a longer one is cut and ends in a hash of the whole spec.
MAX_LABEL_LENGTH = 80

_CACHE: dict[tuple, str] = {}


def content_fingerprint(path: str | os.PathLike) -> str:
    """The first :data:`FINGERPRINT_LENGTH` hex digits of the SHA-256 of a file's bytes.

    For a folder: of each file's relative name and bytes, in name order. Cached per
    (path, size, modification time), so asking again costs one ``stat``.
    """
    location = Path(path).expanduser().resolve()
    files = sorted(p for p in location.rglob("*") if p.is_file()) if location.is_dir() else [location]
    stats = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    key = (str(location), stats)
    if key not in _CACHE:
        digest = hashlib.sha256()
        for file in files:
            if location.is_dir():
                digest.update(str(file.relative_to(location)).encode() + b"\0")
            with open(file, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):  # noqa: B023 - read now, in this loop
                    digest.update(block)
        _CACHE[key] = digest.hexdigest()[:FINGERPRINT_LENGTH]
    return _CACHE[key]


def run_id_label(spec: str) -> str:
    """The dataset part of a run id: the spec, with each existing file or folder it names
    replaced by ``<stem>-<fingerprint>``, and at most :data:`MAX_LABEL_LENGTH` characters.

    >>> run_id_label("mixture1d:mu2=4.0")
    'mixture1d:mu2=4.0'
    """
    parsed = parse_spec(spec)
    values = [*parsed.args, *(v for _, v in parsed.kwargs)]
    label = spec
    if any(_is_path(v) for v in values):
        parts = [_label_value(v) for v in parsed.args] + [f"{k}={_label_value(v)}" for k, v in parsed.kwargs]
        label = f"{parsed.name}:" + ",".join(parts)
    if len(label) > MAX_LABEL_LENGTH:
        label = label[: MAX_LABEL_LENGTH - 9] + "-" + hashlib.sha1(spec.encode()).hexdigest()[:8]
    return label


def _is_path(value) -> bool:
    return isinstance(value, str) and Path(value).expanduser().exists()


def _label_value(value) -> str:
    if _is_path(value):
        location = Path(value).expanduser()
        return f"{location.name.split('.')[0][:STEM_LENGTH]}-{content_fingerprint(location)}"
    return str(value)
