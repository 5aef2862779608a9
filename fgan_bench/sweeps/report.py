"""The comparison report of a sweep: ``summary.csv`` and a self-contained ``report.html``.

The HTML is rendered with Jinja2 from ``fgan_bench/templates/report.html.j2``; every figure is
a seaborn/matplotlib PNG embedded as a data URI, so the single file opens offline. It shows,
per dataset, the divergences ranked by each metric (mean ± std over seeds); a heatmap of each
divergence's rank on the main metric across datasets; training curves (seeds as bands);
final samples; stability (share diverged, and when); wall time and throughput; and the sweep
file, package versions and device.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from fgan_bench.metrics import metric_direction
from fgan_bench.sweeps.results import KEY_COLUMNS, write_csv_atomically, write_tables

SUMMARY = "summary.csv"
REPORT = "report.html"
CURVES = ("divergence_estimate", "critic_loss", "generator_loss")


def main_metric(metrics: set[str]) -> str | None:
    """The metric divergences are ranked by on a dataset: the truth where it is known.

    Known density: the true Jensen–Shannon divergence (bounded, symmetric, neutral between
    the divergences being compared); images: the classifier-feature Fréchet distance;
    otherwise MMD².
    """
    for name in ("true_jensen_shannon", "classifier_frechet_distance", "mmd2"):
        if name in metrics:
            return name
    return None


def summary_table(results: pd.DataFrame, varying: list[str]) -> pd.DataFrame:
    """Mean, std and count over seeds per dataset × divergence × varying option × metric, with ranks."""
    finished = results[results["status"].isin(["completed", "diverged"]) & results["metric"].notna()]
    groups = ["dataset", "divergence", *varying, "metric"]
    summary = finished.groupby(groups, dropna=False)["value"].agg(["mean", "std", "count"]).reset_index()
    summary["direction"] = summary["metric"].map(lambda m: metric_direction(m) or "")
    ranked = summary["direction"].isin(["higher", "lower"])
    summary["rank"] = np.nan
    for (_, _), group in summary[ranked].groupby(["dataset", "metric"]):
        ascending = group["direction"].iloc[0] == "lower"
        summary.loc[group.index, "rank"] = group["mean"].rank(ascending=ascending, method="min")
    return summary


def _figure_uri(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _file_uri(path: Path) -> str | None:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode() if path.exists() else None


def _label(row, varying: list[str]) -> str:
    return row["divergence"] + "".join(f" {k}={row[k]}" for k in varying)


def _heatmap(summary: pd.DataFrame, varying: list[str]):
    import matplotlib.pyplot as plt
    import seaborn as sns

    rows = []
    for dataset, group in summary.groupby("dataset"):
        metric = main_metric(set(group["metric"]))
        if metric is None:
            continue
        for _, row in group[group["metric"] == metric].iterrows():
            rows.append(
                {
                    "dataset": f"{dataset}\n({metric})",
                    "divergence": _label(row, varying),
                    "rank": row["rank"],
                    "value": row["mean"],
                }
            )
    if not rows:
        return None
    table = pd.DataFrame(rows)
    ranks = table.pivot(index="divergence", columns="dataset", values="rank")
    values = table.pivot(index="divergence", columns="dataset", values="value")
    annotations = ranks.copy().astype(object)
    for column in ranks.columns:
        for index in ranks.index:
            value = values.loc[index, column]
            annotations.loc[index, column] = "" if pd.isna(value) else f"#{ranks.loc[index, column]:.0f}\n{value:.3g}"
    figure, axis = plt.subplots(figsize=(1.8 + 2.0 * len(ranks.columns), 0.9 + 0.45 * len(ranks)))
    sns.heatmap(
        ranks,
        annot=annotations,
        fmt="",
        cmap="viridis_r",
        cbar_kws={"label": "rank (1 = best)"},
        ax=axis,
        annot_kws={"fontsize": 7},
    )
    axis.set_title("rank of each divergence on the main metric (mean over seeds)")
    axis.set_xlabel("")
    axis.set_ylabel("")
    return _figure_uri(figure)


def _curves(history: pd.DataFrame, dataset: str, varying: list[str]):
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = history[(history["dataset"] == dataset) & history["metric"].isin(CURVES)].copy()
    if data.empty:
        return None
    data["divergence"] = data.apply(lambda row: _label(row, varying), axis=1)
    figure, axes = plt.subplots(1, len(CURVES), figsize=(5.0 * len(CURVES), 3.4))
    for axis, metric in zip(axes, CURVES, strict=True):
        sns.lineplot(
            data=data[data["metric"] == metric],
            x="step",
            y="value",
            hue="divergence",
            errorbar=("pi", 100),
            ax=axis,
            legend=metric == CURVES[-1],
        )
        axis.set_title(metric)
        axis.set_ylabel("")
        axis.set_yscale("symlog", linthresh=1.0)
    if axes[-1].get_legend() is not None:
        sns.move_legend(axes[-1], "upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7)
    figure.suptitle(f"{dataset}: training curves (line: median of seeds, band: min–max)")
    return _figure_uri(figure)


def _throughput(results: pd.DataFrame):
    import matplotlib.pyplot as plt
    import seaborn as sns

    runs = results.drop_duplicates("run_id")
    runs = runs[runs["steps_per_second"].notna()]
    if runs.empty:
        return None
    figure, axis = plt.subplots(figsize=(8, 0.8 + 0.3 * runs["divergence"].nunique()))
    sns.barplot(data=runs, y="divergence", x="steps_per_second", hue="dataset", errorbar="sd", ax=axis)
    axis.set_title("training throughput (steps/s; bars: mean over seeds, lines: std)")
    return _figure_uri(figure)


def _ranking_tables(summary: pd.DataFrame, varying: list[str]) -> dict[str, dict]:
    """Per dataset: the main metric and, per ranked metric, rows sorted best first."""
    tables = {}
    for dataset, group in summary.groupby("dataset"):
        ranked = group[group["rank"].notna()]
        main = main_metric(set(group["metric"]))
        metrics = sorted(ranked["metric"].unique(), key=lambda m: (m != main, m))
        tables[dataset] = {"main": main, "metrics": {}}
        for metric in metrics:
            rows = ranked[ranked["metric"] == metric].sort_values("rank")
            tables[dataset]["metrics"][metric] = [
                {
                    "rank": int(r["rank"]),
                    "label": _label(r, varying),
                    "mean": r["mean"],
                    "std": 0.0 if pd.isna(r["std"]) else r["std"],
                    "count": int(r["count"]),
                    "direction": r["direction"],
                }
                for _, r in rows.iterrows()
            ]
    return tables


def _stability(results: pd.DataFrame, varying: list[str]) -> list[dict]:
    runs = results.drop_duplicates("run_id")
    rows = []
    for keys, group in runs.groupby(["dataset", "divergence", *varying], dropna=False):
        diverged = group[group["status"] == "diverged"]
        rows.append(
            {
                "dataset": keys[0],
                "label": _label(group.iloc[0], varying),
                "runs": len(group),
                "diverged": len(diverged),
                "failed": int((group["status"] == "failed").sum()),
                "unfinished": int((group["status"] == "unfinished").sum()),
                "steps": ", ".join(str(int(s)) for s in diverged["diverged_step"].dropna()),
                "reasons": "; ".join(sorted(set(group.loc[group["status"] == "failed", "reason"].astype(str)))),
            }
        )
    return rows


def _samples(sweep_dir: Path, results: pd.DataFrame, varying: list[str]) -> dict[str, list[dict]]:
    """Per dataset, each divergence's final samples figure (the lowest seed that has one)."""
    runs = results.drop_duplicates("run_id").sort_values("seed")
    figures: dict[str, list[dict]] = {}
    for (dataset, _), group in runs.groupby(["dataset", "divergence", *varying][:2], sort=False):
        for _, row in group.iterrows():
            uri = _file_uri(sweep_dir / "runs" / row["run_id"] / "samples.png")
            if uri:
                figures.setdefault(dataset, []).append(
                    {"label": f"{_label(row, varying)} (seed {row['seed']})", "uri": uri}
                )
                break
    return figures


def _environment(sweep_dir: Path, results: pd.DataFrame) -> dict:
    for run_id in results["run_id"].unique():
        path = sweep_dir / "runs" / run_id / "result.json"
        if path.exists():
            result = json.loads(path.read_text())
            return {"versions": result.get("versions", {}), "device": result.get("device", "")}
    return {"versions": {}, "device": ""}


def write_report(sweep_dir: str | Path) -> Path:
    """Writes ``results.csv``, ``history.csv``, ``summary.csv`` and ``report.html``; returns the HTML's path."""
    import jinja2
    import matplotlib

    matplotlib.use("Agg")
    from fgan_bench.sweeps.state import load_sweep_state

    sweep_dir = Path(sweep_dir)
    state = load_sweep_state(sweep_dir)
    configs, varying = state["configs"], state["varying"]
    results, history = write_tables(sweep_dir, configs, varying)
    summary = summary_table(results, varying)
    write_csv_atomically(summary, sweep_dir / SUMMARY)
    datasets = list(dict.fromkeys(c.dataset for c in configs))
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("fgan_bench", "templates"), autoescape=jinja2.select_autoescape(["html", "j2"])
    )
    environment.filters["number"] = lambda v: "" if v is None or pd.isna(v) else f"{v:.4g}"
    runs = results.drop_duplicates("run_id")
    html = environment.get_template("report.html.j2").render(
        name=state["name"],
        description=state.get("description", ""),
        datasets=datasets,
        counts=runs["status"].value_counts().to_dict(),
        total_runs=len(runs),
        wall_time=float(runs["wall_time_s"].fillna(0).sum()) if "wall_time_s" in runs else 0.0,
        rankings=_ranking_tables(summary, varying),
        heatmap=_heatmap(summary, varying),
        curves={d: _curves(history, d, varying) for d in datasets},
        samples=_samples(sweep_dir, results, varying),
        stability=_stability(results, varying),
        throughput=_throughput(results),
        runs=runs[["run_id", *KEY_COLUMNS, *varying, "status", "wall_time_s", "steps_per_second", "reason"]].to_dict(
            "records"
        ),
        sweep_file=state["text"],
        environment=_environment(sweep_dir, results),
    )
    path = sweep_dir / REPORT
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(html)
    temporary.replace(path)
    return path
