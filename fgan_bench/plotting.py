"""Figures of generated samples: over the target density (1-D, 2-D) or as an image grid."""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("MPLBACKEND", "Agg")


def plot_samples(samples: np.ndarray, dataset, path, title: str = "") -> None:
    """Writes ``path`` (PNG): a histogram over the target density for 1-D data, a scatter
    over the density's contours (or a sample of the data) for 2-D data, an 8×8 grid for
    images; higher-dimensional vectors are shown by their first two coordinates."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="white", context="paper")
    if dataset.kind == "image":
        figure = _image_grid(samples, plt)
    elif dataset.dimension == 1:
        figure, axes = plt.subplots(figsize=(5, 3.2))
        values = samples.reshape(-1)
        low, high = np.percentile(values, [0.5, 99.5])
        reference = dataset.sample(20000, seed=1).reshape(-1)
        low, high = min(low, reference.min()), max(high, reference.max())
        grid = np.linspace(low - 0.5, high + 0.5, 400, dtype=np.float32)
        axes.hist(values, bins=80, range=(grid[0], grid[-1]), density=True, alpha=0.6, label="generated")
        if dataset.synthetic:
            density = np.exp(dataset.distribution().log_prob(grid[:, None]).numpy())
            axes.plot(grid, density, color="black", lw=1.5, label="target density")
        axes.legend(frameon=False)
        axes.set_xlabel("x")
    else:
        figure, axes = plt.subplots(figsize=(4.5, 4.5))
        points = samples.reshape(len(samples), -1)[:, :2]
        reference = dataset.sample(5000, seed=1).reshape(5000, -1)[:, :2]
        (x0, y0), (x1, y1) = np.minimum(points.min(0), reference.min(0)), np.maximum(points.max(0), reference.max(0))
        pad = 0.1 * max(x1 - x0, y1 - y0, 1e-3)
        if dataset.synthetic and dataset.dimension == 2:
            xs, ys = np.meshgrid(np.linspace(x0 - pad, x1 + pad, 300), np.linspace(y0 - pad, y1 + pad, 300))
            grid = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)
            log_density = dataset.distribution().log_prob(grid).numpy().reshape(xs.shape)
            axes.contourf(xs, ys, np.exp(log_density), levels=12, cmap="Greys")
        else:
            axes.scatter(reference[:, 0], reference[:, 1], s=2, color="grey", alpha=0.3, label="data")
        axes.scatter(points[:, 0], points[:, 1], s=2, color="tab:orange", alpha=0.5, label="generated")
        axes.set_xlim(x0 - pad, x1 + pad)
        axes.set_ylim(y0 - pad, y1 + pad)
        axes.set_aspect("equal")
    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


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
