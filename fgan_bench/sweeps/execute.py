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
import re
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fgan_bench import rundir
from fgan_bench.config import RunConfig
from fgan_bench.errors import FganBenchError

FAILURE = rundir.FAILURE
LOCK = rundir.LOCK
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
