"""The report's sample gallery: every divergence × every seed's final samples on shared axes,
over the target density (synthetic data) or the held-out data (your own data), with ticks, a
legend and limits that show both the data and the samples."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Gallery:
    """One dataset's gallery: the figure as a ``data:`` URI and a caption saying what lies under the samples."""

    uri: str
    caption: str


def sample_gallery(dataset, title: str, samples: dict[tuple[str, int], np.ndarray]) -> Gallery | None:
    """The gallery of ``samples`` (``{(row label, seed): samples}``) for 1-D and 2-D vector
    data; None for images and higher dimensions (their runs' ``samples.png`` show them)."""
    import matplotlib.pyplot as plt

    from fgan_bench.plotting import figure_data_uri, reference_points, shared_limits

    if not samples or dataset.kind == "image" or dataset.dimension > 2:
        return None
    labels = list(dict.fromkeys(label for label, _ in samples))
    seeds = sorted({seed for _, seed in samples})
    reference, reference_label = reference_points(dataset, 5000)
    flat = [s.reshape(len(s), -1) for s in samples.values()]
    low, high = shared_limits(reference, *flat)
    size = 1.9
    figure, axes = plt.subplots(len(labels), len(seeds), figsize=(size * len(seeds) + 1.2, size * len(labels) + 0.6),
                                squeeze=False, sharex=True, sharey=True)
    under = _underlay(dataset, reference, reference_label, low, high)
    for i, label in enumerate(labels):
        for j, seed in enumerate(seeds):
            axis = axes[i][j]
            under(axis)
            _draw(axis, samples.get((label, seed)), dataset.dimension, low, high)
            axis.tick_params(labelsize=6)
            if i == 0:
                axis.set_title(f"seed {seed}", fontsize=8)
            if j == 0:
                axis.set_ylabel(label, fontsize=8)
    handles, names = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, names, loc="upper right", fontsize=7, frameon=False, markerscale=6)
    underneath = "the target density" if dataset.synthetic else f"{len(reference)} {reference_label} points"
    caption = f"{title}: final samples (orange) over {underneath} (grey), shared axes"
    figure.suptitle(caption, fontsize=9, x=0.02, ha="left")
    figure.tight_layout(rect=(0, 0, 1, 0.95))
    return Gallery(figure_data_uri(figure), caption)


def _underlay(dataset, reference: np.ndarray, reference_label: str, low, high):
    """A function drawing what lies under each panel's samples: the density's contours (or
    curve), else the reference examples."""
    if dataset.synthetic and dataset.dimension == 2:
        xs, ys = np.meshgrid(np.linspace(low[0], high[0], 150), np.linspace(low[1], high[1], 150))
        grid = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)
        density = np.exp(dataset.distribution().log_prob(grid).numpy()).reshape(xs.shape)
        return lambda axis: (axis.contour(xs, ys, density, levels=6, colors="0.55", linewidths=0.5),
                             axis.plot([], [], color="0.55", lw=0.8, label="target density"))
    if dataset.synthetic:
        grid = np.linspace(low[0], high[0], 300, dtype=np.float32)
        density = np.exp(dataset.distribution().log_prob(grid[:, None]).numpy())
        return lambda axis: axis.plot(grid, density, color="0.3", lw=0.8, label="target density")
    if dataset.dimension == 2:
        return lambda axis: axis.scatter(reference[:, 0], reference[:, 1], s=0.6, color="0.6", alpha=0.5,
                                         rasterized=True, label=reference_label)
    return lambda axis: axis.hist(reference[:, 0], bins=60, range=(low[0], high[0]), density=True, color="0.6",
                                  alpha=0.5, label=reference_label)


def _draw(axis, points, dimension: int, low, high) -> None:
    if points is None:
        axis.text(0.5, 0.5, "no samples", ha="center", va="center", transform=axis.transAxes, fontsize=7)
    elif dimension == 2:
        points = points.reshape(len(points), -1)
        axis.scatter(points[:, 0], points[:, 1], s=0.6, color="tab:orange", alpha=0.5, rasterized=True,
                     label="generated")
    else:
        axis.hist(points.reshape(-1), bins=60, range=(low[0], high[0]), density=True, color="tab:orange", alpha=0.6,
                  label="generated")
    axis.set_xlim(low[0], high[0])
    if dimension == 2:
        axis.set_ylim(low[1], high[1])
        axis.set_aspect("equal")
