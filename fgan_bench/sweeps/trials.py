"""``trials.csv``: a protocol's search trials, one row each, read from its study storage.

:func:`write_trials` is the file's one writer (the protocol driver calls it when it ends, the
report when it renders, so a report of a protocol still running shows its latest trials).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fgan_bench import rundir

TRIALS = "trials.csv"


def trials_table(sweep_dir: str | Path, state: dict[str, Any]):
    """``trials.csv``: one row per in-budget trial — dataset, divergence, trial, state, metric,
    value (a pruned trial's last intermediate value), pruned step, run id and parameters."""
    import pandas as pd

    from fgan_bench.pruning import open_protocol_storage, protocol_studies

    protocol = state["protocol"]
    rows = []
    for dataset, divergence, study in protocol_studies(protocol, open_protocol_storage(protocol, sweep_dir)):
        for trial in study.get_trials(deepcopy=False):
            if trial.number >= protocol["trials"] * protocol.get("replicates", 1):
                continue
            rows.append(
                {
                    "dataset": dataset,
                    "divergence": divergence,
                    "trial": trial.number,
                    "replicate": trial.number // protocol["trials"],
                    "state": trial.state.name.lower(),
                    "metric": protocol["metrics"][dataset],
                    "value": trial.value,
                    "pruned_step": trial.last_step if trial.state.name == "PRUNED" else None,
                    "run_id": trial.user_attrs.get("run_id", ""),
                    "reason": trial.user_attrs.get("reason", ""),
                    **{f"param_{k}": v for k, v in trial.params.items()},
                }
            )
    columns = ["dataset", "divergence", "trial", "replicate", "state", "metric", "value", "pruned_step", "run_id",
               "reason"]
    return pd.DataFrame(rows, columns=None if rows else columns)


def write_trials(sweep_dir: Path, state: dict[str, Any]):
    """Writes ``trials.csv`` from the study storage; returns the table (None for a plain sweep).

    ``state``: the sweep folder's ``sweep.json``.
    """

    if "protocol" not in state:
        return None
    try:
        table = trials_table(sweep_dir, state)
    except Exception:  # noqa: BLE001 - a storage out of reach (moved folder, no database): keep the old table
        import pandas as pd

        path = Path(sweep_dir) / TRIALS
        return pd.read_csv(path) if path.exists() else None
    rundir.write_csv_atomically(table, Path(sweep_dir) / TRIALS)
    return table
