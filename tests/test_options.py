"""Options in one place: generated flags with real defaults, structured errors, validation."""

import json
import os
import subprocess
import sys

import pytest

from fgan_bench import cli, rundir
from fgan_bench.config import RunConfig
from fgan_bench.errors import ConfigError, FganBenchError
from fgan_bench.sweeps import load_sweep

TINY = ["--steps", "20", "--log-every", "10", "--num-samples", "200", "--width", "8", "--quiet"]


def test_run_help_states_every_default():
    result = subprocess.run([sys.executable, "-m", "fgan_bench", "run", "--help"], capture_output=True, text=True,
                            timeout=120)
    text = " ".join(result.stdout.split())
    assert result.returncode == 0 and "default: None" not in text
    assert "--steps STEPS training steps (generator updates) (default: 10000 (vector data) / 3000 (images)" in text
    assert "--critic-lr CRITIC_LR critic learning rate (default: 0.0002" in text
    assert "--width WIDTH MLP hidden units (default: 128 (mlp))" in text
    assert "--tensorboard" in text and "--config" in text


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--critic-lr", "inf"], "--critic-lr: must be a finite number (got inf)"),
        (["--critic-lr", "-1e-3"], "--critic-lr: must be positive (got -0.001)"),
        (["--beta1", "nan"], "--beta1: must be a finite number (got nan)"),
        (["--beta1", "5"], "--beta1: must be in [0, 1) (got 5.0)"),
        (["--beta2", "-1"], "--beta2: must be in [0, 1) (got -1.0)"),
        (["--depth", "-1"], "--depth: must be ≥ 0 (got -1)"),
        (["--width", "0"], "--width: must be positive (got 0)"),
        (["--seed", "-1"], "--seed: must be in [0, 2**32) (got -1)"),
        (["--seed", str(2**32)], "--seed: must be in [0, 2**32)"),
        (["--model", "dcgan"], "--model: dataset 'ring8' is vector data but model 'dcgan' is for image data"),
    ],
)
def test_bad_values_are_one_line_naming_the_flag(flags, message, capsys):
    assert cli.main(["run", "--divergence", "kl", *flags]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1


def test_typos_get_a_did_you_mean(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "--divergence", "kl", "--critc-lr", "1e-3"])
    assert exit_.value.code == 2 and "did you mean --critic-lr?" in capsys.readouterr().err


def test_errors_are_structured():
    with pytest.raises(ConfigError) as error:
        RunConfig(divergence="kl", critic_lr="fast").resolved()
    assert (error.value.option, error.value.value) == ("critic_lr", "fast")
    assert error.value.worded("--critic-lr") == "--critic-lr: must be a finite number (got 'fast')"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[defaults]\nwidth = 0\n", r"sweep.toml:5: width: must be positive \(got 0\)"),
        ("[defaults]\nsteps = 10\ncritic_lr = \"fast\"\n", r"sweep.toml:6: critic_lr: must be a finite number"),
        ("[grid]\nbeta2 = [0.9, -1]\n", r"sweep.toml:5: beta2: must be in \[0, 1\)"),
    ],
)
def test_sweep_values_are_checked_with_file_line_and_key(tmp_path, table, message, capsys):
    path = tmp_path / "sweep.toml"
    path.write_text("[sweep]\ndatasets = ['ring8']\ndivergences = ['kl']\n" + table)
    with pytest.raises(FganBenchError, match=message):
        load_sweep(path).resolved_configs()
    assert cli.main(["sweep", str(path), "--dry-run", "--out", str(tmp_path / "out")]) == 2
    assert "sweep.toml:" in capsys.readouterr().err


def test_unexpected_errors_are_one_line_without_a_traceback(tmp_path):
    bad = tmp_path / "config.json"
    bad.write_text(json.dumps({"divergence": "kl", "steps": 20}))
    environment = {k: v for k, v in os.environ.items() if k != "FGAN_BENCH_DEBUG"}
    probe = subprocess.run(
        [sys.executable, "-c", "import sys; from fgan_bench import cli, config\n"
         "def broken(*a, **k): raise RuntimeError('boom')\n"
         "config.RunConfig.resolve = broken\n"
         "sys.exit(cli.main(['run', '--config', sys.argv[1]]))", str(bad)],
        capture_output=True, text=True, timeout=120, env=environment,
    )
    assert probe.returncode == 1 and "Traceback" not in probe.stderr
    assert probe.stderr.strip() == (
        "python -m fgan_bench: error: RuntimeError: boom (set FGAN_BENCH_DEBUG=1 for the traceback)"
    )


def test_run_config_reruns_a_stored_config_with_overrides(tmp_path, capsys):
    assert cli.main(["run", "--divergence", "kl", *TINY, "--out", str(tmp_path / "a")]) == 0
    [first] = (tmp_path / "a" / "runs").iterdir()
    stored = rundir.read_config(first)
    assert cli.main(["run", "--config", str(first / "config.json"), "--quiet", "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "b" / "runs" / first.name / "result.json").exists()  # the same run, reproduced
    assert cli.main(["run", "--config", str(first / "config.json"), "--seed", "3", "--quiet",
                     "--out", str(tmp_path / "a")]) == 0
    again = rundir.read_config(next(p for p in (tmp_path / "a" / "runs").iterdir() if p != first))
    assert again.seed == 3 and again.to_dict() | {"seed": 0} == stored.to_dict()
