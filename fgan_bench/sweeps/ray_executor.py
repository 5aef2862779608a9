"""Running a sweep's runs as Ray tasks on a cluster whose nodes share no disk.

The driver (the process that runs ``python -m fgan_bench sweep``) owns the sweep folder; no
task ever writes to it. For each run the driver

1. *claims* the run: holds its run lock (:func:`fgan_bench.rundir.hold_run_lock`, the
   same lock and holder text as a local run) in its own sweep folder for as long as the
   run's task lives, so a second sweep on that folder (local or
   Ray) waits instead of training the run again; writes ``config.json``;
2. submits one task (``num_cpus=cpus_per_run``, ``num_gpus=gpus_per_run``) with the run's
   config and, if the run has a checkpoint in the sweep folder, a tar archive of it — or, with
   ``population = K``, one task for up to K compatible runs, trained as one population on that
   task's resources (one GPU with ``gpus_per_run = 1``); each run is still its own run
   directory, checkpoint, lock and attempts log on the driver;
3. receives the task's messages (a Ray streaming generator): the node it started on, then
   every ``checkpoint_every_s`` seconds at most (at the end of a ``log_every`` epoch) the
   run's checkpoint and ``metrics.csv``, which the driver writes into the run directory
   (:meth:`RunDirectory.receive <fgan_bench.rundir.RunDirectory.receive>`: each file
   atomically, metrics first), and last the whole finished run directory as a tar archive,
   received the same way, ``result.json`` last (a corrupt ``result.json`` found later counts
   as unfinished, as in a local sweep);
4. appends each event (started, lost, completed, failed) to ``<run>/attempts.jsonl``.

The task trains into a folder on its node's own disk (``$FGAN_BENCH_NODE_DIR``, else the
node's temporary folder) and deletes it when done. Archives travel through Ray's object
store, so nothing but Ray is needed between the nodes: no shared file system, no bucket.

So, across nodes: a run is done exactly when ``result.json`` exists in the driver's sweep
folder; each run is trained by one task at a time (the driver's claim); if a node dies,
the driver gives the run to another node with the last checkpoint it received, and only
the steps after that checkpoint are trained again (``metrics.csv`` keeps each step once).
If the driver dies, its tasks end with it (Ray ends tasks whose owner is gone) and the
sweep run again resumes every unfinished run from the checkpoint in the sweep folder.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from fgan_bench.config import RunConfig
from fgan_bench.errors import FganBenchError, one_line_reason
from fgan_bench.run_records import Outcome
from fgan_bench.rundir import CHECKPOINT, CONFIG, METRICS, RESULT, Hold, RunDirectory, archive_files

ATTEMPTS = "attempts.jsonl"
NODE_DIR_VARIABLE = "FGAN_BENCH_NODE_DIR"
#: A run's task is submitted at most this often; a node lost more often fails the run.
MAX_ATTEMPTS = 3
#: Files a resumed task needs: the checkpoint and the history up to it.
RESUME_FILES = (CONFIG, METRICS, CHECKPOINT)


def pack(directory: Path, names: Sequence[str] | None = None) -> bytes:
    """A gzip'ed tar archive of the files ``names`` (default: all) of ``directory`` (:meth:`RunDirectory.pack`)."""
    return RunDirectory(directory).pack(names)


def unpack(archive: bytes, directory: Path) -> list[str]:
    """Extracts a :func:`pack` archive (plain files only) into ``directory``; returns the names."""
    directory.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile() and "/" not in m.name]
        tar.extractall(directory, members=members, filter="data")
    return [m.name for m in members]


# ---------------------------------------------------------------------------------------
# On the node


def _node_directory() -> Path:
    root = Path(os.environ.get(NODE_DIR_VARIABLE) or tempfile.gettempdir()) / "fgan-bench-ray"
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=root))


def _snapshot(directory: Path, names: Sequence[str]) -> dict[str, bytes]:
    return {name: (directory / name).read_bytes() for name in names if (directory / name).exists()}


def _checkpoint_shipper(run_id: str, directory: Path, put: Callable[[dict[str, Any]], None], every_s: float):
    """A Keras callback that hands ``put`` the run's checkpoint and history, at most every ``every_s``."""
    import keras

    from fgan_bench.trainer import steps_done

    class ShipCheckpoints(keras.callbacks.Callback):
        last = float("-inf")

        def on_epoch_end(self, epoch, logs=None):  # after the run's own callbacks wrote this epoch
            if time.monotonic() - self.last >= every_s and (directory / CHECKPOINT).exists():
                self.last = time.monotonic()
                put({"kind": "checkpoint", "run_id": run_id, "step": steps_done(self.model),
                     "files": _snapshot(directory, (METRICS, CHECKPOINT))})

    return ShipCheckpoints()


def train_on_node(configs: list[dict[str, Any]], threads: int, checkpoint_every_s: float,
                  *resumes: bytes | None) -> Iterator:
    """The body of a task (a streaming generator of messages to the driver): one run, or the
    compatible runs of one population (:func:`fgan_bench.population.run_population`), all on
    this task's resources (a population on one GPU).

    Trains the runs in a fresh folder on this node's disk (each started from its ``resumes``
    entry, an archive of the driver's run directory, if given; positional, so that Ray hands
    the task the objects, not their references) and yields ``started``, then
    per run ``checkpoint`` messages while training and finally ``done`` (with the run
    directory's archive) or ``failed``; every message but ``started`` names its ``run_id``.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")  # runs may share a GPU (gpus_per_run < 1)
    import ray

    config_objects = [RunConfig.from_dict(config) for config in configs]
    scratch = _node_directory()
    try:
        yield {"kind": "started", "node": ray.get_runtime_context().get_node_id(), "scratch": str(scratch)}
        for config, resume in zip(config_objects, resumes, strict=True):
            if resume is not None:
                unpack(resume, scratch / "runs" / config.run_id)
        yield from _train_in_thread(config_objects, scratch, threads, checkpoint_every_s)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _train_in_thread(configs: list[RunConfig], scratch: Path, threads: int, checkpoint_every_s: float) -> Iterator:
    """Trains ``configs`` in a thread, yielding its checkpoint messages as they come, then each run's end."""
    import queue
    import threading
    import traceback

    messages: queue.Queue = queue.Queue()
    outcome: dict[str, Any] = {}

    def train() -> None:
        try:
            outcome["results"] = _train(configs, scratch, threads, checkpoint_every_s, messages.put)
        except Exception as error:  # noqa: BLE001 - reported to the driver, which records it
            outcome["failed"] = {"reason": one_line_reason(error), "traceback": traceback.format_exc()}
        finally:
            messages.put(None)

    worker = threading.Thread(target=train, name=f"train {configs[0].run_id}", daemon=True)
    worker.start()
    while (message := messages.get()) is not None:
        yield message
    worker.join()
    for k, config in enumerate(configs):
        if "failed" in outcome:
            yield {"kind": "failed", "run_id": config.run_id, **outcome["failed"]}
        else:
            yield {"kind": "done", "run_id": config.run_id, "status": outcome["results"][k].status,
                   "archive": pack(scratch / "runs" / config.run_id)}


def _train(configs: list[RunConfig], scratch: Path, threads: int, checkpoint_every_s: float, put) -> list:
    """The runs' results: one run trained as ``run`` does, several as one population."""
    import tensorflow as tf

    from fgan_bench.plugins import load_plugins
    from fgan_bench.population import run_population
    from fgan_bench.runner import run

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    load_plugins(configs[0].plugins)

    def shipper(run_id: str):
        return _checkpoint_shipper(run_id, scratch / "runs" / run_id, put, checkpoint_every_s)

    if len(configs) == 1:
        return [run(configs[0], scratch, resume=True, progress=False, callbacks=(shipper(configs[0].run_id),))]
    return run_population(configs, scratch, resume=True, announce=False,
                          callbacks_for=lambda member, directory: [shipper(member.run_id)])


# ---------------------------------------------------------------------------------------
# On the driver


@dataclasses.dataclass
class _Run:
    """A run the driver has claimed: its directory, the held run lock and its current task."""

    config: RunConfig
    directory: RunDirectory
    lock: Hold
    attempt: int = 0
    task: Any = None
    started: float = 0.0
    checkpoint_step: int | None = None  # of the last checkpoint received (None: unknown, e.g. a killed sweep's)

    def log(self, event: str, **details: Any) -> None:
        entry = {"event": event, "attempt": self.attempt, "time": time.time(), **details}
        with open(self.directory / ATTEMPTS, "a") as file:
            file.write(json.dumps(entry) + "\n")

    def fail(self, reason: str, **details: Any) -> Outcome:
        self.directory.record_failure(self.config.run_id, reason, **details)
        self.log("failed", reason=reason)
        return Outcome.failed(self.config.run_id, reason)


def _claim(config: RunConfig, sweep_dir: Path) -> _Run | None:
    """The run, locked by this driver (:meth:`RunDirectory.hold <fgan_bench.rundir.RunDirectory.hold>`);
    ``None`` while another process holds its lock."""
    directory = RunDirectory.of(sweep_dir, config.run_id).make()
    lock = directory.hold(wait=False)
    return None if lock is None else _Run(config, directory, lock)


def _write_checkpoint(run: _Run, files: dict[str, bytes]) -> None:
    """History first, checkpoint last: a resumed run drops history rows past its checkpoint."""
    run.directory.receive({name: files[name] for name in (METRICS, CHECKPOINT) if name in files})


def _write_finished(run: _Run, archive: bytes) -> None:
    """Writes the finished run's files into the run directory, each atomically, ``result.json`` last."""
    files = archive_files(archive)
    if RESULT not in files:
        raise FganBenchError(f"the task of {run.config.run_id} sent no {RESULT}")
    run.directory.receive(files)
    run.directory.failure.unlink(missing_ok=True)


class _Driver:
    """The driver's loop: claims runs, submits their tasks (a run, or a population's runs in one
    task) and acts on each task's messages."""

    def __init__(self, ray, task, sweep_dir: Path, threads: int, checkpoint_every_s: float, report):
        self.ray, self.task, self.sweep_dir = ray, task, sweep_dir
        self.threads, self.checkpoint_every_s, self.report = threads, checkpoint_every_s, report
        self.no_resume = ray.put(None)
        self.active: dict[Any, dict[str, _Run]] = {}  # a task's generator -> its unfinished runs by id
        self.outcomes: list[Outcome] = []

    def submit(self, runs: list[_Run]) -> None:
        archives = []
        for run in runs:
            run.attempt += 1
            run.started = time.time()
            has_checkpoint = (run.directory / CHECKPOINT).exists()
            archives.append(self.ray.put(run.directory.pack(RESUME_FILES)) if has_checkpoint else self.no_resume)
            run.log("submitted", from_step=run.checkpoint_step if has_checkpoint else 0, together=len(runs))
        task = self.task.remote([run.config.to_dict() for run in runs], self.threads, self.checkpoint_every_s,
                                *archives)
        for run in runs:
            run.task = task
        self.active[task] = {run.config.run_id: run for run in runs}

    def finish(self, run: _Run, outcome: Outcome) -> None:
        run.lock.release()
        self.outcomes.append(outcome)
        self.report(outcome)

    def start_waiting(self, waiting: list[list[RunConfig]]) -> None:
        """Claims and submits every waiting run no other process holds (a group's claimed runs in
        one task); a finished one is reported; runs held elsewhere stay waiting."""
        for group in list(waiting):
            claimed, held = [], []
            for config in group:
                run = _claim(config, self.sweep_dir)
                if run is None:
                    held.append(config)  # another sweep trains it now; look again later
                    continue
                result = run.directory.read_result()  # a corrupt result.json is no result: trained again
                if result is not None:
                    self.finish(run, Outcome.of_result(config.run_id, result.found_done()))
                    continue
                run.directory.write_config(config)
                claimed.append(run)
            waiting[waiting.index(group)] = held
            if claimed:
                self.submit(claimed)
        waiting[:] = [group for group in waiting if group]

    def handle(self, runs: dict[str, _Run], message: dict[str, Any]) -> list[tuple[_Run, Outcome]]:
        """Acts on one message of a task whose unfinished runs are ``runs``; the runs it ends."""
        kind = message["kind"]
        if kind == "started":
            for run in runs.values():
                run.log("started", node=message["node"], scratch=message["scratch"])
        elif kind == "lost":
            return self.lost(list(runs.values()), message["reason"])
        elif "run_id" not in message:  # the task itself raised (not one run's training): all its runs fail
            return [(run, run.fail(message["reason"], traceback=message["traceback"])) for run in runs.values()]
        else:
            return self.handle_run(runs[message["run_id"]], message)
        return []

    @staticmethod
    def handle_run(run: _Run, message: dict[str, Any]) -> list[tuple[_Run, Outcome]]:
        kind = message["kind"]
        if kind == "checkpoint":
            _write_checkpoint(run, message["files"])
            run.checkpoint_step = message["step"]
            run.log("checkpoint", step=message["step"])
            return []
        if kind == "done":
            _write_finished(run, message["archive"])
            run.log("completed", seconds=time.time() - run.started)
            return [(run, Outcome(run.config.run_id, message["status"], seconds=time.time() - run.started))]
        return [(run, run.fail(message["reason"], traceback=message["traceback"]))]

    def lost(self, runs: list[_Run], reason: str) -> list[tuple[_Run, Outcome]]:
        """A task's node was lost: its unfinished runs go to another task, each from its last
        checkpoint; a run lost :data:`MAX_ATTEMPTS` times fails."""
        ended, again = [], []
        for run in runs:
            run.log("lost", reason=reason)
            if run.attempt >= MAX_ATTEMPTS:
                ended.append((run, run.fail(f"its node was lost {run.attempt} times; last: {reason}")))
            else:
                again.append(run)
        if again:
            self.submit(again)
        return ended

    def step(self, poll_s: float) -> None:
        """Waits up to ``poll_s`` for one task's message and acts on it."""
        ready, _ = self.ray.wait(list(self.active), num_returns=1, timeout=poll_s)
        for generator in ready:
            runs = self.active.pop(generator)
            message = _next_message(self.ray, generator)
            for run, outcome in self.handle(runs, message):
                runs.pop(run.config.run_id, None)
                self.finish(run, outcome)
            if runs and message["kind"] != "lost":
                self.active[generator] = runs

    def cancel(self) -> None:
        for task, runs in self.active.items():
            self.ray.cancel(task, force=True)
            for run in runs.values():
                run.lock.release()


def run_on_ray(
    configs: Sequence[RunConfig | Sequence[RunConfig]],
    sweep_dir: Path,
    *,
    cpus_per_run: float = 1,
    gpus_per_run: float = 0,
    checkpoint_every_s: float = 60.0,
    report: Callable[[dict[str, Any]], None] = lambda outcome: None,
    poll_s: float = 1.0,
) -> list[Outcome]:
    """Trains every run not done yet as Ray tasks (see the module doc); one outcome per run.

    ``configs``: runs, or groups of compatible runs (a tuple per population, as
    :func:`fgan_bench.population.group_compatible` makes them): a group trains in ONE task, on
    that task's resources (``cpus_per_run``, ``gpus_per_run``: a population on one GPU).
    Connects to the cluster at ``$RAY_ADDRESS`` (or starts a local Ray) unless Ray is
    initialised already.
    """
    try:
        import ray
    except ImportError:
        raise FganBenchError("--executor ray needs Ray: pip install 'fgan-bench[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), include_dashboard=False, log_to_driver=False)
    task = ray.remote(
        num_returns="streaming",
        num_cpus=cpus_per_run,
        num_gpus=gpus_per_run,
        max_retries=0,  # the driver resubmits, with the latest checkpoints
        max_calls=1,  # a fresh process per task: TensorFlow's global state never leaks between tasks
    )(train_on_node)
    driver = _Driver(ray, task, sweep_dir, max(1, int(cpus_per_run)), checkpoint_every_s, report)
    waiting = [list(group) if isinstance(group, (tuple, list)) else [group] for group in configs]
    try:
        while waiting or driver.active:
            driver.start_waiting(waiting)
            if driver.active:
                driver.step(poll_s)
            else:
                time.sleep(poll_s)
    finally:
        driver.cancel()
    return driver.outcomes


def _next_message(ray, generator) -> dict[str, Any]:
    """The task's next message; ``lost`` when its worker or node died (or it ended early)."""
    try:
        return ray.get(next(generator))
    except StopIteration:
        return {"kind": "lost", "reason": "the task ended without a result"}
    except ray.exceptions.RayTaskError as error:  # the task's own code raised: not the node's fault
        return {"kind": "failed", "reason": one_line_reason(error), "traceback": str(error)}
    except ray.exceptions.RayError as error:
        return {"kind": "lost", "reason": one_line_reason(error)}

