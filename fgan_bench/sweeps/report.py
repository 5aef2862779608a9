"""The report of a sweep or protocol: CSV tables and one self-contained ``report.html``.

The report answers first: per dataset, one sentence — the best mean on the dataset's main
metric with its Student-t 95 % interval and how many values stand behind it, the divergences
that are best or not distinguishable from the best and those that are worse (Welch, Holm over
all pairs; :mod:`fgan_bench.verdicts`), each divergence's P(best) — what a rerun would likely
say —, the metric families that name another best (:mod:`fgan_bench.sweeps.answer`), and the
budget behind the claim. Then the evidence:
expected best score vs tuning budget (``expected_max.csv``, protocols only), the score
distributions, a critical-difference diagram (only with enough datasets), per-dataset tables
of every metric (mean [CI], n), a sample gallery (every divergence × every seed on shared axes
over the target density's contours), training curves, stability, throughput, the sweep file
and versions. Every figure is an embedded PNG, tables sort in the browser with a few lines of
inline JavaScript, and the CSVs beside the report are linked.

Files written next to it: ``results.csv``, ``history.csv``, ``summary.csv`` (per dataset ×
divergence × metric: mean, std, count, ci_low, ci_high, rank), ``answer.csv`` (the decision
per dataset), and for protocols ``trials.csv`` and ``expected_max.csv``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from fgan_bench import rundir, stats
from fgan_bench.metrics import metric_direction
from fgan_bench.sweeps.across import AGGREGATE, across_section
from fgan_bench.sweeps.answer import answers, rank_separation
from fgan_bench.sweeps.answer import run_label as _label
from fgan_bench.sweeps.results import KEY_COLUMNS, write_tables

SUMMARY = "summary.csv"
ANSWER = "answer.csv"
EXPECTED_MAX = "expected_max.csv"
REPORT = "report.html"
#: Training curves: the critic's estimate of D_f, the generator's loss and the critic's gradient
#: norm (the critic loss is −estimate under the saddle objective: a panel of it mirrored the first).
CURVES = ("divergence_estimate", "generator_loss", "critic_grad_norm")
FINISHED = ("completed", "diverged")


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


def format_value(value) -> str:
    """A number with 4 significant digits; ``inf``/``-inf`` as such; missing as empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, int | np.integer):
        return str(value)
    value = float(value)
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.4g}"


def format_estimate(mean, low, high, n: int, unit: str = "seed") -> str:
    """``0.238 [0.221, 0.257] (n = 5 seeds)``; one value: ``0.238 (1 seed)``; never "± 0"."""
    if n == 0:
        return "no value"
    if n == 1:
        return f"{format_value(mean)} (1 {unit})"
    if n < stats.MIN_VALUES_FOR_CI:
        return f"{format_value(mean)} (n = {n} {unit}s: too few for a CI)"
    if math.isnan(low) or math.isnan(high):
        return f"{format_value(mean)} (n = {n} {unit}s; no CI: a value is not finite)"
    return f"{format_value(mean)} [{format_value(low)}, {format_value(high)}] (n = {n} {unit}s)"


def format_interval(low, high, n: int) -> str:
    """``[0.221, 0.257]``, or why there is none (``1 seed``, ``too few seeds``, ``not finite``)."""
    if n <= 1:
        return "1 seed" if n == 1 else ""
    if n < stats.MIN_VALUES_FOR_CI:
        return "too few seeds"
    if math.isnan(low) or math.isnan(high):
        return "a value is not finite"
    return f"[{format_value(low)}, {format_value(high)}]"


def evaluation_runs(results: pd.DataFrame) -> pd.DataFrame:
    """The finished runs the answer rests on: a protocol's confirmation runs, else every run."""
    if results.empty or "status" not in results:
        return results.iloc[0:0]
    finished = results[results["status"].isin(FINISHED) & results["metric"].notna()]
    if "phase" in finished:
        finished = finished[finished["phase"] == "confirm"]
    return finished


def summary_table(results: pd.DataFrame, varying: list[str]) -> pd.DataFrame:
    """Mean, std, count and BCa 95 % CI over seeds per dataset × divergence × varying option × metric,
    with ranks (non-finite means rank last)."""
    columns = ["dataset", "divergence", *varying, "metric", "mean", "std", "count", "ci_low", "ci_high",
               "direction", "rank"]
    finished = evaluation_runs(results)
    if finished.empty:
        return pd.DataFrame(columns=columns)
    groups = ["dataset", "divergence", *varying, "metric"]
    summary = stats.summarise(finished, groups)
    spread = finished.groupby(groups, dropna=False, sort=False)["value"].std().reset_index(name="std")
    summary = summary.merge(spread, on=groups, how="left").rename(columns={"n": "count"})
    summary["direction"] = summary["metric"].map(lambda m: metric_direction(m) or "")
    summary["rank"] = np.nan
    for _, group in summary[summary["direction"].isin(["higher", "lower"])].groupby(["dataset", "metric"]):
        key = stats.sort_key(group["mean"], group["direction"].iloc[0])
        summary.loc[group.index, "rank"] = key.rank(method="min")
    return summary[columns]


def _figure_uri(figure) -> str:
    from fgan_bench.plotting import figure_data_uri

    return figure_data_uri(figure)


def _budget_sentence(state: dict, seeds_by_dataset: dict[str, int]) -> dict[str, str]:
    protocol = state.get("protocol")
    sentences = {}
    for dataset, seeds in seeds_by_dataset.items():
        if protocol:
            replicates = protocol.get("replicates", 1)
            sentences[dataset] = (
                f"budget: {replicates} independent search replicate{'s' if replicates > 1 else ''} per divergence, "
                f"each {protocol['trials']} {protocol['sampler']}-search trials over the same space and its best "
                f"re-run with {len(protocol['confirm_seeds'])} fresh seed(s)"
            )
        else:
            sentences[dataset] = f"budget: one shared setting for every divergence (no tuning), {seeds} seed(s)"
    return sentences


def _percent(value) -> str:
    return f"{100 * value:.0f} %"


def _verdict_clause(rows: list[dict], unit: str) -> str:
    """Which divergences are best / best or not distinguishable / worse, or why there is no verdict."""
    missing = [r for r in rows if r["verdict"] == "no verdict"]
    if len(missing) == len(rows) or len(rows) - len(missing) < 2:
        counts = ", ".join(f"{r['divergence']} {int(r['n'])}" for r in missing)
        hint = " — set [search] replicates ≥ 3" if unit == "search replicate" else ""
        return f"no verdict: a verdict needs {stats.MIN_VALUES_FOR_CI} {unit}s per divergence, there are {counts}{hint}"
    named = {v: [r["divergence"] for r in rows if r["verdict"] == v] for v in
             ("best", "best or not distinguishable", "worse", "no verdict")}
    parts = [f"{', '.join(named['best'])} is best (better than every other)"] if named["best"] else []
    if named["best or not distinguishable"]:
        parts.append(f"best or not distinguishable: {', '.join(named['best or not distinguishable'])}")
    if named["worse"]:
        parts.append(f"worse: {', '.join(named['worse'])}")
    if named["no verdict"]:
        parts.append(f"no verdict (fewer than {stats.MIN_VALUES_FOR_CI} {unit}s): {', '.join(named['no verdict'])}")
    return "; ".join(parts) + " (Welch t-tests, Holm over all pairs, α = 0.05)"


def _stability_clause(rows: list[dict], unit: str) -> str:
    """P(best) per divergence and what a rerun would likely say."""
    probabilities = [r for r in rows if r.get("p_best") == r.get("p_best") and r.get("p_best") is not None]
    if not probabilities:
        return ""
    ordered = sorted(probabilities, key=lambda r: -r["p_best"])
    top = ordered[0]
    text = ("P(best) over a bootstrap of the whole protocol: "
            + ", ".join(f"{r['divergence']} {_percent(r['p_best'])}" for r in ordered)
            + f" — a rerun would likely name {top['divergence']} best ({_percent(top['p_best'])})")
    share = top.get("best_share")
    if share == share and share is not None:
        text += f"; it was best in {_percent(share)} of the {unit}s"
    return text


def _sentence(dataset: str, decision: dict, budget: str) -> str:
    rows, unit = decision["rows"], decision["unit"]
    best = rows[0]
    estimate = format_estimate(best["mean"], best["ci_low"], best["ci_high"], int(best["n"]), unit)
    kind = ", Student-t 95 % interval" if best["ci_low"] == best["ci_low"] else ""
    better = "lower" if decision["direction"] == "lower" else "higher"
    text = (f"On {dataset}, by {decision['metric']} (main metric, {better} is better), {best['divergence']} has the "
            f"best mean: {estimate}{kind}; {_verdict_clause(rows, unit)}")
    stability = _stability_clause(rows, unit)
    if stability:
        text += f". {stability}"
    if decision["disagree"]:
        text += ". Other metric families name another best: " + "; ".join(
            f"{d['family']} ({', '.join(f'best by {m}: {w}' for m, w in d['metrics'].items())})"
            for d in decision["disagree"])
    return text + f" ({budget})."


def _expected_max_figure(table: pd.DataFrame):
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
    return _figure_uri(figure)


def _distribution_figure(scores: pd.DataFrame, metrics: dict[str, str], title: str):
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
    return _figure_uri(figure)


def _main_scores(finished: pd.DataFrame, metrics: dict[str, str], varying: list[str]) -> pd.DataFrame:
    if finished.empty:
        return finished
    scores = finished[finished["metric"] == finished["dataset"].map(metrics)]
    return scores.assign(divergence=scores.apply(lambda r: _label(r, varying), axis=1)) if not scores.empty else scores


def _cd_figure(summary: pd.DataFrame, metrics: dict[str, str], varying: list[str]):
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
    return _figure_uri(figure), result


def _gallery(sweep_dir: Path, runs: pd.DataFrame, dataset_name: str, varying: list[str]):
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


def _class_grid(sweep_dir: Path, runs: pd.DataFrame, dataset_name: str, varying: list[str]):
    """Conditional runs' samples by requested class (:mod:`fgan_bench.sweeps.class_grids`), or ``None``."""
    from fgan_bench.sweeps.class_grids import class_grid_figure

    if runs.empty:
        return None
    figure = class_grid_figure(sweep_dir, runs, dataset_name, lambda run: _label(run, varying))
    return None if figure is None else _figure_uri(figure)


def _curves(history: pd.DataFrame, dataset: str, varying: list[str], run_ids=None):
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
    return _figure_uri(figure)


def _throughput(results: pd.DataFrame):
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
    return _figure_uri(figure)


def _metric_tables(summary: pd.DataFrame, varying: list[str], metrics: dict[str, str]) -> dict[str, dict]:
    """Per dataset: per ranked metric (main first), rows sorted best first with mean, CI and n."""
    tables = {}
    for dataset, group in summary.groupby("dataset", sort=False):
        ranked = group[group["rank"].notna()]
        main = metrics.get(dataset) or main_metric(set(group["metric"]))
        tables[dataset] = {"main": main, "metrics": {}}
        for metric in sorted(ranked["metric"].unique(), key=lambda m: (m != main, m)):
            rows = ranked[ranked["metric"] == metric].sort_values("rank")
            tables[dataset]["metrics"][metric] = [
                {
                    "rank": int(r["rank"]),
                    "label": _label(r, varying),
                    "mean": r["mean"],
                    "ci": format_interval(r["ci_low"], r["ci_high"], int(r["count"])),
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
                "pruned": int((group["status"] == "pruned").sum()),
                "failed": int((group["status"] == "failed").sum()),
                "unfinished": int((group["status"] == "unfinished").sum()),
                "steps": ", ".join(str(int(s)) for s in diverged.get("diverged_step", pd.Series()).dropna()),
                "reasons": "; ".join(sorted(set(group.loc[group["status"] == "failed", "reason"].astype(str)))),
            }
        )
    return rows


def _environment(sweep_dir: Path, results: pd.DataFrame) -> dict:
    for run_id in results["run_id"].unique() if "run_id" in results else ():
        result = rundir.read_result(rundir.run_path(sweep_dir, run_id))
        if result is not None:
            return {"versions": result.get("versions", {}), "device": result.get("device", "")}
    return {"versions": {}, "device": ""}


def _protocol_tables(sweep_dir: Path, state: dict):
    """(trials, expected max) for a protocol; empty frames for a plain sweep."""
    from fgan_bench.sweeps.protocol import write_trials

    trials = write_trials(sweep_dir, state) if "protocol" in state else None
    if trials is None or trials.empty:
        return pd.DataFrame(), pd.DataFrame()
    scored = trials[trials["state"].isin(["complete", "pruned"]) & trials["value"].notna()]
    table = stats.expected_max_table(scored, lambda metric: metric_direction(metric) or "lower")
    rundir.write_csv_atomically(table, sweep_dir / EXPECTED_MAX)
    return trials, table


def write_report(sweep_dir: str | Path) -> Path:
    """Writes the tables and ``report.html``; returns the HTML's path."""
    import jinja2
    import matplotlib

    matplotlib.use("Agg")
    from fgan_bench.datasets.user_data import dataset_label
    from fgan_bench.sweeps.state import load_sweep_state
    from fgan_bench.sweeps.tuning import tuning_section

    sweep_dir = Path(sweep_dir)
    state = load_sweep_state(sweep_dir)
    configs, varying = state["configs"], state["varying"]
    protocol = state.get("protocol")
    results, history = write_tables(sweep_dir, configs, varying, protocol["phase"] if protocol else None)
    datasets = list(dict.fromkeys(c.dataset for c in configs))
    metrics = dict(protocol["metrics"]) if protocol else {}
    summary = summary_table(results, varying)
    for dataset in datasets:
        if dataset not in metrics:
            metric = main_metric(set(summary.loc[summary["dataset"] == dataset, "metric"]))
            if metric:
                metrics[dataset] = metric
    rundir.write_csv_atomically(summary, sweep_dir / SUMMARY)
    finished = evaluation_runs(results)
    replicate_of_seed = protocol.get("replicate_of_seed", {}) if protocol else None
    decisions, answer_table = answers(finished, varying, metrics, summary, replicate_of_seed)
    rundir.write_csv_atomically(answer_table, sweep_dir / ANSWER)
    trials, expected = _protocol_tables(sweep_dir, state)
    seeds = finished.groupby("dataset")["seed"].nunique().to_dict() if not finished.empty else {}
    budgets = _budget_sentence(state, seeds)
    sentences = {d: _sentence(dataset_label(d), decisions[d], budgets[d]) for d in datasets if d in decisions}
    runs = results.drop_duplicates("run_id") if not results.empty else results
    evaluated = runs[runs["run_id"].isin(set(finished["run_id"]))] if not finished.empty else runs.iloc[0:0]
    if not trials.empty:
        scores = trials[["dataset", "divergence", "value", "state"]]
        title = "score of every search trial (pruned: its last intermediate value)"
        distribution = _distribution_figure(scores, metrics, title)
    else:
        scores = _main_scores(finished, metrics, varying)
        distribution = _distribution_figure(scores, metrics, "main metric, every seed")
    cd_figure, cd_result = _cd_figure(summary, metrics, varying)
    across = across_section(sweep_dir, finished, varying, metrics, replicate_of_seed)
    counts = runs["status"].value_counts().to_dict() if not runs.empty else {}
    csv_files = [name for name in ("answer.csv", "summary.csv", "results.csv", "history.csv", "trials.csv",
                                   EXPECTED_MAX, AGGREGATE) if (sweep_dir / name).exists()]
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("fgan_bench", "templates"), autoescape=jinja2.select_autoescape(["html", "j2"])
    )
    environment.filters["number"] = format_value
    run_columns = [c for c in ("run_id", *KEY_COLUMNS, *varying, "phase", "status", "wall_time_s", "steps_per_second",
                               "reason") if c in runs]
    html = environment.get_template("report.html.j2").render(
        name=state["name"],
        description=state.get("description", ""),
        datasets=datasets,
        dataset_names={d: dataset_label(d) for d in datasets},
        protocol=protocol,
        counts=counts,
        total_runs=len(runs),
        wall_time=float(runs["wall_time_s"].fillna(0).sum()) if "wall_time_s" in runs else 0.0,
        sentences=sentences,
        decisions=decisions,
        expected_max=_expected_max_figure(expected),
        distribution=distribution,
        cd_figure=cd_figure,
        cd_datasets=cd_result["datasets"] if cd_result else 0,
        separation=rank_separation(cd_result),
        min_cd_datasets=stats.MIN_DATASETS_FOR_CD,
        rankings=_metric_tables(summary, varying, metrics),
        curves={d: _curves(history, d, varying, set(evaluated["run_id"]) if protocol else None) for d in datasets},
        galleries={d: _gallery(sweep_dir, evaluated, d, varying) for d in datasets},
        class_grids={d: _class_grid(sweep_dir, evaluated, d, varying) for d in datasets},
        stability=_stability(results, varying) if not results.empty else [],
        throughput=_throughput(results) if not results.empty else None,
        runs=runs[run_columns].to_dict("records") if not runs.empty else [],
        run_columns=run_columns,
        csv_files=csv_files,
        **tuning_section(sweep_dir, state, results),
        **across,
        sweep_file=state["text"],
        environment=_environment(sweep_dir, results),
    )
    path = sweep_dir / REPORT
    rundir.write_bytes_atomically(path, html.encode())
    return path
