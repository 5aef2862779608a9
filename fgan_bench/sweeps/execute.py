"""Running a sweep: N runs at once in worker processes, safe to kill and run again.

Workers are reused across runs: TensorFlow is imported once per worker, not once per run
(about 6 s on two cores), and Keras' global state is cleared between runs
(``keras.backend.clear_session``). A run whose config sets ``isolate = true`` gets a fresh
process of its own.

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
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fgan_bench import rundir
from fgan_bench.config import RunConfig
from fgan_bench.errors import FganBenchError, one_line_reason

FAILURE = rundir.FAILURE
LOCK = rundir.LOCK
EXECUTORS = ("local", "ray")


def start_worker(threads: int) -> None:
    """A worker process's set-up, once: TensorFlow imported quietly, its thread pools sized."""
    from fgan_bench._lazy import import_tensorflow_quietly

    import_tensorflow_quietly()
    import tensorflow as tf

    if threads > 0:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # already initialised in this process (a reused in-process call)
            pass


def run_in_this_process(config: dict[str, Any], sweep_dir: str, threads: int) -> dict[str, Any]:
    """Trains one run (or finds it done) under the run's lock; returns a short outcome.

    The body of a worker process, fresh or reused: Keras' global state (names, the
    mixed-precision policy) is reset before the run.
    """
    config_object = RunConfig.from_dict(config)
    directory = rundir.run_path(sweep_dir, config_object.run_id)
    directory.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(directory / LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released by the OS if this process dies
        if rundir.is_done(directory):
            result = rundir.read_json(directory / rundir.RESULT)
            return {"run_id": config_object.run_id, "status": result["status"], "already_done": True}
        try:
            start_worker(threads)
            import keras

            from fgan_bench.plugins import load_plugins
            from fgan_bench.runner import run

            keras.backend.clear_session()
            keras.mixed_precision.set_global_policy("float32")
            load_plugins(config_object.plugins)
            (directory / FAILURE).unlink(missing_ok=True)
            result = run(config_object, sweep_dir, resume=True, progress=False)
            return {
                "run_id": config_object.run_id,
                "status": result["status"],
                "seconds": time.perf_counter() - started,
                "train_seconds": result.get("wall_time_s"),
                "evaluation_seconds": sum((result.get("evaluation_seconds") or {}).values()),
            }
        except Exception as error:  # noqa: BLE001 - one failed run must not stop the sweep
            reason = one_line_reason(error)
            rundir.write_json_atomically(
                directory / FAILURE,
                {"run_id": config_object.run_id, "reason": reason, "traceback": traceback.format_exc()},
            )
            return {"run_id": config_object.run_id, "status": "failed", "reason": reason}


def _local(
    configs: Sequence[RunConfig], sweep_dir: Path, jobs: int, threads: int, report: Callable[[dict[str, Any]], None]
) -> list[dict[str, Any]]:
    """At most ``jobs`` runs at once: shared runs in a pool of reused workers, isolated runs each
    in a fresh process (a pool whose workers exit after one run)."""
    context = multiprocessing.get_context("spawn")
    arguments = dict(max_workers=jobs, mp_context=context, initializer=start_worker, initargs=(threads,))
    shared = concurrent.futures.ProcessPoolExecutor(**arguments)
    isolated = concurrent.futures.ProcessPoolExecutor(**arguments, max_tasks_per_child=1)
    queue = list(configs)
    running: set[concurrent.futures.Future] = set()
    outcomes = []
    try:
        while queue or running:
            while queue and len(running) < jobs:
                config = queue.pop(0)
                pool = isolated if config.isolate else shared
                running.add(pool.submit(run_in_this_process, config.to_dict(), str(sweep_dir), threads))
            done, running = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                outcomes.append(future.result())
                report(outcomes[-1])
    finally:
        for pool in (shared, isolated):
            pool.shutdown(wait=True, cancel_futures=True)
    return outcomes


def _ray(configs: Sequence[RunConfig], sweep_dir: Path, resources: dict[str, float], report) -> list[dict[str, Any]]:
    from fgan_bench.sweeps.ray_executor import run_on_ray

    return run_on_ray(configs, sweep_dir, **resources, report=report)


def execute(
    configs: Sequence[RunConfig],
    sweep_dir: str | Path,
    *,
    jobs: int = 1,
    executor: str = "local",
    report: Callable[[dict[str, Any]], None] = lambda outcome: None,
    cpus_per_run: float | None = None,
    gpus_per_run: float = 0,
) -> list[dict[str, Any]]:
    """Runs every config not done yet; returns one outcome per config (``status``, ``reason``).

    Args:
        configs: resolved run configs.
        sweep_dir: the sweep's folder; runs go to ``<sweep_dir>/runs/<run-id>/``.
        jobs: runs at once; the machine's cores are split between them.
        executor: ``"local"`` (processes on this machine) or ``"ray"`` (Ray tasks, on the
            cluster at ``$RAY_ADDRESS`` or a local Ray; see :mod:`fgan_bench.sweeps.ray_executor`).
        report: called with each outcome as it arrives.
        cpus_per_run, gpus_per_run: the resources each run's Ray task requests (default: this
            machine's cores split by ``jobs``, and no GPU); a fraction of a GPU packs runs onto it.
    """
    if executor not in EXECUTORS:
        raise FganBenchError(f"--executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if jobs < 1:
        raise FganBenchError(f"--jobs must be at least 1, got {jobs}")
    if executor == "local" and (cpus_per_run is not None or gpus_per_run):
        raise FganBenchError("--cpus-per-run and --gpus-per-run are for --executor ray; locally, use --jobs")
    if (cpus_per_run is not None and cpus_per_run <= 0) or gpus_per_run < 0:
        raise FganBenchError(
            f"--cpus-per-run must be positive and --gpus-per-run at least 0, got {cpus_per_run} and {gpus_per_run}"
        )
    sweep_dir = Path(sweep_dir)
    (sweep_dir / "runs").mkdir(parents=True, exist_ok=True)
    threads = max(1, (os.cpu_count() or 1) // jobs)
    if not configs:
        return []
    if executor == "ray":
        return _ray(configs, sweep_dir, {"cpus_per_run": cpus_per_run or threads, "gpus_per_run": gpus_per_run}, report)
    return _local(configs, sweep_dir, jobs, threads, report)
