"""Running a sweep: N runs at once in worker processes, safe to kill and run again.

Workers are reused across runs: TensorFlow is imported once per worker, not once per run
(about 6 s on two cores), and Keras' global state is cleared between runs
(``keras.backend.clear_session``). A run whose config sets ``isolate = true`` gets a fresh
process of its own.

Safety comes from the run directory, not from bookkeeping in the sweep:

* a run is done exactly when its ``result.json`` exists (written atomically, last);
* a run with a checkpoint but no result is resumed from the checkpoint;
* while a process trains a run it holds an exclusive ``flock`` on ``<run>/.lock``
  (:meth:`fgan_bench.rundir.RunDirectory.lock`); a second sweep (or an orphaned worker of a killed
  one) waits for it instead of training the same run twice, and the lock dies with its
  process, so SIGKILL never leaves it held;
* a run that raises is recorded in ``<run>/failure.json`` with its one-line reason, and the
  sweep goes on;
* a worker killed from outside (SIGKILL, as the out-of-memory killer does) breaks its pool:
  the run it held (named in the run's lock file) is recorded as failed with the signal, the
  pool is replaced, and the runs the broken pool took down with it are queued again;
* Ctrl-C: workers ignore SIGINT; the sweep's handler only sets a flag, which the loop reads
  at least every quarter second (an exception raised at an arbitrary point inside
  ``concurrent.futures`` can leave one of its locks held and hang the sweep), then
  terminates the workers (a checkpoint is replaced atomically, so the last one stays),
  cancels the queued runs and raises :class:`SweepInterrupted` with what is done and what
  is pending.

The tables (:mod:`fgan_bench.sweeps.results`) are derived afresh from the run directories,
so they can never hold a duplicate or half-written row.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fgan_bench import rundir
from fgan_bench.config import RunConfig
from fgan_bench.errors import FganBenchError, one_line_reason
from fgan_bench.run_records import Outcome
from fgan_bench.rundir import RunDirectory
from fgan_bench.sweeps.worker_pools import WorkerPools, start_worker, threads_per_job

EXECUTORS = ("local", "ray")


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep: ``outcomes`` of the runs that finished, ``pending`` configs."""

    def __init__(self, outcomes: list[Outcome], pending: list[RunConfig]):
        super().__init__()
        self.outcomes, self.pending = outcomes, pending


def run_in_this_process(config: dict[str, Any], sweep_dir: str, threads: int) -> Outcome:
    """Trains one run (or finds it done) under the run's lock; returns its outcome.

    The body of a worker process, fresh or reused: Keras' global state (names, the
    mixed-precision policy) is reset before the run. A protocol trial's run gets its pruning
    callback here (:func:`trial_callbacks`): the runner knows nothing of protocols.
    """
    config_object = RunConfig.from_dict(config)
    directory = RunDirectory.of(sweep_dir, config_object.run_id).make()
    started = time.perf_counter()
    with directory.lock(wait=True):  # released by the OS if this process dies
        result = directory.read_result()
        if result is not None:
            return Outcome.of_result(config_object.run_id, result.found_done())
        try:
            _fresh_keras(threads, config_object.plugins)
            from fgan_bench.runner import run

            resolved = config_object.resolve()
            result = run(resolved, sweep_dir, resume=True, progress=False,
                         callbacks=trial_callbacks(resolved, directory))
            return Outcome.of_result(config_object.run_id, result, time.perf_counter() - started)
        except Exception as error:  # noqa: BLE001 - one failed run must not stop the sweep
            reason = one_line_reason(error)
            directory.record_failure(config_object.run_id, reason, traceback=traceback.format_exc())
            return Outcome.failed(config_object.run_id, reason)


def _fresh_keras(threads: int, plugins) -> None:
    """This worker ready for a run: TensorFlow started, Keras' global state cleared, the plugins loaded."""
    start_worker(threads)
    import keras

    from fgan_bench.plugins import load_plugins

    keras.backend.clear_session()
    keras.mixed_precision.set_global_policy("float32")
    load_plugins(plugins)


def trial_callbacks(run, directory: RunDirectory) -> list:
    """A protocol trial's pruning callback (none for a run without ``trial.json``): it evaluates
    its metric on :data:`~fgan_bench.pruning.INTERMEDIATE_SAMPLES` fresh samples."""
    from fgan_bench import pruning
    from fgan_bench.evaluation import sample_evaluator

    evaluate = sample_evaluator(run.dataset, pruning.INTERMEDIATE_SAMPLES, run.config.seed)
    return pruning.trial_callbacks(directory.path, run.config, evaluate)


def run_population_in_this_process(configs: list[dict[str, Any]], sweep_dir: str, threads: int) -> list[Outcome]:
    """Trains compatible runs as one population (:func:`fgan_bench.population.run_population`);
    one outcome per run. A failure fails the runs it left without a result."""
    config_objects = [RunConfig.from_dict(c) for c in configs]
    started = time.perf_counter()
    try:
        _fresh_keras(threads, config_objects[0].plugins)
        from fgan_bench.population import run_population

        results = run_population(config_objects, sweep_dir, resume=True, wait=True, announce=False,
                                 callbacks_for=trial_callbacks)
    except Exception as error:  # noqa: BLE001 - one failed population must not stop the sweep
        reason, outcomes = one_line_reason(error), []
        for config in config_objects:
            directory = RunDirectory.of(sweep_dir, config.run_id)
            result = directory.read_result()
            if result is None:
                directory.record_failure(config.run_id, reason, traceback=traceback.format_exc())
            outcomes.append(Outcome.failed(config.run_id, reason) if result is None
                            else Outcome(config.run_id, result.status))
        return outcomes
    seconds = time.perf_counter() - started
    return [Outcome.of_result(c.run_id, r, seconds) for c, r in zip(config_objects, results, strict=True)]


def _tasks(configs: Sequence[RunConfig], jobs: int = 1) -> list:
    """What workers are given: a run, or a tuple of compatible runs for one population (``population`` > 1).

    Populations come first, largest first (they take longest), cut so that ``jobs`` workers
    all get one where there are enough runs (:func:`~fgan_bench.population.group_compatible`)."""
    from fgan_bench.population.runs import group_compatible

    single = [c for c in configs if c.population <= 1 or c.isolate]
    grouped = group_compatible([c for c in configs if c.population > 1 and not c.isolate],
                               max((c.population for c in configs), default=1), at_least=jobs - len(single))
    grouped = sorted(grouped, key=len, reverse=True)
    return [tuple(group) if len(group) > 1 else group[0] for group in grouped] + single


def _submit(pool, task, sweep_dir: Path, threads: int):
    if isinstance(task, tuple):
        return pool.submit(run_population_in_this_process, [c.to_dict() for c in task], str(sweep_dir), threads)
    return pool.submit(run_in_this_process, task.to_dict(), str(sweep_dir), threads)


def _start_tasks(queue: list, running: dict, jobs: int, pools: WorkerPools, seen: dict, sweep_dir: Path, threads: int):
    """Submits queued tasks until ``jobs`` run."""
    while queue and len(running) < jobs:
        task = queue.pop(0)
        pool = pools[getattr(task, "isolate", False)]
        with _sigint_blocked():  # a worker started now inherits the block, not Python's handler
            future = _submit(pool, task, sweep_dir, threads)
        running[future] = (task, pool)
        seen.setdefault(pool, {}).update(_workers(pool))


def _flat_outcomes(outcome) -> list[Outcome]:
    """A worker's outcome (a run's) or outcomes (a population's), as a list."""
    return outcome if isinstance(outcome, list) else [outcome]


def _flat(tasks) -> list[RunConfig]:
    return [c for task in tasks for c in (task if isinstance(task, tuple) else (task,))]


def _workers(pool: concurrent.futures.ProcessPoolExecutor) -> dict[int, multiprocessing.Process]:
    """The pool's worker processes by pid. ``ProcessPoolExecutor`` does not expose them; its
    ``_processes`` is the one private attribute used here (to tell a worker killed from
    outside from the ones its broken pool terminated, and to stop workers on Ctrl-C)."""
    return dict(getattr(pool, "_processes", None) or {})


def _death(exitcode: int | None) -> str:
    if exitcode is None:
        return "its worker process died"
    if exitcode < 0:
        name = signal.Signals(-exitcode).name
        hint = ", as the out-of-memory killer does" if name == "SIGKILL" else ""
        return f"its worker process was killed by {name} (signal {-exitcode}{hint})"
    return f"its worker process exited with status {exitcode}"


def _local(
    configs: Sequence[RunConfig], sweep_dir: Path, jobs: int, report: Callable[[Outcome], None],
    workers: WorkerPools | None = None,
) -> list[Outcome]:
    """At most ``jobs`` runs at once: shared runs in a pool of reused workers, isolated runs each
    in a fresh process (a pool whose workers exit after one run); ``workers``' pools if given (kept
    open after), else pools of this call's own. A pool broken by a worker killed from outside is
    replaced; see the module's docstring."""
    pools = workers if workers is not None and workers.jobs == jobs else WorkerPools(jobs)
    seen: dict[concurrent.futures.ProcessPoolExecutor, dict[int, multiprocessing.Process]] = {}
    queue = _tasks(configs, jobs)
    running: dict[concurrent.futures.Future, tuple[Any, concurrent.futures.ProcessPoolExecutor]] = {}
    requeued: set[str] = set()
    outcomes = []
    interrupted = threading.Event()
    restore_sigint = _on_sigint(lambda signum, frame: interrupted.set())
    try:
        while queue or running:
            if interrupted.is_set():
                raise KeyboardInterrupt
            _start_tasks(queue, running, jobs, pools, seen, sweep_dir, pools.threads)
            done, _ = concurrent.futures.wait(running, timeout=0.25, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                config, pool = running.pop(future)
                try:
                    outcome = _flat_outcomes(future.result())
                except concurrent.futures.process.BrokenProcessPool:
                    seen.setdefault(pool, {}).update(_workers(pool))
                    pools.replace(pool, getattr(config, "isolate", False))
                    outcome = _broken_task(config, sweep_dir, seen.get(pool, {}), requeued, queue)
                for each in outcome:
                    outcomes.append(each)
                    report(each)
        if interrupted.is_set():  # after the last run ended: still a stop, not a finished sweep
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pools.terminate(_workers)
        raise SweepInterrupted(outcomes, _flat([config for config, _ in running.values()] + queue)) from None
    finally:
        restore_sigint()
        if pools is not workers:
            pools.close()
    return outcomes


@contextlib.contextmanager
def _sigint_blocked():
    """SIGINT blocked in this thread meanwhile; one that arrives is delivered when it ends.

    Worker processes are started inside (the signal mask survives fork and exec), so they
    start with SIGINT blocked until their initializer ignores it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _on_sigint(handler) -> Callable[[], None]:
    """Installs ``handler`` for SIGINT; returns what puts the previous one back. Outside the main
    thread (where Python delivers no signal anyway) it changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, handler)
    return lambda: signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def _broken_task(task, sweep_dir: Path, workers, requeued: set[str], queue: list) -> list[Outcome]:
    """The outcomes of a task whose pool broke (none if it goes back on ``queue``): a population's
    runs go on one by one; a run is :func:`_broken`'s."""
    if isinstance(task, tuple):
        queue[0:0] = list(task)
        return []
    outcome = _broken(task, sweep_dir, workers, requeued)
    if outcome is None:
        queue.insert(0, task)  # a victim of another worker's death: run it again
        return []
    return [outcome]


def _broken(
    config: RunConfig, sweep_dir: Path, workers: dict[int, multiprocessing.Process], requeued: set[str]
) -> Outcome | None:
    """The outcome of a run whose pool broke: failed if its own worker died (the pid in its lock
    file), or on a second break; ``None`` (run it again) if the pool took it down with another."""
    directory = RunDirectory.of(sweep_dir, config.run_id)
    pid = directory.holder_pid()
    process = workers.get(pid) if pid is not None else None
    exitcode = _exit_code(process) if process is not None else None
    killed_from_outside = exitcode is not None and exitcode != -signal.SIGTERM
    if not killed_from_outside and config.run_id not in requeued:
        requeued.add(config.run_id)
        return None
    reason = _death(exitcode)
    killed_by = -exitcode if exitcode is not None and exitcode < 0 else None
    directory.record_failure(config.run_id, reason, signal=killed_by)
    return Outcome.failed(config.run_id, reason)


def _exit_code(process: multiprocessing.Process, timeout: float = 10.0) -> int | None:
    """The worker's exit code, once it has exited (``None`` if not within ``timeout``).

    The broken pool's own thread reaps its workers too; when it wins the race for
    ``waitpid``, ``process.join`` here returns before the exit code is recorded, so this
    polls until it is.
    """
    deadline = time.monotonic() + timeout
    process.join(timeout=timeout)
    while process.exitcode is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return process.exitcode


def _ray(configs: Sequence[RunConfig], sweep_dir: Path, resources: dict[str, float], report) -> list[Outcome]:
    from fgan_bench.sweeps.ray_executor import run_on_ray

    return run_on_ray(_tasks(configs), sweep_dir, **resources, report=report)


def execute(
    configs: Sequence[RunConfig],
    sweep_dir: str | Path,
    *,
    jobs: int = 1,
    executor: str = "local",
    report: Callable[[Outcome], None] = lambda outcome: None,
    cpus_per_run: float | None = None,
    gpus_per_run: float = 0,
    workers: WorkerPools | None = None,
) -> list[Outcome]:
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
        workers: local worker processes to use and keep (:class:`~fgan_bench.sweeps.worker_pools.WorkerPools`
            of ``jobs`` workers), so that calls after calls reuse them; by default this call's own.
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
    rundir.make_directory(sweep_dir / "runs")
    if not configs:
        return []
    if executor == "ray":
        resources = {"cpus_per_run": cpus_per_run or threads_per_job(jobs), "gpus_per_run": gpus_per_run}
        return _ray(configs, sweep_dir, resources, report)
    return _local(configs, sweep_dir, jobs, report, workers)
