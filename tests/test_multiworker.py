"""Multi-worker training: two processes on loopback train one run in lockstep, only the chief
writes the run directory, both resume after a kill, and the result equals one process's."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import h5py
import numpy as np
import pandas as pd
import pytest

from fgan_bench.config import RunConfig
from fgan_bench.errors import FganBenchError
from fgan_bench.multiworker import WORKERS_FOLDER, WorkerRole, worker_role
from fgan_bench.rundir import CHECKPOINT
from fgan_bench.runner import run, run_directory

# Tiny MLP on ring8 with the default clip norm (1.0): clipping must act on the summed gradient.
OPTIONS = {"divergence": "kl", "steps": 100, "log_every": 20, "batch_size": 32, "width": 8, "num_samples": 200}
#: Two workers add their half-batch gradients in another order than one process sums the batch.
TOLERANCE = 1e-5
TIMEOUT = 240  # seconds per launch: a hang in a collective fails the test instead of blocking CI


def _tf_config(ports, index):
    workers = [f"127.0.0.1:{port}" for port in ports]
    return json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _launch(arguments):
    """Both workers of a two-worker cluster on fresh loopback ports, each in its own session."""
    ports = _free_ports(2)
    return [
        subprocess.Popen(
            [sys.executable, "-m", "fgan_bench", "run", *arguments, "--quiet"],
            env={**os.environ, "TF_CONFIG": _tf_config(ports, index)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        for index in range(2)
    ]


def _kill(workers):
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def _wait(workers):
    deadline = time.time() + TIMEOUT
    outputs = []
    try:
        for worker in workers:
            outputs.append(worker.communicate(timeout=max(1.0, deadline - time.time()))[0])
    finally:
        _kill(workers)
    for worker, output in zip(workers, outputs):
        assert worker.returncode == 0, output[-3000:]
    return outputs


def _weights(path):
    values = {}
    with h5py.File(path) as file:
        file.visititems(lambda name, item: values.setdefault(name, item[()]) if hasattr(item, "shape") else None)
    return values


@pytest.mark.slow
def test_two_workers_train_one_run_resume_after_a_kill_and_match_one_process(tmp_path):
    reference = run(RunConfig(**OPTIONS), tmp_path / "single", progress=False)
    config = RunConfig(**OPTIONS, strategy="multiworker").resolved()
    out = tmp_path / "multi"
    directory = run_directory(config, out)
    scratch = out / WORKERS_FOLDER / config.run_id / "worker-1"
    arguments = [f"--{k.replace('_', '-')}={v}" for k, v in OPTIONS.items()] + ["--strategy=multiworker"]

    workers = _launch([*arguments, "--out", str(out)])
    deadline = time.time() + TIMEOUT
    try:  # kill both as soon as both have saved the first epoch's checkpoint
        while not ((directory / CHECKPOINT).exists() and (scratch / CHECKPOINT).exists()):
            assert time.time() < deadline and all(w.poll() is None for w in workers), workers[0].stdout.read()
            time.sleep(0.05)
    finally:
        _kill(workers)
    assert not (directory / "result.json").exists(), "the kill came too late to test resuming"
    assert {p.name for p in (out / "runs").iterdir()} == {config.run_id}  # the non-chief wrote its scratch folder

    _wait(_launch(["--resume", str(directory)]))
    result = json.loads((directory / "result.json").read_text())
    assert result["status"] == "completed" and result["replicas"] == 2
    assert pd.read_csv(directory / "metrics.csv")["step"].tolist() == [20, 40, 60, 80, 100]  # each step once
    assert not (out / WORKERS_FOLDER).exists()  # the non-chief deleted its scratch folder
    assert reference["steps"] == result["steps"] == 100

    single = _weights(run_directory(RunConfig(**OPTIONS).resolved(), tmp_path / "single") / CHECKPOINT)
    multi = _weights(directory / CHECKPOINT)
    assert single.keys() == multi.keys()
    for name in single:
        np.testing.assert_allclose(multi[name], single[name], atol=TOLERANCE, rtol=0, err_msg=name)


@pytest.mark.parametrize(
    "tf_config, role",
    [
        ("", WorkerRole()),
        ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}}',
         WorkerRole("worker", 0, True, 2)),
        ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}',
         WorkerRole("worker", 1, False, 2)),
        ('{"cluster": {"chief": ["c:0"], "worker": ["a:1"]}, "task": {"type": "worker", "index": 0}}',
         WorkerRole("worker", 0, False, 2)),
        ('{"cluster": {"chief": ["c:0"], "worker": ["a:1"]}, "task": {"type": "chief", "index": 0}}',
         WorkerRole("chief", 0, True, 2)),
    ],
)
def test_the_chief_is_the_chief_task_else_worker_zero(tf_config, role):
    assert worker_role({"TF_CONFIG": tf_config}) == role


@pytest.mark.parametrize(
    "tf_config, message",
    [
        ("{not json", "TF_CONFIG must be JSON like"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}', "is not in its cluster"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "is not in its cluster"),
    ],
)
def test_a_bad_tf_config_is_one_line_naming_the_fix(tf_config, message):
    with pytest.raises(FganBenchError, match=message) as error:
        worker_role({"TF_CONFIG": tf_config})
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "workers",
    ['"127.0.0.1:notaport"', '["127.0.0.1:notaport"]', '["127.0.0.1"]', "[1]"],
)
def test_cluster_addresses_that_tensorflow_cannot_use_are_one_line(workers):
    tf_config = '{"cluster": {"worker": ' + workers + '}, "task": {"type": "worker", "index": 0}}'
    with pytest.raises(FganBenchError, match="must be a list of \"host:port\" addresses") as error:
        worker_role({"TF_CONFIG": tf_config})
    assert "\n" not in str(error.value)


def test_a_worker_waiting_for_its_peers_says_so_until_they_start():
    ports = _free_ports(2)
    script = "from fgan_bench.multiworker import multiworker_strategy; multiworker_strategy(notice_every_s=1.0)"
    waiting = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "TF_CONFIG": _tf_config(ports, 0)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    notices = []
    deadline = time.time() + TIMEOUT
    try:
        while len(notices) < 2 and time.time() < deadline:
            line = waiting.stderr.readline()
            assert line or waiting.poll() is None, "the waiting worker exited"
            if line.startswith("waiting for the other workers"):
                notices.append(line)
    finally:
        _kill([waiting])
    assert len(notices) == 2 and "worker 0 of 2" in notices[0] and "start every task" in notices[0]


@pytest.mark.slow
def test_a_dead_peer_is_one_line_naming_resume(tmp_path):
    options = {**OPTIONS, "steps": 100_000, "log_every": 20}
    config = RunConfig(**options, strategy="multiworker").resolved()
    out = tmp_path / "multi"
    directory = run_directory(config, out)
    arguments = [f"--{k.replace('_', '-')}={v}" for k, v in options.items()] + ["--strategy=multiworker"]
    chief, peer = _launch([*arguments, "--out", str(out)])
    deadline = time.time() + TIMEOUT
    try:
        while not (directory / CHECKPOINT).exists():  # both train
            assert time.time() < deadline and chief.poll() is None and peer.poll() is None
            time.sleep(0.05)
        _kill([peer])
        output = chief.communicate(timeout=max(1.0, deadline - time.time()))[0]
    finally:
        _kill([chief, peer])
    errors = [line for line in output.splitlines() if ": error: " in line]
    assert chief.returncode not in (0, None) and "Traceback" not in output
    assert len(errors) == 1 and "stopped or cannot be reached" in errors[0], output[-3000:]
    assert errors[0].endswith(f"--resume {directory}")
