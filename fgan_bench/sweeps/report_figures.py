"""The report's figures, each an embedded PNG (a data URI): expected best score vs tuning budget,
the score distributions, the critical-difference diagram, the sample gallery and class grids,
training curves and throughput.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fgan_bench import stats
from fgan_bench.sweeps.answer import run_label as _label

#: Training curves: the critic's estimate of D_f, the generator's loss and the critic's gradient
#: norm (the critic loss is −estimate under the saddle objective: a panel of it mirrored the first).
CURVES = ("divergence_estimate", "generator_loss", "critic_grad_norm")


def figure_uri(figure) -> str:
    from fgan_bench.plotting import figure_data_uri

    return figure_data_uri(figure)


def expected_max_figure(table: pd.DataFrame):
    import matplotlib.pyplot as plt

    if table.empty:
        return None
    datasets = list(dict.fromkeys(table["dataset"]))
    figure, axes = plt.subplots(1, len(datasets), figsize=(4.6 * len(datasets), 3.6), squeeze=False)
    for axis, dataset in zip(axes[0], datasets, strict=True):
        data = table[table["dataset"] == dataset]
        for divergence, curve in data.groupby("divergence", sort=False):
            finite = curve[np.isfinite(curve["expected_best"])]
            line = axis.plot(finite["budget"], finite["expected_best"], marker=".", label=divergence)[0]
            axis.fill_between(finite["budget"], finite["band_low"], finite["band_high"], color=line.get_color(),
                              alpha=0.12)
        axis.set_title(dataset)
        axis.set_xlabel("tuning budget n (random-search trials)")
        axis.set_ylabel(f"expected best {data['metric'].iloc[0]}")
        axis.grid(alpha=0.3)
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7, frameon=False)
    figure.suptitle("expected best score after n trials (Dodge et al. 2019; band: 95 % bootstrap over trials)")
    return figure_uri(figure)


def distribution_figure(scores: pd.DataFrame, metrics: dict[str, str], title: str):
    """Per dataset, each divergence's scores (trials or seeds) as points over a box."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    scores = scores[np.isfinite(scores["value"])] if not scores.empty else scores
    if scores.empty:
        return None
    datasets = list(dict.fromkeys(scores["dataset"]))
    count = scores["divergence"].nunique()
    figure, axes = plt.subplots(1, len(datasets), figsize=(4.6 * len(datasets), 1.6 + 0.35 * count), squeeze=False)
    for axis, dataset in zip(axes[0], datasets, strict=True):
        data = scores[scores["dataset"] == dataset]
        sns.boxplot(data=data, x="value", y="divergence", color="0.9", fliersize=0, ax=axis)
        last = axis is axes[0][-1] and "state" in data
        sns.stripplot(data=data, x="value", y="divergence", hue="state" if "state" in data else None, size=4,
                      ax=axis, legend=last)
        if last and axis.get_legend() is not None:
            sns.move_legend(axis, "upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7, frameon=False)
        axis.set_title(dataset)
        axis.set_xlabel(metrics.get(dataset, "value"))
        axis.set_ylabel("")
        axis.grid(axis="x", alpha=0.3)
    figure.suptitle(title, y=1.02)
    figure.tight_layout()
    return figure_uri(figure)




def cd_figure(summary: pd.DataFrame, metrics: dict[str, str], varying: list[str]):
    """The critical-difference diagram across datasets (None with too few datasets)."""
    import matplotlib.pyplot as plt
    import scikit_posthocs

    rows = summary[summary["metric"] == summary["dataset"].map(metrics)]
    if rows.empty:
        return None, None
    rows = rows.assign(label=rows.apply(lambda r: _label(r, varying), axis=1))
    directions = set(rows["direction"])
    if len(directions) != 1:
        return None, None
    table = rows.pivot_table(index="dataset", columns="label", values="mean", aggfunc="first")
    result = stats.friedman_nemenyi(table, directions.pop())
    if result is None:
        return None, None
    figure, axis = plt.subplots(figsize=(9, 0.8 + 0.22 * len(result["ranks"])))
    scikit_posthocs.critical_difference_diagram(
        result["ranks"], result["nemenyi"], ax=axis, label_fmt_left="{label} ({rank:.2f})",
        label_fmt_right="({rank:.2f}) {label}"
    )
    axis.set_title(f"average rank over {result['datasets']} datasets (Friedman p = {result['friedman_p']:.3g}; "
                   "bars join divergences Nemenyi cannot tell apart)")
    return figure_uri(figure), result


def gallery_figure(sweep_dir: Path, runs: pd.DataFrame, dataset_name: str, varying: list[str]):
    """Every divergence × every seed's final samples (:func:`fgan_bench.sweeps.gallery.sample_gallery`)."""
    from fgan_bench._lazy import import_tensorflow_quietly
    from fgan_bench.datasets import get_dataset
    from fgan_bench.datasets.user_data import dataset_label
    from fgan_bench.sweeps.gallery import sample_gallery

    import_tensorflow_quietly()  # the target's density is a TFP distribution: no CUDA start-up lines
    runs = runs[runs["dataset"] == dataset_name].sort_values(["divergence", "seed"])
    samples = {}
    for _, run in runs.iterrows():
        path = sweep_dir / "runs" / run["run_id"] / "samples.npy"
        if path.exists():
            samples[(_label(run, varying), int(run["seed"]))] = np.load(path)
    try:
        dataset = get_dataset(dataset_name)
    except Exception:  # noqa: BLE001 - a plugin dataset that is not loaded here: no gallery
        return None
    return sample_gallery(dataset, dataset_label(dataset_name), samples)


def class_grid_image(sweep_dir: Path, runs: pd.DataFrame, dataset_name: str, varying: list[str]):
    """Conditional runs' samples by requested class (:mod:`fgan_bench.sweeps.class_grids`), or ``None``."""
    from fgan_bench.sweeps.class_grids import class_grid_figure

    if runs.empty:
        return None
    figure = class_grid_figure(sweep_dir, runs, dataset_name, lambda run: _label(run, varying))
    return None if figure is None else figure_uri(figure)


def curves_figure(history: pd.DataFrame, dataset: str, varying: list[str], run_ids=None):
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = history[(history["dataset"] == dataset) & history["metric"].isin(CURVES)].copy()
    if run_ids is not None:
        data = data[data["run_id"].isin(run_ids)]
    if data.empty:
        return None
    data["divergence"] = data.apply(lambda row: _label(row, varying), axis=1)
    figure, axes = plt.subplots(1, len(CURVES), figsize=(5.0 * len(CURVES), 3.6))
    for axis, metric in zip(axes, CURVES, strict=True):
        values = data[data["metric"] == metric]
        sns.lineplot(data=values, x="step", y="value", hue="divergence", estimator="median",
                     errorbar=("pi", 100), ax=axis, legend=metric == CURVES[-1])
        axis.set_title(metric.replace("_", " "))
        axis.set_xlabel("training step")
        magnitude = values["value"].abs()
        typical = max(float(magnitude.quantile(0.5)) if len(magnitude) else 1.0, 1e-3)
        if len(magnitude) and float(magnitude.max()) > 100 * typical:  # one spike is enough to flatten the rest: symlog
            positive = bool((values["value"] > 0).all())  # a norm: log, with no empty negative half
            axis.set_yscale("log") if positive else axis.set_yscale("symlog", linthresh=typical)
            scale = "log" if positive else f"symlog, linear within ±{typical:.2g}"
            axis.set_ylabel(f"{metric.replace('_', ' ')} ({scale})")
        else:
            axis.set_ylabel(metric.replace("_", " "))
        axis.grid(alpha=0.3)
        axis.ticklabel_format(axis="x", style="plain")
    if axes[-1].get_legend() is not None:
        sns.move_legend(axes[-1], "upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7, frameon=False)
    from fgan_bench.datasets.user_data import dataset_label

    figure.suptitle(f"{dataset_label(dataset)}: training curves (line: median of seeds, band: min–max)")
    figure.tight_layout()
    return figure_uri(figure)


def throughput_figure(results: pd.DataFrame):
    import matplotlib.pyplot as plt
    import seaborn as sns

    runs = results.drop_duplicates("run_id")
    runs = runs[runs["steps_per_second"].notna()] if "steps_per_second" in runs else runs.iloc[0:0]
    if runs.empty:
        return None
    from fgan_bench.datasets.user_data import dataset_label

    runs = runs.assign(dataset=runs["dataset"].map(dataset_label))
    figure, axis = plt.subplots(figsize=(8, 0.8 + 0.3 * runs["divergence"].nunique()))
    sns.barplot(data=runs, y="divergence", x="steps_per_second", hue="dataset", errorbar="sd", ax=axis)
    axis.set_xlabel("training steps per second")
    axis.set_title("training throughput (bars: mean over runs, lines: std)")
    if axis.get_legend() is not None:  # beside the bars, never over them
        sns.move_legend(axis, "upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="dataset")
    return figure_uri(figure)

