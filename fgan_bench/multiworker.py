"""Training one run with several processes (``--strategy multiworker``): who writes what.

Every process of a ``MultiWorkerMirroredStrategy`` run executes the same program: each
takes part in every collective (gradient all-reduce, the metric reads at an epoch's end,
``predict``'s gather, checkpoint saving), so each must run the same callbacks and the same
final evaluation. As in TensorFlow's multi-worker Keras guide, only the *chief* writes the
run directory; every other worker writes the same files to a scratch folder of its own,
``<out>/.workers/<run-id>/<task>-<index>/``, and deletes it when the run ends.

The chief is the ``chief`` task of ``TF_CONFIG``'s cluster if it names one, else worker 0;
without ``TF_CONFIG`` the one process is the chief.

Resuming: the chief's checkpoint is the run's. A non-chief worker starts from a copy of it
(read from the run directory, so ``--out`` must be the same folder on every host: a shared
file system, or the chief's run directory copied to each host before ``--resume``); all
workers then check that they start from the same step, so a worker that cannot see the
checkpoint stops with one line instead of training out of step.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from fgan_bench._lazy import tf
from fgan_bench.errors import FganBenchError, one_line_reason

WORKERS_FOLDER = ".workers"


@dataclasses.dataclass(frozen=True)
class WorkerRole:
    """This process's place in the ``TF_CONFIG`` cluster.

    Attributes:
        task_type: ``"chief"`` or ``"worker"`` (``None`` without ``TF_CONFIG``).
        task_id: the index within ``task_type``.
        is_chief: whether this process writes the run directory.
        workers: training processes in the cluster (chief included).
    """

    task_type: str | None = None
    task_id: int = 0
    is_chief: bool = True
    workers: int = 1


_EXAMPLE = '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}'


def worker_role(environ=os.environ) -> WorkerRole:
    """The role ``TF_CONFIG`` gives this process (TensorFlow's rule: the chief task, else worker 0).

    A ``TF_CONFIG`` that TensorFlow could not use (not JSON, addresses that are not lists of
    ``host:port``, a task outside the cluster) is one line naming the fix.
    """
    text = environ.get("TF_CONFIG", "").strip()
    if not text:
        return WorkerRole()
    try:
        tf_config = json.loads(text)
        cluster, task = tf_config.get("cluster", {}), tf_config.get("task", {})
        task_type, task_id = task.get("type"), int(task.get("index", 0))
    except (ValueError, AttributeError, TypeError) as error:
        raise FganBenchError(f"TF_CONFIG must be JSON like {_EXAMPLE}; got {text!r} ({error})") from None
    training = {name: _addresses(cluster, name) for name in ("chief", "worker")}
    if task_type not in training or not 0 <= task_id < len(training[task_type]):
        raise FganBenchError(
            f"TF_CONFIG's task {task!r} is not in its cluster {cluster!r}; "
            'set "task" to {"type": "worker", "index": i} with i below the number of workers'
        )
    chief = ("chief", 0) if training["chief"] else ("worker", 0)
    return WorkerRole(task_type, task_id, (task_type, task_id) == chief, sum(map(len, training.values())))


def _addresses(cluster: dict, name: str) -> list[str]:
    """``cluster[name]``, checked to be a list of ``host:port`` with a numeric port."""
    addresses = cluster.get(name, [])
    valid = isinstance(addresses, list) and all(
        isinstance(a, str) and a.rpartition(":")[0] and a.rpartition(":")[2].isdigit() for a in addresses
    )
    if not valid:
        raise FganBenchError(
            f"TF_CONFIG's cluster {name!r} must be a list of \"host:port\" addresses, got {addresses!r}; "
            f"e.g. {_EXAMPLE}"
        )
    return addresses


def multiworker_strategy(notice_every_s: float = 30.0):
    """``MultiWorkerMirroredStrategy()`` from ``TF_CONFIG``, saying every ``notice_every_s`` that
    it waits for its peers (its constructor blocks until every task of the cluster has started)."""
    role = worker_role()
    started = time.monotonic()
    done = threading.Event()

    def notice() -> None:
        while not done.wait(notice_every_s):
            print(
                f"waiting for the other workers of TF_CONFIG's cluster ({time.monotonic() - started:.0f} s; this is "
                f"{role.task_type} {role.task_id} of {role.workers}): start every task of the cluster with the same "
                f"command, or stop with Ctrl-C",
                file=sys.stderr,
                flush=True,
            )

    threading.Thread(target=notice, name="peer notice", daemon=True).start()
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except (ValueError, TypeError, tf.errors.OpError) as error:
        raise FganBenchError(
            f"TensorFlow cannot start the cluster of TF_CONFIG ({one_line_reason(error)}); fix TF_CONFIG, "
            f"e.g. {_EXAMPLE}"
        ) from None
    finally:
        done.set()


def peer_failure(error: BaseException, directory: Path) -> FganBenchError | None:
    """The one-line error for a worker of the cluster that stopped mid-run (``None`` for any other
    error): the fix is to start every worker again with ``--resume`` of the chief's run directory."""
    if not isinstance(error, tf.errors.UnavailableError | tf.errors.CancelledError | tf.errors.AbortedError):
        return None
    directory = Path(directory)
    if directory.parent.parent.name == WORKERS_FOLDER:  # a non-chief's scratch folder
        directory = directory.parent.parent.parent / "runs" / directory.parent.name
    return FganBenchError(
        f"a worker of TF_CONFIG's cluster stopped or cannot be reached ({one_line_reason(error)}); "
        f"start every worker again with: python -m fgan_bench run --resume {directory}"
    )


def spans_processes(strategy) -> bool:
    """Whether ``strategy`` is a ``MultiWorkerMirroredStrategy`` over more than one process."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    spec = strategy.cluster_resolver.cluster_spec().as_dict()
    return len(spec.get("chief", [])) + len(spec.get("worker", [])) > 1


@contextlib.contextmanager
def scratch_run_directory(role: WorkerRole, run_directory: Path, out: Path, checkpoint: str | None) -> Iterator[Path]:
    """A non-chief worker's folder for the run's files, deleted on exit.

    Starts empty, or with a copy of the chief's ``checkpoint`` (a file name in
    ``run_directory``) when that is given and exists.
    """
    scratch = Path(out) / WORKERS_FOLDER / run_directory.name / f"{role.task_type}-{role.task_id}"
    shutil.rmtree(scratch, ignore_errors=True)  # left by a killed worker
    scratch.mkdir(parents=True)
    try:
        if checkpoint and (run_directory / checkpoint).exists():
            shutil.copyfile(run_directory / checkpoint, scratch / checkpoint)
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        for folder in (scratch.parent, scratch.parent.parent):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty: other workers may still be using theirs


def check_same_start(strategy, start_step: int) -> None:
    """Raises a one-line error on every worker unless all start from the same step."""
    if not spans_processes(strategy):
        return
    per_replica = strategy.run(lambda: tf.constant([start_step], tf.int64))
    steps = [int(s) for s in strategy.gather(per_replica, axis=0).numpy()]
    if len(set(steps)) > 1:
        raise FganBenchError(
            f"the workers start from different steps {steps}: a worker cannot see the chief's checkpoint; "
            "give every worker the same --out (a shared file system, or the chief's run directory copied to each host)"
        )
