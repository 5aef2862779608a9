"""The command line: listings, validator reports, exit statuses, one-line errors."""

import os
import pathlib
import subprocess
import sys

import pytest

from fgan_bench import cli, divergences

REPO = pathlib.Path(__file__).resolve().parents[1]
BUILTIN_NAMES = [
    "total_variation",
    "kl",
    "reverse_kl",
    "pearson",
    "neyman",
    "squared_hellinger",
    "jeffrey",
    "jensen_shannon",
    "gan",
    "js_weighted:<weight>",
    "alpha:<alpha>",
]


def run_cli(*args, cwd=REPO, env=None):
    environment = {k: v for k, v in os.environ.items() if k != "FGAN_BENCH_PLUGINS"}
    environment.update({"TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "fgan_bench", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def clean_registry():
    names_before = {e.name for e in divergences.divergence_entries()}
    yield
    for entry in divergences.divergence_entries():
        if entry.name not in names_before:
            divergences.unregister_divergence(entry.name)


BASELINES = ["wgan_gp[:gp=10]", "hinge", "lsgan[:a=0,b=1,c=1]"]


def _listed_names(stdout):
    return [line.split()[0] for line in stdout.splitlines()[2:]]


def test_list_divergences_shows_every_builtin(capsys):
    assert cli.main(["list", "divergences"]) == 0
    out = capsys.readouterr().out
    assert _listed_names(out) == [*BUILTIN_NAMES, *BASELINES]  # baselines last, marked
    assert out.count("baseline: not an f-divergence") == len(BASELINES)
    assert "−log u" in out and "t < log 2" in out and "builtin" in out


def test_list_with_plugins_folder_adds_the_plugins_with_their_source(capsys, clean_registry):
    assert cli.main(["--plugins", str(REPO / "divergences"), "list", "divergences"]) == 0
    out = capsys.readouterr().out
    assert _listed_names(out) == [*BUILTIN_NAMES, "chi_k:<k>", "triangular", *BASELINES]
    assert "triangular.py" in out


def test_check_divergence_passes_and_prints_every_check(capsys):
    assert cli.main(["check-divergence", "alpha:2", "js_weighted:0.3"]) == 0
    out = capsys.readouterr().out
    assert out.count("PASS  conjugate") == 2 and "2 of 2 divergences passed" in out


def test_check_divergence_exits_1_when_a_check_fails(tmp_path, capsys, clean_registry):
    plugin = tmp_path / "unchecked.py"
    plugin.write_text(
        "import tensorflow as tf\n"
        "from fgan_bench import Divergence, Interval, register_divergence\n"
        "register_divergence(Divergence(name='kl_exp', f=lambda u: tf.math.xlogy(u, u), conjugate=tf.exp,\n"
        "    activation=lambda v: v, domain=Interval(), f_prime_at_1=1.0), validate_math=False)\n"
    )
    assert cli.main(["--plugins", str(plugin), "check-divergence", "kl_exp"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  conjugate" in out and "check(s) FAILED" in out


def test_check_without_spec_is_a_usage_error(capsys):
    assert cli.main(["check-divergence"]) == 2
    assert "needs a SPEC" in capsys.readouterr().err


def test_unknown_divergence_is_one_line_with_suggestion():
    result = run_cli("check-divergence", "reverse_k")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("python -m fgan_bench")]
    assert errors == [errors[0]] and "did you mean 'reverse_kl'" in errors[0]
    assert "Traceback" not in result.stderr


def test_wrong_plugin_is_refused_naming_the_conjugate_check(tmp_path):
    plugin = tmp_path / "wrong_kl.py"
    plugin.write_text(
        "import tensorflow as tf\n"
        "from fgan_bench import Divergence, Interval, register_divergence\n"
        "register_divergence(Divergence(name='wrong_kl', f=lambda u: tf.math.xlogy(u, u), conjugate=tf.exp,\n"
        "    activation=lambda v: v, domain=Interval(), f_prime_at_1=1.0))\n"
    )
    result = run_cli("--plugins", str(plugin), "list", "divergences")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    first, *table = result.stderr.strip().splitlines()
    assert "wrong_kl.py" in first and "refused by the math validator (2 of 10 checks failed: conjugate" in first
    assert table[0] == "Validating divergence wrong_kl" and len(table) == 12  # the check table it promises
    assert any(line.split()[:2] == ["FAIL", "conjugate"] for line in table) and table[-1].endswith("FAILED")


def test_plugins_come_from_the_environment_variable_but_never_from_the_working_directory(tmp_path):
    (tmp_path / "divergences").mkdir()
    (tmp_path / "divergences" / "triangular.py").write_text((REPO / "divergences" / "triangular.py").read_text())
    (tmp_path / "triangular.py").write_text((REPO / "divergences" / "triangular.py").read_text())
    plain = run_cli("list", "divergences", cwd=tmp_path)
    assert plain.returncode == 0 and "triangular" not in plain.stdout
    from_env = run_cli("list", "divergences", cwd=tmp_path, env={"FGAN_BENCH_PLUGINS": str(tmp_path / "divergences")})
    assert from_env.returncode == 0 and "triangular" in from_env.stdout


def test_help_and_argument_errors_do_not_load_tensorflow():
    result = run_cli("--help")
    assert result.returncode == 0 and "check-divergence" in result.stdout
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, fgan_bench.cli; m = sys.modules.get('tensorflow'); print(m is None)"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.stdout.strip() == "True", probe.stderr
