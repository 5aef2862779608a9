"""Running a sweep: every run in its own process, N at once, safe to kill and run again.

Safety comes from the run directory, not from bookkeeping in the sweep:

* a run is done exactly when its ``result.json`` exists (written atomically, last);
* a run with a checkpoint but no result is resumed from the checkpoint;
* while a process trains a run it holds an exclusive ``flock`` on ``<run>/.lock``; a
  second sweep (or an orphaned worker of a killed one) waits for it instead of training the
  same run twice, and the lock dies with its process, so SIGKILL never leaves it held;
* a run that raises is recorded in ``<run>/failure.json`` with its one-line reason, and the
  sweep goes on.

The tables (:mod:`fgan_bench.sweeps.results`) are derived afresh from the run directories,
so they can never hold a duplicate or half-written row.
"""

from __future__ import annotations

import concurrent.futures
import fcntl
import json
import multiprocessing
import os
import re
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fgan_bench.config import RunConfig
from fgan_bench.errors import FganBenchError

FAILURE = "failure.json"
LOCK = ".lock"
EXECUTORS = ("local", "ray")


def one_line_reason(error: BaseException) -> str:
    """``Type: message`` on one line; for errors raised inside a ``tf.function`` (whose message
    starts with "in user code:" and a traceback), the original error's last line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    last = lines[-1]
    if re.match(r"^[A-Za-z_][\w.]*(Error|Exception):", last):
        return last
    return f"{type(error).__name__}: {last}"


def run_in_this_process(config: dict[str, Any], sweep_dir: str, threads: int) -> dict[str, Any]:
    """Trains one run (or finds it done) under the run's lock; returns a short outcome.

    Meant to be the body of a fresh worker process: it limits TensorFlow's threads first.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    config_object = RunConfig.from_dict(config)
    directory = Path(sweep_dir) / "runs" / config_object.run_id
    directory.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(directory / LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released by the OS if this process dies
        if (directory / "result.json").exists():
            result = json.loads((directory / "result.json").read_text())
            return {"run_id": config_object.run_id, "status": result["status"], "already_done": True}
        try:
            import tensorflow as tf

            from fgan_bench.plugins import load_plugins
            from fgan_bench.runner import run, write_json_atomically

            if threads > 0:
                tf.config.threading.set_intra_op_parallelism_threads(threads)
                tf.config.threading.set_inter_op_parallelism_threads(threads)
            load_plugins(config_object.plugins)
            (directory / FAILURE).unlink(missing_ok=True)
            result = run(config_object, sweep_dir, resume=True, progress=False)
            return {
                "run_id": config_object.run_id,
                "status": result["status"],
                "seconds": time.perf_counter() - started,
            }
        except Exception as error:  # noqa: BLE001 - one failed run must not stop the sweep
            reason = one_line_reason(error)
            write_json_atomically(
                directory / FAILURE,
                {"run_id": config_object.run_id, "reason": reason, "traceback": traceback.format_exc()},
            )
            return {"run_id": config_object.run_id, "status": "failed", "reason": reason}


def _local(
    configs: Sequence[RunConfig], sweep_dir: Path, jobs: int, threads: int, report: Callable[[dict[str, Any]], None]
) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("spawn")
    outcomes = []
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context, max_tasks_per_child=1) as pool:
        futures = [pool.submit(run_in_this_process, c.to_dict(), str(sweep_dir), threads) for c in configs]
        for future in concurrent.futures.as_completed(futures):
            outcomes.append(future.result())
            report(outcomes[-1])
    return outcomes


def _ray(
    configs: Sequence[RunConfig], sweep_dir: Path, jobs: int, threads: int, report: Callable[[dict[str, Any]], None]
) -> list[dict[str, Any]]:
    try:
        import ray
    except ImportError:
        raise FganBenchError("--executor ray needs Ray: pip install 'fgan-bench[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), include_dashboard=False, log_to_driver=False)
    remote = ray.remote(num_cpus=max(threads, 1), max_calls=1)(run_in_this_process)
    pending = [remote.remote(c.to_dict(), str(sweep_dir), threads) for c in configs]
    outcomes = []
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        outcomes.append(ray.get(done[0]))
        report(outcomes[-1])
    return outcomes


def execute(
    configs: Sequence[RunConfig],
    sweep_dir: str | Path,
    *,
    jobs: int = 1,
    executor: str = "local",
    report: Callable[[dict[str, Any]], None] = lambda outcome: None,
) -> list[dict[str, Any]]:
    """Runs every config not done yet; returns one outcome per config (``status``, ``reason``).

    Args:
        configs: resolved run configs.
        sweep_dir: the sweep's folder; runs go to ``<sweep_dir>/runs/<run-id>/``.
        jobs: runs at once; the machine's cores are split between them.
        executor: ``"local"`` (processes on this machine) or ``"ray"`` (Ray tasks, on the
            cluster at ``$RAY_ADDRESS`` or a local Ray).
        report: called with each outcome as it arrives.
    """
    if executor not in EXECUTORS:
        raise FganBenchError(f"--executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if jobs < 1:
        raise FganBenchError(f"--jobs must be at least 1, got {jobs}")
    sweep_dir = Path(sweep_dir)
    (sweep_dir / "runs").mkdir(parents=True, exist_ok=True)
    threads = max(1, (os.cpu_count() or 1) // jobs)
    if not configs:
        return []
    return (_ray if executor == "ray" else _local)(configs, sweep_dir, jobs, threads, report)
