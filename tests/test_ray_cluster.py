"""Sweeps on a Ray cluster whose nodes share no disk: a two-node cluster on this machine, each
node with its own folder standing in for its disk, loses a node mid-way; every run still ends
exactly once, in the driver's sweep folder, trained once (the lost steps again, no more)."""

import json
import threading
import time

import pandas as pd
import pytest

from fgan_bench.config import RunConfig
from fgan_bench.errors import FganBenchError
from fgan_bench.rundir import CHECKPOINT, RESULT
from fgan_bench.sweeps.execute import execute
from fgan_bench.sweeps.ray_executor import ATTEMPTS, NODE_DIR_VARIABLE, pack, run_on_ray, unpack

# Long enough (~1,000 steps) that a run is still training when the test removes its node after
# its first checkpoint reached the driver; 200 steps could finish in between.
TINY = {"dataset": "ring8", "steps": 1000, "log_every": 50, "steps_per_execution": 50, "batch_size": 32, "width": 8,
        "num_samples": 200}
TIMEOUT = 420  # seconds for the whole sweep: a hang fails the test instead of blocking CI
#: Ray declares a node dead after missing 4 health checks, 0.5 s apart (default: 5 × 3 s).
FAST_NODE_DEATH = {"health_check_initial_delay_ms": 0, "health_check_period_ms": 500,
                   "health_check_failure_threshold": 4}


def _events(directory):
    path = directory / ATTEMPTS
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _on_node_with_checkpoint(runs, node_id):
    """A run whose current task runs on ``node_id`` and whose checkpoint reached the driver."""
    for directory in runs.iterdir() if runs.exists() else ():
        events = _events(directory)
        started = [e for e in events if e["event"] == "started"]
        if started and started[-1]["node"] == node_id and not (directory / RESULT).exists():
            if any(e["event"] == "checkpoint" and e["attempt"] == started[-1]["attempt"] for e in events):
                return directory
    return None


@pytest.mark.slow
def test_a_sweep_that_loses_a_node_ends_every_run_once_on_the_driver(tmp_path):
    ray = pytest.importorskip("ray")
    cluster_utils = pytest.importorskip("ray.cluster_utils")
    disks = {name: tmp_path / f"disk-{name}" for name in ("head", "worker")}
    cluster = cluster_utils.Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "env_vars": {NODE_DIR_VARIABLE: str(disks["head"])},
                        "include_dashboard": False, "_system_config": FAST_NODE_DEATH},
    )
    try:
        worker = cluster.add_node(num_cpus=1, env_vars={NODE_DIR_VARIABLE: str(disks["worker"])})
        ray.init(address=cluster.address, log_to_driver=False)
        node_of = {"head": cluster.head_node.node_id, "worker": worker.node_id}
        configs = [RunConfig(divergence=d, **TINY).resolved() for d in ("kl", "gan")]
        sweep_dir = tmp_path / "sweep"
        outcomes = []
        driver = threading.Thread(
            target=lambda: outcomes.extend(run_on_ray(configs, sweep_dir, cpus_per_run=1, checkpoint_every_s=0,
                                                      poll_s=0.2)),
            daemon=True,
        )
        driver.start()
        deadline = time.time() + TIMEOUT
        while (lost := _on_node_with_checkpoint(sweep_dir / "runs", node_of["worker"])) is None:
            assert time.time() < deadline and driver.is_alive(), "no run reached a checkpoint on the worker node"
            time.sleep(0.1)
        cluster.remove_node(worker, allow_graceful=False)  # the node dies mid-run, its disk with it
        driver.join(timeout=max(1.0, deadline - time.time()))
        assert not driver.is_alive(), "the sweep did not finish"
    finally:
        ray.shutdown()
        cluster.shutdown()

    assert sorted(o["run_id"] for o in outcomes) == sorted(c.run_id for c in configs)
    assert {o["status"] for o in outcomes} == {"completed"}
    for config in configs:
        directory = sweep_dir / "runs" / config.run_id
        assert json.loads((directory / RESULT).read_text())["status"] == "completed"
        steps = pd.read_csv(directory / "metrics.csv")["step"].tolist()
        assert steps == list(range(50, TINY["steps"] + 1, 50))  # each step once
        assert not (directory / ".incoming").exists()
        events = _events(directory)
        assert [e["event"] for e in events].count("completed") == 1
        for started in (e for e in events if e["event"] == "started"):  # trained on a node's own disk
            disk = disks["head"] if started["node"] == node_of["head"] else disks["worker"]
            assert started["scratch"].startswith(str(disk)), started
    assert not list(disks["head"].rglob(CHECKPOINT))  # the head's tasks cleaned up after themselves

    events = _events(lost)
    kinds = [e["event"] for e in events]
    assert kinds.count("lost") == 1 and kinds.count("started") == 2, kinds
    resubmitted = [e for e in events if e["event"] == "submitted"][1]
    last_checkpoint = [e for e in events if e["event"] == "checkpoint" and e["attempt"] == 1][-1]
    assert 0 < resubmitted["from_step"] == last_checkpoint["step"] < TINY["steps"]  # resumed, not restarted
    assert events[-1]["event"] == "completed" and events[-1]["attempt"] == 2
    second = [e for e in events if e["event"] == "started"][1]
    assert second["node"] == node_of["head"] and second["time"] > [e for e in events if e["event"] == "lost"][0]["time"]


def test_pack_and_unpack_carry_plain_files_only(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    (source / "a.json").write_text("{}")
    (source / ".lock").write_text("")
    (source / "nested").mkdir()
    names = unpack(pack(source), tmp_path / "target")
    assert names == ["a.json"] and (tmp_path / "target" / "a.json").read_text() == "{}"
    assert unpack(pack(source, ["missing.txt"]), tmp_path / "empty") == []


@pytest.mark.parametrize(
    "options, message",
    [
        ({"gpus_per_run": 1}, "are for --executor ray"),
        ({"executor": "ray", "gpus_per_run": -1}, "--gpus-per-run at least 0"),
        ({"executor": "ray", "cpus_per_run": 0}, "--cpus-per-run must be positive"),
    ],
)
def test_resources_per_run_are_checked_before_anything_starts(tmp_path, options, message):
    with pytest.raises(FganBenchError, match=message):
        execute([RunConfig(divergence="kl", **TINY).resolved()], tmp_path, **options)
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_a_population_trains_in_one_ray_task_and_each_member_is_an_ordinary_run(tmp_path):
    """``population = 2`` on Ray: the two compatible runs go to ONE task (one node folder, one
    compiled step), each still its own run directory on the driver, with the same results as the
    same population trained locally."""
    ray = pytest.importorskip("ray")
    from fgan_bench.population import run_population

    options = {**TINY, "steps": 100, "population": 2}
    configs = [RunConfig(divergence="kl", seed=seed, **options).resolved() for seed in (0, 1)]
    # "local": a Ray of its own, never a cluster another test (another pytest-xdist worker) recorded in
    # /tmp/ray/ray_current_cluster, which ray.init() with no address would join.
    ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        outcomes = execute(configs, tmp_path / "sweep", executor="ray", cpus_per_run=1)
    finally:
        ray.shutdown()
    local = run_population(configs, tmp_path / "local", announce=False)

    assert sorted(o["run_id"] for o in outcomes) == sorted(c.run_id for c in configs)
    assert {o["status"] for o in outcomes} == {"completed"}
    scratches = set()
    for config, expected in zip(configs, local, strict=True):
        directory = tmp_path / "sweep" / "runs" / config.run_id
        events = _events(directory)
        kinds = [e["event"] for e in events]
        assert [kinds.count(k) for k in ("submitted", "started", "completed", "lost")] == [1, 1, 1, 0], kinds
        assert events[0]["together"] == 2
        scratches.add(next(e["scratch"] for e in events if e["event"] == "started"))
        result = json.loads((directory / RESULT).read_text())
        timeless = {k: v for k, v in expected.final_metrics.items() if k != "wall_time_s"}
        assert {k: result["final_metrics"][k] for k in timeless} == pytest.approx(timeless, rel=1e-6)
        assert result["quality"] == pytest.approx(dict(expected.quality), rel=1e-6, nan_ok=True)
        assert pd.read_csv(directory / "metrics.csv")["step"].tolist() == [50, 100]
    assert len(scratches) == 1  # one task trained both
