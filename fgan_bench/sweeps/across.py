"""The report's across-dataset IQM and probability-of-improvement section (``across.html.j2``) and
``aggregate.csv``: :func:`fgan_bench.aggregate.across_datasets` on the values the answer rests on
(a protocol's search replicates, a plain sweep's seeds) of each dataset's main metric."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from fgan_bench import rundir
from fgan_bench.aggregate import MIN_DATASETS, MIN_VALUES, AcrossDatasets, across_datasets
from fgan_bench.metrics import metric_direction
from fgan_bench.sweeps.answer import replicate_scores, run_label

AGGREGATE = "aggregate.csv"


def main_metric_values(finished: pd.DataFrame, varying: list[str], metrics: dict[str, str],
                       replicate_of_seed: dict[str, int] | None) -> pd.DataFrame:
    """One row per dataset × divergence label × unit (replicate or seed): ``dataset``, ``divergence``, ``value``."""
    frames = []
    for dataset, group in finished.groupby("dataset", sort=False) if not finished.empty else ():
        scores = group[group["metric"] == metrics.get(dataset)]
        if scores.empty or metric_direction(metrics[dataset]) is None:
            continue
        scores = scores.assign(divergence=scores.apply(lambda row: run_label(row, varying), axis=1))
        frames.append(replicate_scores(scores, replicate_of_seed).assign(dataset=dataset))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["dataset", "divergence", "value"])


def separation_sentence(view: AcrossDatasets, unit: str) -> str:
    """Whether the IQM intervals separate the best divergence from the others, in one sentence."""
    best = view.iqm[0].divergence
    if not view.has_intervals:
        leaders = [e.divergence for e in view.iqm if e.value == view.iqm[0].value]
        named = f"{best} has the best IQM" if len(leaders) == 1 else f"{', '.join(leaders)} share the best IQM"
        return (f"No intervals: they need {MIN_VALUES} {unit}s per dataset and divergence; "
                f"{named}, which may not survive a rerun.")
    tied = view.inseparable_from_best()
    if len(tied) == 1:
        return f"{best} has the best IQM and its interval overlaps no other divergence's."
    return (f"The IQM intervals of {', '.join(tied)} overlap: the across-dataset view cannot separate "
            f"{'them' if len(tied) == len(view.iqm) else f'{best} from them'}.")


def across_section(sweep_dir: Path, finished: pd.DataFrame, varying: list[str], metrics: dict[str, str],
                   replicate_of_seed: dict[str, int] | None) -> dict[str, Any]:
    """The template variables of the section; writes ``aggregate.csv`` when there is a view."""
    values = main_metric_values(finished, varying, metrics, replicate_of_seed)
    view = across_datasets(values, lambda dataset: metric_direction(metrics[dataset])) if not values.empty else None
    if view is None:
        return {"across": None, "across_min_datasets": MIN_DATASETS}
    rundir.write_csv_atomically(view.table(), Path(sweep_dir) / AGGREGATE)
    unit = "seed" if replicate_of_seed is None else "search replicate"
    return {"across": view, "across_sentence": separation_sentence(view, unit), "across_min_datasets": MIN_DATASETS}
