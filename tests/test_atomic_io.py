"""Atomic writes under faults: a full disk while a checkpoint is written, stale temporary files."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fgan_bench import atomic_io, rundir

RUN = ["--divergence", "kl", "--steps", "100", "--log-every", "50", "--steps-per-execution", "50",
       "--num-samples", "3", "--quiet"]


def _cli(*args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "fgan_bench", *args], capture_output=True, text=True, env=env,
                          timeout=600)


def test_a_full_disk_at_the_first_checkpoint_is_one_line_and_resume_leaves_no_temporary_file(small_tmpfs):
    failed = _cli("run", *RUN, "--out", str(small_tmpfs))
    lines = [line for line in failed.stderr.strip().splitlines() if ": error: " in line]
    # h5py used to crash the process here (rc 139, 42 tracebacks) and leave its temporary file.
    assert failed.returncode not in (0, -11, 139) and "Traceback" not in failed.stderr, failed.stderr[-2000:]
    assert len(lines) == 1 and "disk full writing" in lines[0] and "checkpoint.weights.h5" in lines[0]
    (directory,) = (small_tmpfs / "runs").iterdir()
    assert not list(directory.glob(".*.tmp*"))
    subprocess.run(["mount", "-o", "remount,size=4m", str(small_tmpfs)], check=True)
    resumed = _cli("run", "--resume", str(directory))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert rundir.read_result(directory)["status"] == "completed"
    assert not list(directory.glob(".*.tmp*"))


def test_taking_the_run_lock_removes_temporary_files_of_processes_that_are_gone(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    stale = tmp_path / f".checkpoint.weights.h5.{dead_pid}-0123abcd.tmp.weights.h5"
    mine = atomic_io.temporary_path(tmp_path / "result.json")
    unrelated = tmp_path / ".notes.tmp"
    for path in (stale, mine, unrelated):
        path.write_bytes(b"x")
    with rundir.run_lock(tmp_path, wait=False):
        pass
    assert not stale.exists() and mine.exists() and unrelated.exists()


def test_ensure_room_refuses_what_does_not_fit_with_the_disk_full_line(tmp_path):
    atomic_io.ensure_room(tmp_path / "small.bin", 1)
    with pytest.raises(rundir.FganBenchError, match="disk full writing .*huge.bin"):
        atomic_io.ensure_room(tmp_path / "huge.bin", 1 << 62)
