"""The protocol report's section for a tuner: per study (dataset × divergence) the winning
hyperparameters, how much each mattered, and links to the run directories behind them.

Importances are Optuna's fANOVA (``optuna.importance.FanovaImportanceEvaluator``, seeded):
the share of the score's variance over the completed trials that each searched parameter
explains, summing to 1. They need at least two completed trials that differ; with fewer the
section says so instead of inventing numbers. A divergence that does not come with the
package (a plugin) is marked with where it was registered from.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

#: Fewest completed trials fANOVA is asked to explain.
MIN_TRIALS_FOR_IMPORTANCE = 2


@dataclasses.dataclass(frozen=True)
class StudySummary:
    """One study's best trial for the report.

    Attributes:
        dataset, divergence: the study's pair (the dataset as its heading label).
        plugin: where a plugin divergence was registered from; empty for a built-in.
        best_trial, best_value, metric: the winning trial's number and score.
        parameters: its hyperparameters, ``{name: value}``.
        importances: ``{name: share of variance}``, most important first; empty when
            too few trials completed (``importance_note`` says why).
        best_run: the best trial's run directory, relative to the report.
        confirmation_runs: the confirmation runs' directories, relative to the report.
    """

    dataset: str
    divergence: str
    plugin: str
    best_trial: int
    best_value: float
    metric: str
    parameters: dict[str, Any]
    importances: dict[str, float]
    importance_note: str
    best_run: str
    confirmation_runs: tuple[str, ...]


def tuning_section(sweep_dir: Path, state: dict[str, Any], results) -> dict[str, Any]:
    """The template variables of the tuner's section (``tuning.html.j2``): the studies, and the
    command that opens a journal storage in optuna-dashboard."""
    journal = Path(sweep_dir) / "study.journal"
    hint = f"optuna-dashboard {journal}" if journal.exists() else ""
    return {"tuning": study_summaries(state, results, sweep_dir), "storage_hint": hint}


def study_summaries(state: dict[str, Any], results, sweep_dir: Path | None = None) -> list[StudySummary]:
    """One :class:`StudySummary` per study with a completed trial; empty for a plain sweep or
    a storage out of reach. ``results``: the sweep's ``results.csv`` table (for the phases);
    ``sweep_dir``: where the sweep folder is now (its journal is stored relative to it)."""
    if "protocol" not in state:
        return []
    import optuna

    from fgan_bench.pruning import open_protocol_storage, protocol_studies

    protocol = state["protocol"]
    try:
        storage = open_protocol_storage(protocol, sweep_dir)
    except Exception:  # noqa: BLE001 - a moved folder or an unreachable database: no section, the rest stands
        return []
    summaries = []
    for dataset, divergence, study in protocol_studies(protocol, storage):
        completed = [t for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
                     if t.number < protocol["trials"] and t.value is not None]
        if completed:
            summaries.append(_summary(study, completed, dataset, divergence, protocol["metrics"][dataset], results))
    return summaries


def _summary(study, completed, dataset: str, divergence: str, metric: str, results) -> StudySummary:
    from fgan_bench.datasets.user_data import dataset_label

    pick = min if study.direction.name == "MINIMIZE" else max
    best = pick(completed, key=lambda t: t.value)
    importances, note = parameter_importances(study, completed)
    confirm = ()
    if results is not None and not results.empty and "phase" in results:
        rows = results[(results["dataset"] == dataset) & (results["divergence"] == divergence)
                       & (results["phase"] == "confirm")]
        confirm = tuple(f"runs/{r}/" for r in dict.fromkeys(rows["run_id"]))
    run_id = best.user_attrs.get("run_id", "")
    return StudySummary(
        dataset=dataset_label(dataset), divergence=divergence, plugin=plugin_source(divergence),
        best_trial=best.number, best_value=float(best.value), metric=metric, parameters=dict(best.params),
        importances=importances, importance_note=note, best_run=f"runs/{run_id}/" if run_id else "",
        confirmation_runs=confirm,
    )


def parameter_importances(study, completed) -> tuple[dict[str, float], str]:
    """(fANOVA importances, most important first; a note when they cannot be computed)."""
    import optuna

    varied = {name for name in completed[0].params if len({t.params.get(name) for t in completed}) > 1}
    if len(completed) < MIN_TRIALS_FOR_IMPORTANCE or not varied:
        return {}, f"importances need at least {MIN_TRIALS_FOR_IMPORTANCE} completed trials that differ " \
                   f"(this study has {len(completed)})"
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
    importances = optuna.importance.get_param_importances(study, evaluator=evaluator, normalize=True)
    return {k: float(v) for k, v in importances.items()}, ""


def plugin_source(divergence: str) -> str:
    """Where a plugin divergence was registered from (``plugin chi_k.py``); empty for a built-in."""
    from fgan_bench import divergences
    from fgan_bench.registry import parse_spec

    name = parse_spec(divergence).name
    for entry in divergences.divergence_entries():
        if entry.name == name:
            if entry.source == "builtin":
                return ""
            kind, _, path = entry.source.partition(" ")
            return f"{kind} {Path(path).name}" if path else entry.source
    return "plugin (not loaded here)"  # every built-in is registered: an unknown name came from a plugin
