"""No TensorFlow, CUDA or CPU-feature start-up line on any command, or in the README's Python
example, unless FGAN_BENCH_DEBUG=1; progress in a log file is plain lines (issue 16)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOISE = re.compile(r"cuda|cuInit|oneDNN|AVX|absl")


def _environment():
    env = {k: v for k, v in os.environ.items() if k not in ("FGAN_BENCH_DEBUG", "TF_CPP_MIN_LOG_LEVEL")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _quiet(args, cwd, **kwargs):
    process = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600, env=_environment(),
                             **kwargs)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output
    assert not NOISE.search(output), output
    return process.stdout


def _cli(*args, cwd):
    return _quiet([sys.executable, "-m", "fgan_bench", *args], cwd)


def readme_python_example() -> str:
    """The README's Python example: the ```python block after ``<!-- python-example -->``."""
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- python-example -->", 1)[1].split("```python\n", 1)[1]
    return block.split("```", 1)[0]


@pytest.mark.slow
def test_commands_and_the_python_example_start_quietly(tmp_path):
    out = tmp_path / "out"
    stdout = _cli("run", "--divergence", "kl", "--steps", "100", "--log-every", "50", "--width", "16",
                  "--num-samples", "300", "--out", str(out), cwd=tmp_path)
    assert "\x1b" not in stdout and "step 100/100 (100%)" in stdout  # stdout is a pipe: plain progress lines
    run_dir = next((out / "runs").iterdir())
    _cli("evaluate", str(run_dir), "--metrics", "mmd", cwd=tmp_path)
    _cli("check-divergence", "kl", cwd=tmp_path)
    sweep = tmp_path / "plugin.toml"
    sweep.write_text(
        "[sweep]\nname = 'plugged'\ndatasets = ['ring8']\ndivergences = ['chi_k:3']\nseeds = [0]\n"
        f"plugins = [{json.dumps(str(ROOT / 'divergences' / 'chi_k.py'))}]\n"
        "[defaults]\nsteps = 50\nlog_every = 50\nwidth = 16\nnum_samples = 300\n")
    _cli("sweep", str(sweep), "--out", str(out), cwd=tmp_path)
    (tmp_path / "reports").mkdir()  # as in a fresh clone
    _quiet([sys.executable, "-c", readme_python_example()], tmp_path)
    assert (tmp_path / "reports" / "js.keras").is_file()  # the example ran and saved its model
