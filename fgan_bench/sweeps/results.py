"""A sweep's results as tidy pandas tables, derived from its run directories.

* :func:`results_table` — one row per run × metric: the run's whole config as columns, its
  status (``completed``, ``diverged``, ``pruned``, ``failed``, ``unfinished``), the failure
  reason, divergence step or pruning step, wall time and throughput, then ``metric`` and ``value``. Final training
  values (``final_metrics``) and evaluation metrics (``quality``) both appear, the latter
  prefixed by nothing, the former by ``train/``.
* :func:`history_table` — one row per run × step × logged value, from ``metrics.csv``.

Both are rebuilt from the run directories every time, so a killed sweep can never leave a
duplicate or a half-written row in them; ``write_tables`` writes them atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from fgan_bench import rundir
from fgan_bench.config import RunConfig

RESULTS = "results.csv"
HISTORY = "history.csv"
#: Config columns that identify a run in tables and figures (the rest stay in results.csv).
KEY_COLUMNS = ("dataset", "divergence", "seed")


def _config_columns(config: RunConfig) -> dict:
    return {k: (",".join(v) if isinstance(v, list) else v) for k, v in config.to_dict().items()}


def run_record(directory: Path, config: RunConfig) -> tuple[dict, dict[str, float]]:
    """(the run's columns, its metrics) from its directory."""
    record = {"run_id": config.run_id, **_config_columns(config)}
    metrics: dict[str, float] = {}
    result, failure = rundir.read_result(directory), rundir.read_failure(directory)
    if result is not None:
        record.update(
            status=result["status"],
            wall_time_s=result.get("wall_time_s"),
            steps_per_second=result.get("steps_per_second"),
            steps_done=result.get("steps"),
            diverged_step=(result.get("diverged") or {}).get("step"),
            reason="; ".join(result.get("warnings", ())),  # a completed run's warnings (a saturated critic)
        )
        if result["status"] == "diverged":
            record["reason"] = (result.get("diverged") or {}).get("reason") or (
                f"non-finite loss or weights at step {record['diverged_step']}")
        if result["status"] == "pruned":
            pruned = result.get("pruned", {})
            record["pruned_step"] = pruned.get("step")
            record["reason"] = f"pruned at step {pruned.get('step')} ({pruned.get('metric')} {pruned.get('value')})"
        metrics.update(
            {f"train/{k}": v for k, v in result.get("final_metrics", {}).items() if k not in ("step", "wall_time_s")}
        )
        metrics.update(result.get("quality", {}))
    elif failure is not None:
        record.update(status="failed", reason=failure)
    elif problem := rundir.result_problem(directory):  # a corrupt result.json is not a result: run the sweep again
        record.update(status="unfinished", reason=problem)
    else:
        record.update(status="unfinished", reason="not run to the end yet")
    return record, metrics


def results_table(
    sweep_dir: str | Path, configs: Sequence[RunConfig], phases: dict[str, str] | None = None
) -> pd.DataFrame:
    """One row per run × metric (a run without metrics keeps one row with ``metric`` empty).

    ``phases`` (a protocol's run id → ``search``/``confirm``) adds a ``phase`` column.
    """
    rows = []
    for config in configs:
        record, metrics = run_record(Path(sweep_dir) / "runs" / config.run_id, config)
        if phases is not None:
            record["phase"] = phases.get(config.run_id, "")
        if not metrics:
            rows.append({**record, "metric": None, "value": np.nan})
        rows.extend({**record, "metric": name, "value": float(value)} for name, value in metrics.items())
    return pd.DataFrame(rows)


def history_table(sweep_dir: str | Path, configs: Sequence[RunConfig], varying: Sequence[str] = ()) -> pd.DataFrame:
    """One row per run × step × logged value, with the key config columns (and ``varying`` ones)."""
    frames = []
    for config in configs:
        history = rundir.read_history(rundir.run_path(sweep_dir, config.run_id))
        if history is None:
            continue
        history = history.melt(id_vars=["step", "wall_time_s"], var_name="metric", value_name="value")
        history = history.dropna(subset=["value"])
        columns = _config_columns(config)
        for name in ("run_id", *KEY_COLUMNS, *varying):
            history[name] = config.run_id if name == "run_id" else columns[name]
        frames.append(history)
    if not frames:
        return pd.DataFrame(columns=["run_id", *KEY_COLUMNS, "step", "wall_time_s", "metric", "value"])
    return pd.concat(frames, ignore_index=True)


def write_tables(
    sweep_dir: str | Path, configs: Sequence[RunConfig], varying: Sequence[str] = (), phases: dict | None = None
):
    """Writes ``results.csv`` and ``history.csv``; returns both frames."""
    sweep_dir = Path(sweep_dir)
    results = results_table(sweep_dir, configs, phases)
    history = history_table(sweep_dir, configs, varying)
    rundir.write_csv_atomically(results, sweep_dir / RESULTS)
    rundir.write_csv_atomically(history, sweep_dir / HISTORY)
    return results, history
