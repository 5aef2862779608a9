"""The user's own data: ``file:path=moons.npy,name=moons,test_fraction=0.2``.

A ``.npy``/``.npz`` array (n × d vectors, or n × H × W[ × C] images) or a folder of images.
A folder whose images sit in one sub-folder per class (``shapes/circle/*.png``,
``shapes/square/*.png``) gives class labels: label i is the i-th sub-folder in name order, so
the classifier metrics apply.

**Held-out split.** A seeded share ``test_fraction`` (default :data:`DEFAULT_TEST_FRACTION`
= 0.2, as scikit-learn's digits split) of the rows is held out — stratified by class where
there are labels — with the fixed seed :data:`SPLIT_SEED`, so the split is a property of the
data, the same for every run and seed. Training never sees it; every metric that compares
with data uses it (``Dataset.held_out``), ``memorisation`` compares the samples' distances to
training and held-out rows, Parzen scores it. ``test_fraction=0`` trains on every row (the
metrics then compare with training data and ``memorisation`` does not run).

**Name.** ``name=moons`` names the dataset in headings, titles and the report instead of its
path (:func:`dataset_label`).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from fgan_bench.datasets import validation
from fgan_bench.datasets.base import Dataset
from fgan_bench.datasets.builtin import IMAGE_RANGE, VECTOR_RANGE, _images_in_range
from fgan_bench.datasets.fingerprint import content_fingerprint
from fgan_bench.errors import FganBenchError, SpecError
from fgan_bench.registry import parse_spec

#: Share of a user's rows held out for evaluation unless ``test_fraction`` says otherwise.
DEFAULT_TEST_FRACTION = 0.2
#: The split's seed: fixed, so every run of the same data holds out the same rows.
SPLIT_SEED = 0
#: Fewest rows on each side of a split (the metrics need two per side).
MIN_SPLIT_ROWS = 2
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.\-]+")


def file(path: str, name: str = "", test_fraction: float = DEFAULT_TEST_FRACTION) -> Dataset:
    """Your data: a .npy/.npz array or an image folder (class sub-folders give labels), 20 % held out"""
    location = Path(str(path)).expanduser()
    if not location.exists():
        raise FganBenchError(f"data file {location} does not exist; pass file:path=FILE.npy|FILE.npz|IMAGE_FOLDER")
    if name and not NAME_PATTERN.fullmatch(name):
        raise SpecError(f"name={name!r}: use letters, digits, '_', '.' and '-' only, e.g. name=moons")
    if not 0.0 <= test_fraction < 1.0:
        raise SpecError(f"test_fraction must be in [0, 1) (got {test_fraction}), e.g. test_fraction=0.2")
    data, labels = _load_image_folder(location) if location.is_dir() else (_load_array_file(location), None)
    data = validation.check_examples(data, str(location))
    parameters = {"path": str(path), "name": name, "test_fraction": test_fraction}
    if data.ndim == 2:
        kind, shape_range, array = "vector", VECTOR_RANGE, data.astype(np.float32)
    elif data.ndim in (3, 4):
        kind, shape_range, array = "image", IMAGE_RANGE, _images_in_range(data)
        validation.check_image_shape(array.shape[1:], str(location))
    else:
        raise FganBenchError(f"{location}: expected an array of shape (n, d) or (n, H, W[, C]), got {data.shape}")
    train, test = split_rows(len(array), test_fraction, labels)
    held = f", {len(test)} held out" if len(test) else ", no held-out rows"
    return Dataset(
        name="file",
        kind=kind,
        shape=array.shape[1:],
        value_range=shape_range,
        description=f"{len(train)} {kind}s from {location}{held}" + (f", {labels.max() + 1} classes"
                                                                    if labels is not None else ""),
        array=array[train],
        labels=None if labels is None else labels[train],
        test_array=array[test] if len(test) else None,
        test_labels=None if labels is None or not len(test) else labels[test],
        parameters=parameters,
        fingerprint=content_fingerprint(location),
    )


def split_rows(count: int, test_fraction: float, labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, held-out rows): a seeded split holding out ``round(count ·
    test_fraction)`` rows, stratified by ``labels`` where given; no held-out rows when either
    side would get fewer than :data:`MIN_SPLIT_ROWS` (or a class fewer than one each).

    >>> train, test = split_rows(10, 0.2)
    >>> len(train), len(test), sorted([*train, *test]) == list(range(10))
    (8, 2, True)
    """
    from sklearn.model_selection import train_test_split

    rows = np.arange(count)
    held = round(count * test_fraction)
    if held < MIN_SPLIT_ROWS or count - held < MIN_SPLIT_ROWS:
        return rows, rows[:0]
    stratify = labels if labels is not None and np.bincount(labels).min() >= 2 else None
    train, test = train_test_split(rows, test_size=held, random_state=SPLIT_SEED, stratify=stratify)
    return np.sort(train), np.sort(test)


def dataset_label(spec: str) -> str:
    """The dataset's name for headings and titles: its ``name=`` parameter, else the spec.

    >>> dataset_label("file:path=../mydata/moons.npy,name=moons"), dataset_label("ring8")
    ('moons', 'ring8')
    """
    try:
        parsed = parse_spec(spec)
    except Exception:  # noqa: BLE001 - a label is never worth an error: show the spec as written
        return spec
    return str(dict(parsed.kwargs).get("name") or spec)


def _load_array_file(file: Path) -> np.ndarray:
    archive = validation.load_numpy_file(file)
    if not isinstance(archive, dict):
        return archive
    for key in ("x_train", "x", "data", "samples"):
        if key in archive:
            return archive[key]
    if len(archive) == 1:
        return next(iter(archive.values()))
    raise FganBenchError(f"{file}: name the array x_train, x, data or samples (found: {', '.join(archive) or 'none'})")


def _images_of(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _load_image_folder(folder: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """(images, labels): the folder's images, or, when it holds only class sub-folders of
    images, theirs with label i for the i-th sub-folder in name order."""
    files, labels = _images_of(folder), None
    classes = sorted(p for p in folder.iterdir() if p.is_dir() and _images_of(p))
    if not files and classes:
        per_class = [_images_of(c) for c in classes]
        files = [f for group in per_class for f in group]
        labels = np.repeat(np.arange(len(classes)), [len(group) for group in per_class])
    if not files:
        raise FganBenchError(f"{folder} holds no .png or .jpg images (nor class sub-folders of them)")
    images = [validation.read_image(f) for f in files]
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        raise FganBenchError(f"{folder}: images differ in shape ({sorted(shapes)[:3]}...); resize them to one shape")
    stacked = np.stack(images)
    scaled = stacked * 255.0 if stacked.max() <= 1.0 and files[0].suffix.lower() == ".png" else stacked
    return scaled, labels
