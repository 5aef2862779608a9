"""Sweeps: definitions and their errors, resumable execution (SIGKILL), tidy tables, the report."""

import html as html_module
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from fgan_bench import cli, rundir
from fgan_bench.errors import FganBenchError
from fgan_bench.sweeps import load_sweep, select

TINY = """
[sweep]
name = "tiny"
datasets = ["ring8"]
divergences = ["kl", "gan"]
seeds = [0, 1]

[defaults]
steps = {steps}
log_every = 50
steps_per_execution = 50
batch_size = 64
width = 16
num_samples = 500
"""


def _write(tmp_path, text, name="sweep.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_sweep_expands_to_every_combination_with_overrides_and_grid(tmp_path):
    path = _write(
        tmp_path,
        """
[sweep]
name = "grid"
datasets = ["ring8", "mixture1d"]
divergences = ["kl", "alpha:0.5"]
seeds = [0, 1]
[defaults]
steps = 100
log_every = 50
[grid]
critic_lr = [1e-4, 1e-3]
[overrides.mixture1d]
batch_size = 512
""",
    )
    sweep = load_sweep(path)
    configs = sweep.resolved_configs()
    assert len(configs) == 2 * 2 * 2 * 2 and len({c.run_id for c in configs}) == 16
    assert {c.batch_size for c in configs if c.dataset == "mixture1d"} == {512}
    assert {c.critic_lr for c in configs} == {1e-4, 1e-3}
    assert {c.model for c in configs if c.dataset == "mixture1d"} == {"linear"}
    assert len(select(configs, ["mixture1d/alpha:0.5/*"])) == 4
    assert [c.resolved() for c in configs] == configs  # resolved configs are stable: ids never drift


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[sweep]\ndatasets = ['ring8']\ndivergences = ['kl']\n[defaults]\nsteps = 10\nstepz = 5\n",
            r"sweep.toml:6: unknown run option 'stepz' in \[defaults\]",
        ),
        (
            "[sweep]\ndatasets = ['ring8']\ndivergences = ['kl']\n[defaults]\nsteps = -5\n",
            r"sweep.toml:5: steps: must be positive \(got -5\)",
        ),
        (
            "[sweep]\ndatasets = ['ring8']\ndivergences = ['kl']\nseeds = [0]\nsede = 1\n",
            r"sweep.toml:5: unknown key 'sede' in \[sweep\]",
        ),
        (
            "[sweep]\ndatasets = ['ring8']\ndivergences = ['kl']\n[overrides.digits]\nsteps = 5\n",
            r"sweep.toml:4: \[overrides.digits\] names a dataset the sweep does not run",
        ),
        (
            "[sweep]\ndatasets = ['ring8']\ndivergences = ['kullback']\n",
            r"sweep.toml:3: .*unknown divergence 'kullback'",
        ),
        ("[sweep]\ndatasets = ['ring8'\n", r"sweep.toml: invalid TOML"),
        ("[sweeps]\n", r"sweep.toml:1: unknown table \[sweeps\]"),
        (
            "[sweep]\ndatasets = ['ring8']\ndivergences = ['kl']\nplugins = ['missing.py']\n",
            r"sweep.toml:4: plugin path .*missing.py does not exist",
        ),
    ],
)
def test_invalid_sweep_files_name_the_line_and_key(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(FganBenchError, match=message):
        load_sweep(path).resolved_configs()


def test_dry_run_lists_runs_without_training(tmp_path, capsys):
    path = _write(tmp_path, TINY.format(steps=100))
    assert cli.main(["sweep", str(path), "--dry-run", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "4 runs" in out and "ring8 × gan, seed 1" in out
    assert not (tmp_path / "out").exists()


def _sweep_process(path, out, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "fgan_bench", "sweep", str(path), "--out", str(out), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


@pytest.mark.slow
def test_a_sweep_killed_mid_way_finishes_every_run_exactly_once(tmp_path):
    path = _write(tmp_path, TINY.format(steps=1000))
    out = tmp_path / "out"
    runs = out / "tiny" / "runs"
    process = _sweep_process(path, out, "--jobs", "2", "--no-report")
    deadline = time.time() + 300
    # Kill once one run is done and another has a checkpoint but no result: mid-way through the sweep.
    while time.time() < deadline:
        results = list(runs.glob("*/result.json")) if runs.exists() else []
        partial = (
            [d for d in runs.glob("*") if (d / "checkpoint.weights.h5").exists() and not (d / "result.json").exists()]
            if runs.exists()
            else []
        )
        if results and partial:
            break
        assert process.poll() is None, process.stdout.read()  # the sweep must still be running
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert len(list(runs.glob("*/result.json"))) < 4

    again = _sweep_process(path, out)
    output, _ = again.communicate(timeout=600)
    assert again.returncode == 0, output
    assert "already done" in output
    for directory in runs.iterdir():
        assert json.loads((directory / "result.json").read_text())["status"] == "completed"
        steps = pd.read_csv(directory / "metrics.csv")["step"].tolist()
        assert steps == list(range(50, 1001, 50)), directory.name  # resumed, no duplicated or lost rows
    results = pd.read_csv(out / "tiny" / "results.csv")
    assert results["run_id"].nunique() == 4
    assert not results.duplicated(["run_id", "metric"]).any()
    assert (out / "tiny" / "report.html").exists()


BROKEN_PLUGIN = """
import tensorflow as tf
from fgan_bench.datasets import Dataset, register_dataset
import tensorflow_probability as tfp

def _explode(n, seed):
    raise RuntimeError("the sampler exploded")

register_dataset("exploding", Dataset(
    name="exploding", kind="vector", shape=(2,), value_range=(-10.0, 10.0),
    distribution=lambda: tfp.distributions.Independent(tfp.distributions.Normal([0.0, 0.0], 1.0), 1),
    sampler=_explode))
"""


@pytest.mark.slow
def test_a_failed_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    (tmp_path / "plugin.py").write_text(BROKEN_PLUGIN)
    path = _write(
        tmp_path,
        """
[sweep]
name = "mixed"
datasets = ["exploding", "ring8"]
divergences = ["kl"]
seeds = [0]
[defaults]
steps = 100
log_every = 50
width = 16
num_samples = 300
""",
    )
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "fgan_bench",
            "--plugins",
            str(tmp_path / "plugin.py"),
            "sweep",
            str(path),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert process.returncode == 1, process.stdout + process.stderr  # one run failed
    assert "the sampler exploded" in process.stderr
    results = pd.read_csv(tmp_path / "out" / "mixed" / "results.csv")
    statuses = results.drop_duplicates("run_id").set_index("dataset")["status"].to_dict()
    assert statuses == {"exploding": "failed", "ring8": "completed"}
    html = (tmp_path / "out" / "mixed" / "report.html").read_text()
    assert "the sampler exploded" in html


SMOKE = Path(__file__).resolve().parent.parent / "benchmarks" / "smoke.toml"


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory):
    """The shipped smoke sweep, run as CI runs it (so every CI run exercises sweep and report)."""
    out = tmp_path_factory.mktemp("sweep") / "out"
    assert cli.main(["sweep", str(SMOKE), "--out", str(out), "--jobs", "2"]) == 0
    return out / "smoke"


def test_tables_are_tidy_with_config_columns(finished_sweep):
    results = pd.read_csv(finished_sweep / "results.csv")
    assert results["run_id"].nunique() == 8 and set(results["status"]) == {"completed"}
    assert {"dataset", "divergence", "seed", "steps", "batch_size", "status", "metric", "value"} <= set(results.columns)
    assert {"modes_captured", "true_jensen_shannon", "train/divergence_estimate"} <= set(results["metric"])
    assert not results.duplicated(["run_id", "metric"]).any()
    means = results[results["metric"] == "mmd2"].groupby(["dataset", "divergence"])["value"].mean()  # one groupby
    assert len(means) == 4
    history = pd.read_csv(finished_sweep / "history.csv")
    assert set(history["step"]) == {50, 100, 150, 200, 250, 300}
    summary = pd.read_csv(finished_sweep / "summary.csv")
    for _, jsd in summary[summary["metric"] == "true_jensen_shannon"].groupby("dataset"):
        assert sorted(jsd["rank"]) == [1.0, 2.0] and (jsd["count"] == 2).all()
        assert jsd.sort_values("rank")["mean"].is_monotonic_increasing  # lower is better


def test_report_is_one_self_contained_file(finished_sweep):
    html = (finished_sweep / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') >= 4  # heatmap, curves, two sample figures, ...
    assert "http://" not in html and "https://" not in html  # opens offline
    for section in ('id="answer"', "Stability", "Runs, wall time and throughput", "tensorflow", 'id="toc"'):
        assert section in html
    answer = html_module.unescape(html[html.index('<section id="answer">'):html.index("</section>")])
    for dataset in ("ring8", "mixture1d"):  # a plain sweep's answer: CIs over its 2 seeds, its budget said
        assert f"On {dataset}, " in answer
    assert "n = 2 seeds" in answer and "one shared setting for every divergence (no tuning), 2 seed(s)" in answer
    assert "± 0" not in html
    assert 'name = "smoke"' in html_module.unescape(html)  # the sweep file


def test_report_command_rewrites_the_report(finished_sweep, capsys):
    (finished_sweep / "report.html").unlink()
    assert cli.main(["report", str(finished_sweep)]) == 0
    assert (finished_sweep / "report.html").exists() and "report:" in capsys.readouterr().out
    assert cli.main(["report", str(finished_sweep / "runs")]) == 2
    assert "not a sweep folder" in capsys.readouterr().err


def test_report_renders_in_headless_chromium(finished_sweep, tmp_path):
    from fgan_bench.sweeps.browser import check_report, find_browser

    if find_browser() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    result = check_report(finished_sweep / "report.html", screenshot=tmp_path / "report.png")
    assert result["images"] >= 4 and result["broken_images"] == []
    assert result["tables"] >= 3 and result["empty_tables"] == 0
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_ray_executor_runs_the_sweep_on_a_local_ray(tmp_path):
    ray = pytest.importorskip("ray")
    path = _write(tmp_path, TINY.format(steps=100).replace('divergences = ["kl", "gan"]', 'divergences = ["kl"]'))
    command = ["sweep", str(path), "--out", str(tmp_path / "out"), "--executor", "ray", "--jobs", "2"]
    # "local": a Ray of its own, never the cluster another test (another pytest-xdist worker) started and
    # recorded in /tmp/ray/ray_current_cluster, which ray.init() with no address would join.
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        assert cli.main(command) == 0
        damaged, intact = sorted((tmp_path / "out" / "tiny" / "runs").iterdir())
        assert (intact / ".lock").read_text().startswith("pid ")  # the holder, written as a local run writes it
        (damaged / "result.json").write_text('{"status": "compl')
        assert cli.main(command) == 0  # the driver reads results through rundir: a corrupt one is not done
    finally:
        ray.shutdown()

    def completions(directory):
        return [json.loads(line)["event"] for line in (directory / "attempts.jsonl").read_text().splitlines()].count(
            "completed")

    assert (completions(damaged), completions(intact)) == (2, 1)
    assert rundir.read_result(damaged)["status"] == "completed" and not list(damaged.glob(".*.tmp*"))
    results = pd.read_csv(tmp_path / "out" / "tiny" / "results.csv")
    assert results["run_id"].nunique() == 2 and set(results["status"]) == {"completed"}
    # The same runs on the local executor are found done: same ids, same directories.
    assert cli.main(["sweep", str(path), "--out", str(tmp_path / "out"), "--no-report"]) == 0
