"""The report of a sweep or protocol: CSV tables and one self-contained ``report.html``.

The report answers first: per dataset, one sentence (:mod:`fgan_bench.sweeps.report_text`).
Then the evidence (:mod:`fgan_bench.sweeps.report_figures`):
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

from pathlib import Path

import numpy as np
import pandas as pd

from fgan_bench import rundir, stats
from fgan_bench.metrics import metric_direction
from fgan_bench.metrics.main_metric import main_metric
from fgan_bench.sweeps import report_figures as figures
from fgan_bench.sweeps.across import AGGREGATE, across_section
from fgan_bench.sweeps.answer import answers, rank_separation
from fgan_bench.sweeps.answer import run_label as _label
from fgan_bench.sweeps.report_text import answer_sentence, budget_sentences, format_interval, format_value
from fgan_bench.sweeps.results import KEY_COLUMNS, write_tables

SUMMARY = "summary.csv"
ANSWER = "answer.csv"
EXPECTED_MAX = "expected_max.csv"
REPORT = "report.html"
FINISHED = ("completed", "diverged")


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


def _main_scores(finished: pd.DataFrame, metrics: dict[str, str], varying: list[str]) -> pd.DataFrame:
    if finished.empty:
        return finished
    scores = finished[finished["metric"] == finished["dataset"].map(metrics)]
    return scores.assign(divergence=scores.apply(lambda r: _label(r, varying), axis=1)) if not scores.empty else scores



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
    from fgan_bench.sweeps.trials import write_trials

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
    budgets = budget_sentences(state, seeds)
    sentences = {d: answer_sentence(dataset_label(d), decisions[d], budgets[d]) for d in datasets if d in decisions}
    runs = results.drop_duplicates("run_id") if not results.empty else results
    evaluated = runs[runs["run_id"].isin(set(finished["run_id"]))] if not finished.empty else runs.iloc[0:0]
    if not trials.empty:
        scores = trials[["dataset", "divergence", "value", "state"]]
        title = "score of every search trial (pruned: its last intermediate value)"
        distribution = figures.distribution_figure(scores, metrics, title)
    else:
        scores = _main_scores(finished, metrics, varying)
        distribution = figures.distribution_figure(scores, metrics, "main metric, every seed")
    curve_runs = set(evaluated["run_id"]) if protocol else None
    cd_figure, cd_result = figures.cd_figure(summary, metrics, varying)
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
        expected_max=figures.expected_max_figure(expected),
        distribution=distribution,
        cd_figure=cd_figure,
        cd_datasets=cd_result["datasets"] if cd_result else 0,
        separation=rank_separation(cd_result),
        min_cd_datasets=stats.MIN_DATASETS_FOR_CD,
        rankings=_metric_tables(summary, varying, metrics),
        curves={d: figures.curves_figure(history, d, varying, curve_runs) for d in datasets},
        galleries={d: figures.gallery_figure(sweep_dir, evaluated, d, varying) for d in datasets},
        class_grids={d: figures.class_grid_image(sweep_dir, evaluated, d, varying) for d in datasets},
        stability=_stability(results, varying) if not results.empty else [],
        throughput=figures.throughput_figure(results) if not results.empty else None,
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

