"""End to end: `run` writes a complete run directory; resume, divergence, determinism, errors."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest

from fgan_bench import cli
from fgan_bench.config import RunConfig
from fgan_bench.runner import run, run_directory

SMALL = {"steps": 200, "width": 32, "depth": 2, "batch_size": 64, "log_every": 50, "steps_per_execution": 25}


def _weights(directory):
    config = RunConfig.from_dict(json.loads((directory / "config.json").read_text()))
    from fgan_bench.distribute import make_strategy
    from fgan_bench.runner import build_trainer

    gan = build_trainer(config, make_strategy("default"))
    gan.load_weights(directory / "checkpoint.weights.h5")
    return [w.numpy() for w in gan.weights]


def test_run_writes_the_whole_run_directory(tmp_path):
    config = RunConfig(divergence="reverse_kl", **SMALL)
    result = run(config, tmp_path, progress=False)
    directory = run_directory(config.resolved(), tmp_path)
    assert {p.name for p in directory.iterdir()} >= {
        "config.json",
        "metrics.csv",
        "samples.npy",
        "samples.png",
        "checkpoint.weights.h5",
        "result.json",
    }
    assert result["status"] == "completed" and result["steps"] == 200
    assert json.loads((directory / "result.json").read_text())["status"] == "completed"
    saved = json.loads((directory / "config.json").read_text())
    assert saved["model"] == "mlp" and saved["generator_lr"] == 2e-4 and saved["dataset"] == "ring8"
    history = pd.read_csv(directory / "metrics.csv")
    assert history["step"].tolist() == [50, 100, 150, 200]
    assert {"divergence_estimate", "critic_loss", "generator_loss", "t_real", "t_fake"} <= set(history.columns)
    assert np.load(directory / "samples.npy").shape == (2500, 2)
    assert {"modes_captured", "modes_total", "high_quality_fraction", "mode_kl", "true_reverse_kl",
            "variational_estimate", "mmd2"} <= set(result["quality"])
    assert result["versions"]["keras"] == keras.__version__
    # Re-running from config.json reproduces the run id; a finished run is not trained again.
    again = run(RunConfig.from_dict(saved), tmp_path, progress=False)
    assert again["already_done"] and again["run_id"] == result["run_id"]


def test_same_seed_same_metrics(tmp_path):
    config = RunConfig(divergence="gan", **SMALL)
    run(config, tmp_path / "a", progress=False)
    run(config, tmp_path / "b", progress=False)
    run_id = config.resolved().run_id
    a = pd.read_csv(tmp_path / "a" / "runs" / run_id / "metrics.csv").drop(columns="wall_time_s")
    b = pd.read_csv(tmp_path / "b" / "runs" / run_id / "metrics.csv").drop(columns="wall_time_s")
    pd.testing.assert_frame_equal(a, b)


class _InterruptAfter(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("dataset", ["ring8", "digits"])
def test_interrupted_run_resumes_to_the_same_weights(tmp_path, dataset):
    options = (
        dict(SMALL, dataset=dataset)
        if dataset == "ring8"
        else dict(dataset=dataset, steps=100, log_every=25, steps_per_execution=25, filters=8, batch_size=32)
    )
    config = RunConfig(divergence="jensen_shannon", **options)
    run(config, tmp_path / "whole", progress=False)
    with pytest.raises(KeyboardInterrupt):
        run(config, tmp_path / "parts", progress=False, callbacks=(_InterruptAfter(1),))
    directory = run_directory(config.resolved(), tmp_path / "parts")
    assert not (directory / "result.json").exists()
    with pytest.raises(Exception, match="--resume"):
        run(config, tmp_path / "parts", progress=False)
    result = run(config, tmp_path / "parts", resume=True, progress=False)
    assert result["status"] == "completed"
    whole = run_directory(config.resolved(), tmp_path / "whole")
    for a, b in zip(_weights(whole), _weights(directory)):
        np.testing.assert_allclose(a, b, atol=1e-6)
    steps = pd.read_csv(directory / "metrics.csv")["step"].tolist()
    assert steps == sorted(set(steps)) and steps[-1] == options["steps"]


def test_a_run_that_blows_up_is_recorded_as_diverged(tmp_path):
    config = RunConfig(divergence="kl", critic_lr=1e6, generator_lr=1e6, optimizer="sgd", **{**SMALL, "steps": 400})
    result = run(config, tmp_path, progress=False)
    assert result["status"] == "diverged"
    assert 0 < result["diverged"]["step"] <= 400 and result["steps"] == result["diverged"]["step"]
    directory = run_directory(config.resolved(), tmp_path)
    assert json.loads((directory / "result.json").read_text())["status"] == "diverged"
    assert (directory / "config.json").exists()


def _cli(*args, cwd):
    code = (
        "import sys; from fgan_bench import cli; status = cli.main(sys.argv[1:]); "
        "print('TF_LOADED' if 'tensorflow' in sys.modules else 'TF_NOT_LOADED'); sys.exit(status)"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--divergence", "kl", "--dataset", "ring9"], "did you mean 'ring8'"),
        (["run", "--divergence", "kl", "--steps", "-5"], "--steps: must be positive (got -5)"),
        (["run", "--divergence", "kl", "--dataset", "digits", "--width", "64"],
         "--width: does not apply to model 'dcgan'"),
        (["run", "--divergence", "kl", "--dataset", "digits", "--model", "mlp"], "is image data"),
        (["run", "--divergence", "kl", "--critic-steps", "3"], "needs --schedule alternating"),
        (["run", "--divergence", "klx"], "did you mean 'kl'"),
        (["run"], "run needs --divergence"),
    ],
)
def test_bad_options_fail_in_one_line_before_tensorflow_starts(tmp_path, args, message):
    result = _cli(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Traceback" not in result.stderr and "TF_NOT_LOADED" in result.stdout


def test_cli_run_prints_the_outcome(tmp_path, capsys):
    status = cli.main(
        [
            "run",
            "--divergence",
            "pearson",
            "--steps",
            "100",
            "--log-every",
            "50",
            "--width",
            "16",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0 and "completed at step 100" in out and "modes_captured" in out
