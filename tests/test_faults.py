"""Faults and bad input: each is refused with one line naming the fix, or survived."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

from fgan_bench import _isolation

REPO = pathlib.Path(__file__).resolve().parents[1]
TRAPPED = ("numpy", "h5py", "sklearn", "scipy")


def _environment() -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k != "FGAN_BENCH_PLUGINS"}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), environment.get("PYTHONPATH")]))
    return environment


@pytest.fixture
def booby_trapped(tmp_path):
    """A working directory whose numpy.py, h5py.py, sklearn.py and scipy.py leave a marker and exit 3."""
    for name in TRAPPED:
        (tmp_path / f"{name}.py").write_text(
            f"import pathlib, sys\npathlib.Path({str(tmp_path)!r}, 'TRAPPED-{name}').write_text('ran')\nsys.exit(3)\n"
        )
    return tmp_path


def _assert_not_trapped(result, directory):
    assert result.returncode == 0, result.stderr
    assert "variational_estimate" in result.stdout
    assert not list(directory.glob("TRAPPED-*")), "a module in the working directory was imported"


def test_python_m_imports_nothing_from_the_working_directory(booby_trapped):
    result = subprocess.run([sys.executable, "-m", "fgan_bench", "list", "metrics"], cwd=booby_trapped,
                            env=_environment(), capture_output=True, text=True, timeout=120)
    _assert_not_trapped(result, booby_trapped)


def test_console_script_imports_nothing_from_the_working_directory(booby_trapped):
    script = pathlib.Path(sys.executable).with_name("fgan-bench")
    if not script.is_file():
        pytest.skip(f"no fgan-bench console script next to {sys.executable}")
    result = subprocess.run([str(script), "list", "metrics"], cwd=booby_trapped,
                            env=_environment(), capture_output=True, text=True, timeout=120)
    _assert_not_trapped(result, booby_trapped)


@pytest.mark.parametrize(
    ("orig_argv", "removed"),
    [
        (["python", "-m", "fgan_bench", "list"], True),
        (["python", "-X", "dev", "-Wignore", "-m", "fgan_bench.cli"], True),
        (["python", "-m", "someone_elses_package"], False),  # their package may import from the cwd
        (["python", "-c", "import fgan_bench"], False),
    ],
)
def test_only_the_working_directory_entry_of_python_m_is_removed(monkeypatch, orig_argv, removed):
    cwd = os.getcwd()
    path = [cwd, cwd, "/site-packages"]  # the second: the working directory named in $PYTHONPATH
    monkeypatch.setattr(sys, "argv", ["-m"])
    monkeypatch.setattr(sys, "orig_argv", orig_argv)
    monkeypatch.setattr(sys, "path", list(path))
    assert _isolation.isolate_from_working_directory() is removed
    assert sys.path == (path[1:] if removed else path)


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("import sys\nsys.exit(0)\n", "called sys.exit(0)"),
        ("class Stop(BaseException):\n    pass\nraise Stop('from the plugin')\n", "Stop: from the plugin"),
    ],
)
def test_plugin_that_exits_at_import_is_named_and_fails(tmp_path, capsys, body, said):
    from fgan_bench import cli

    plugin = tmp_path / "quitter.py"
    plugin.write_text(body)
    status = cli.main(["--plugins", str(plugin), "list", "divergences"])
    out, err = capsys.readouterr()
    assert status == cli.EXIT_USAGE and out == ""
    assert len(err.strip().splitlines()) == 1 and "quitter.py" in err and said in err
