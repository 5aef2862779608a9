"""Figures of generated samples: over the target density (1-D, 2-D) or as an image grid."""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("MPLBACKEND", "Agg")


def reference_points(dataset, count: int) -> tuple[np.ndarray, str]:
    """(real examples to draw under generated ones, flattened to rows; their legend label):
    fresh target samples for synthetic data, the held-out split for finite data (the training
    rows where there is none)."""
    if dataset.synthetic:
        return dataset.sample(count, seed=1).reshape(count, -1), "target"
    points = dataset.held_out(count, seed=1)
    label = "held-out data" if dataset.test_array is not None else "training data"
    return points.reshape(len(points), -1), label


def shared_limits(*clouds: np.ndarray, pad: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) per coordinate showing every cloud: the 0.5–99.5 percentiles of their union
    (a few outliers do not flatten the rest), padded by ``pad`` of the widest span."""
    finite = [c[np.all(np.isfinite(c), axis=1)] for c in clouds if len(c)]
    union = np.concatenate(finite) if finite else np.zeros((1, 1))
    low, high = np.percentile(union, [0.5, 99.5], axis=0)
    margin = pad * max(float((high - low).max()), 1e-3)
    return low - margin, high + margin


def plot_samples(samples: np.ndarray, dataset, path, title: str = "") -> None:
    """Writes ``path`` (PNG): generated samples over the target density (synthetic data) or the
    held-out data (finite data) — a histogram for 1-D data, a scatter for 2-D and higher
    (first two coordinates) — with a legend and ticks, limits showing both; an 8×8 grid for
    images."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="ticks", context="paper")
    if dataset.kind == "image":
        figure = _image_grid(samples, plt)
    else:
        points = samples.reshape(len(samples), -1)
        reference, reference_label = reference_points(dataset, 5000 if dataset.dimension > 1 else 20000)
        low, high = shared_limits(points[:, :2], reference[:, :2])
        figure, axes = plt.subplots(figsize=(5, 3.2) if dataset.dimension == 1 else (4.5, 4.5))
        draw = _draw_histograms if dataset.dimension == 1 else _draw_scatter
        draw(axes, dataset, points, reference, reference_label, low, high)
        axes.legend(frameon=False, fontsize=7, loc="upper right", markerscale=4)
    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _draw_histograms(axes, dataset, points, reference, reference_label, low, high) -> None:
    grid = np.linspace(low[0], high[0], 400, dtype=np.float32)
    span = (float(grid[0]), float(grid[-1]))
    if dataset.synthetic:
        density = np.exp(dataset.distribution().log_prob(grid[:, None]).numpy())
        axes.plot(grid, density, color="black", lw=1.5, label="target density")
    else:
        axes.hist(reference[:, 0], bins=80, range=span, density=True, color="grey", alpha=0.4, label=reference_label)
    axes.hist(points[:, 0], bins=80, range=span, density=True, color="tab:orange", alpha=0.6, label="generated")
    axes.set_xlim(*span)
    axes.set_xlabel("x")


def _draw_scatter(axes, dataset, points, reference, reference_label, low, high) -> None:
    if dataset.synthetic and dataset.dimension == 2:
        xs, ys = np.meshgrid(np.linspace(low[0], high[0], 300), np.linspace(low[1], high[1], 300))
        grid = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)
        density = np.exp(dataset.distribution().log_prob(grid).numpy().reshape(xs.shape))
        axes.contourf(xs, ys, density, levels=12, cmap="Greys")
        axes.plot([], [], "s", color="0.5", label="target density")
    else:
        axes.scatter(reference[:, 0], reference[:, 1], s=2, color="grey", alpha=0.3, label=reference_label)
    axes.scatter(points[:, 0], points[:, 1], s=2, color="tab:orange", alpha=0.5, label="generated")
    axes.set_xlim(low[0], high[0])
    axes.set_ylim(low[1], high[1])
    axes.set_aspect("equal")


def figure_data_uri(figure) -> str:
    """A matplotlib figure as a PNG ``data:`` URI (closed afterwards), for self-contained HTML."""
    import base64
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _image_grid(samples: np.ndarray, plt, rows: int = 8):
    images = np.clip((samples[: rows * rows] + 1.0) / 2.0, 0.0, 1.0)
    height, width, channels = images.shape[1:]
    grid = np.ones((rows * (height + 1) - 1, rows * (width + 1) - 1, channels))
    for i, image in enumerate(images):
        r, c = divmod(i, rows)
        grid[r * (height + 1) : r * (height + 1) + height, c * (width + 1) : c * (width + 1) + width] = image
    figure, axes = plt.subplots(figsize=(4.5, 4.5))
    axes.imshow(
        grid.squeeze(-1) if channels == 1 else grid, cmap="gray" if channels == 1 else None, interpolation="nearest"
    )
    axes.axis("off")
    return figure
