"""The report's per-class sample grids of conditional runs (``--conditional``).

A conditional run's final samples were requested with labels 0, 1, …, K−1, 0, 1, …
(:func:`fgan_bench.datasets.labels.requested_labels`), so sample i is of class i mod K. For
each conditional run on a dataset (its first seed per divergence), one panel: images — a row
per class, eight samples of that class; 2-D data — the samples coloured by their requested
class over the class modes (ring8, grid25). Runs that are not conditional draw nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

#: Samples shown per class (images).
PER_CLASS = 8


def _conditional_samples(sweep_dir: Path, runs: pd.DataFrame, label_of: Callable) -> dict[str, np.ndarray]:
    """``{panel title: samples}`` for each conditional run (first seed per label) with samples."""
    from fgan_bench import rundir

    panels: dict[str, np.ndarray] = {}
    for _, run in runs.sort_values("seed").iterrows():
        directory = sweep_dir / "runs" / run["run_id"]
        title = label_of(run)
        if title in panels or not (directory / rundir.SAMPLES).exists():
            continue
        try:
            conditional = rundir.read_config(directory).conditional
        except Exception:  # noqa: BLE001 - an unreadable config: no panel, the report still renders
            continue
        if conditional:
            panels[title] = np.load(directory / rundir.SAMPLES)
    return panels


def _image_panel(axis, samples: np.ndarray, classes: int) -> None:
    height, width, channels = samples.shape[1:]
    grid = np.ones((classes * (height + 1) - 1, PER_CLASS * (width + 1) - 1, channels))
    for label in range(classes):
        for column, image in enumerate(samples[label::classes][:PER_CLASS]):
            top, left = label * (height + 1), column * (width + 1)
            grid[top:top + height, left:left + width] = np.clip((image + 1.0) / 2.0, 0.0, 1.0)
    axis.imshow(grid.squeeze(-1) if channels == 1 else grid, cmap="gray" if channels == 1 else None,
                interpolation="nearest")
    axis.set_ylabel("class 0 … " + str(classes - 1), fontsize=7)


def _point_panel(axis, samples: np.ndarray, classes: int, modes) -> None:
    points = samples.reshape(len(samples), -1)[:, :2]
    colours = np.arange(len(points)) % classes
    axis.scatter(points[:, 0], points[:, 1], c=colours, cmap="tab20" if classes > 10 else "tab10", s=1.0,
                 alpha=0.6, rasterized=True, vmin=0, vmax=max(classes - 1, 1))
    if modes is not None:
        axis.scatter(modes[:, 0], modes[:, 1], c=np.arange(len(modes)), cmap="tab20" if classes > 10 else "tab10",
                     marker="x", s=30, linewidths=1.2, vmin=0, vmax=max(classes - 1, 1))
    axis.set_aspect("equal")


def class_grid_figure(sweep_dir: Path, runs: pd.DataFrame, dataset_name: str, label_of: Callable):
    """The figure of the module doc for ``dataset_name``'s conditional runs, or ``None``."""
    from fgan_bench.datasets import get_dataset
    from fgan_bench.datasets.labels import class_count

    panels = _conditional_samples(sweep_dir, runs[runs["dataset"] == dataset_name], label_of)
    if not panels:
        return None
    try:
        dataset = get_dataset(dataset_name)
    except Exception:  # noqa: BLE001 - a plugin dataset that is not loaded here: no grid
        return None
    classes = class_count(dataset)
    if classes is None or (dataset.kind != "image" and dataset.dimension != 2):
        return None
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 3.0), squeeze=False)
    for axis, (title, samples) in zip(axes[0], panels.items(), strict=True):
        if dataset.kind == "image":
            _image_panel(axis, samples, classes)
        else:
            _point_panel(axis, samples, classes, dataset.modes)
        axis.set_title(title, fontsize=8)
        axis.set_xticks([])
        axis.set_yticks([])
    figure.suptitle(f"{dataset_name}: conditional samples, by requested class", fontsize=9)
    figure.tight_layout()
    return figure
