"""Faults and bad input: each is refused with one line naming the fix, or survived."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import fgan_bench
from fgan_bench import _isolation
from fgan_bench.datasets import get_dataset

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


# --- user data ---------------------------------------------------------------------------------------------------

def _vectors(n=20, d=3):
    return np.random.default_rng(0).normal(size=(n, d))


def _write_bad_data(directory, case):
    """One bad data file (or folder); returns (its path, the words the error must contain)."""
    file = directory / "data.npy"
    if case == "nan":
        data = _vectors()
        data[0, 0], data[1, 1], data[2, 2], data[3, 0] = np.nan, np.nan, np.inf, -np.inf
        np.save(file, data)
        return file, "4 of 60 values are NaN or infinite"
    if case == "absurd":
        data = _vectors()
        data[:2, 0] = 1e30
        np.save(file, data)
        return file, "2 values exceed 1e+06 in magnitude"
    if case == "complex":
        np.save(file, _vectors() + 1j)
        return file, "complex values"
    if case == "empty file":
        file.write_bytes(b"")
        return file, "it is empty"
    if case == "zero rows":
        np.save(file, np.zeros((0, 3)))
        return file, "no examples"
    if case == "text named npy":
        file.write_text("x,y\n1,2\n")
        return file, "not a readable NumPy"
    if case == "2x2 images":
        np.save(file, np.zeros((10, 2, 2)))
        return file, "2×2 images"
    if case == "broken png":
        from matplotlib import image as mpimg

        folder = directory / "images"
        folder.mkdir()
        mpimg.imsave(folder / "a.png", np.zeros((8, 8)), cmap="gray")
        (folder / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
        return folder, "b.png: not a readable image"
    raise AssertionError(case)


BAD_DATA = ["nan", "absurd", "complex", "empty file", "zero rows", "text named npy", "2x2 images", "broken png"]


@pytest.mark.parametrize("case", BAD_DATA)
def test_bad_user_data_is_refused_in_one_line_naming_the_file(tmp_path, case):
    path, words = _write_bad_data(tmp_path, case)
    with pytest.raises(fgan_bench.FganBenchError) as caught:
        get_dataset(f"file:path={path}")
    message = str(caught.value)
    assert words in message and str(path.name) in message and "\n" not in message


def test_bad_data_through_the_command_line_is_one_line_before_training(tmp_path, capsys):
    from fgan_bench import cli

    path, words = _write_bad_data(tmp_path, "nan")
    status = cli.main(["run", "--divergence", "kl", "--dataset", f"file:path={path}", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == cli.EXIT_USAGE and words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_npy_named_npz_is_read_by_content(tmp_path):
    np.save(tmp_path / "data.npy", _vectors())
    (tmp_path / "data.npy").rename(tmp_path / "data.npz")
    dataset = get_dataset(f"file:path={tmp_path / 'data.npz'}")
    np.testing.assert_allclose(dataset.array, _vectors().astype(np.float32))


def test_mnist_file_is_checked_too(tmp_path):
    images = np.full((4, 8, 8), np.nan)
    np.savez(tmp_path / "m.npz", x_train=images)
    with pytest.raises(fgan_bench.FganBenchError, match="256 of 256 values are NaN"):
        get_dataset(f"mnist:path={tmp_path / 'm.npz'}")


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("mixture1d:sigma1=abc", "parameter sigma1 expects a number, got 'abc', e.g. sigma1=1.0"),
        ("mixture1d:weight=heavy", "parameter weight expects a number"),
    ],
)
def test_dataset_parameter_of_the_wrong_type_names_it(spec, words):
    with pytest.raises(fgan_bench.SpecError) as caught:
        get_dataset(spec)
    assert words in str(caught.value)


def test_a_comma_in_a_path_is_quoted_and_the_spec_reads_back(tmp_path):
    file = tmp_path / "runs,2024" / "a,b.npy"
    file.parent.mkdir()
    np.save(file, _vectors())
    for quote in "\"'":
        dataset = get_dataset(f"file:path={quote}{file}{quote}")
        assert dataset.array.shape == (20, 3) and dataset.parameters["path"] == str(file)
    assert get_dataset(dataset.spec).fingerprint == dataset.fingerprint  # the spec quotes the path again
    with pytest.raises(fgan_bench.SpecError, match="unclosed"):
        get_dataset(f'file:path="{file}')


def test_fingerprint_follows_the_content_and_the_run_id_part_stays_short(tmp_path):
    from fgan_bench.datasets.fingerprint import MAX_LABEL_LENGTH, content_fingerprint, run_id_label

    deep = tmp_path.joinpath(*["a_rather_long_folder_name_" + "x" * 40] * 6)
    deep.mkdir(parents=True)
    file = deep / ("data_" + "y" * 150 + ".npy")
    np.save(file, _vectors())
    spec = get_dataset(f"file:path={file}").spec
    first = get_dataset(spec).fingerprint
    label = run_id_label(spec)
    assert first == content_fingerprint(file) and len(first) == 12 and first in label
    assert len(label) <= MAX_LABEL_LENGTH and str(deep) not in label
    np.save(file, _vectors() + 1.0)  # new data at the same path
    assert get_dataset(spec).fingerprint != first and run_id_label(spec) != label
    assert run_id_label("mixture1d:mu2=4.0") == "mixture1d:mu2=4.0" and get_dataset("ring8").fingerprint is None


# --- metrics ------------------------------------------------------------------------------------------------------

def test_a_metric_short_of_samples_is_skipped_with_its_reason():
    from fgan_bench.metrics import evaluate

    ring = get_dataset("ring8")
    real = np.random.default_rng(0).normal(size=(60, 2))
    skipped = {}
    assert evaluate(ring, real[:1], real=real, skipped=skipped) == {}  # every default metric, none can run
    assert {"mmd", "kid", "precision_recall", "true_divergence", "modes"} <= set(skipped)
    assert skipped["precision_recall"] == "needs at least 4 generated examples (k-NN with k = 3), got 1"
    cheap = ["mmd", "precision_recall", "sliced_wasserstein", "modes"]  # true_divergence's quadrature is slow
    skipped = {}
    values = evaluate(ring, real[:3], cheap, real=real, skipped=skipped)
    assert set(skipped) == {"precision_recall"} and "mmd2" in values and "modes_captured" in values
    with pytest.warns(UserWarning, match="precision_recall skipped: needs at least 4 real examples"):
        values = evaluate(ring, real, cheap, real=real[:3])
    assert "sliced_wasserstein" in values and "precision" not in values


def test_sample_shortfalls_before_training(tmp_path):
    from fgan_bench.metrics import sample_shortfalls

    assert sample_shortfalls("ring8", 1000) == {}
    short = sample_shortfalls("ring8", 1)
    assert {"mmd", "precision_recall"} <= set(short) and "got 1 from --num-samples" in short["precision_recall"]
    np.save(tmp_path / "three.npy", _vectors(n=3))
    few_rows = sample_shortfalls(f"file:path={tmp_path / 'three.npy'}", 1000)
    assert set(few_rows) == {"precision_recall"} and "the data has 3" in few_rows["precision_recall"]


def test_a_metric_that_does_not_apply_is_a_one_line_error():
    from fgan_bench.metrics import check_metric_names, evaluate

    with pytest.raises(fgan_bench.FganBenchError) as caught:
        check_metric_names(["mmd", "parzen"], "ring8")
    message = str(caught.value)
    assert message.startswith("metric parzen does not apply to dataset 'ring8' (vector data); choose from: ")
    assert "mmd" in message.split("choose from:")[1] and "parzen" not in message.split("choose from:")[1]
    assert [m.name for m in check_metric_names(["mmd", "modes"], "ring8")] == ["mmd", "modes"]
    ring_like = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(fgan_bench.FganBenchError, match="parzen does not apply"):
        evaluate("ring8", ring_like, ["parzen"], real=ring_like)


def test_exploded_values_mark_a_diverged_run():
    from fgan_bench.metrics import DIVERGED_MAGNITUDE, exploded_values

    assert exploded_values({"mmd2": 0.02, "kid": 12.0, "precision": 0.9, "parzen_log_likelihood": -250.0}) == {}
    blown = exploded_values({"kid": 3.8e29, "mmd2": float("nan"), "sliced_wasserstein": -float("inf"), "recall": 0.5})
    assert set(blown) == {"kid", "mmd2", "sliced_wasserstein"} and "3.8e+29" in blown["kid"]
    assert exploded_values({"x": DIVERGED_MAGNITUDE}) == {} and exploded_values({"x": -2 * DIVERGED_MAGNITUDE})


# --- sweep files ----------------------------------------------------------------------------------------------------

SWEEP_HEAD = "[sweep]\ndatasets = ['ring8']\ndivergences = ['kl']\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sweep]\nname = '..'\ndatasets = ['ring8']\ndivergences = ['kl']\n", "sweep.toml:2: name: expected a folder"),
        ("[sweep]\nname = '.'\ndatasets = ['ring8']\ndivergences = ['kl']\n", "got '.'"),
        ("[sweep]\nname = '../out'\ndatasets = ['ring8']\ndivergences = ['kl']\n", "got '../out'"),
        ("[sweep]\nname = 'a/b'\ndatasets = ['ring8']\ndivergences = ['kl']\n", "got 'a/b'"),
        (SWEEP_HEAD + "seeds = [true]\n", "sweep.toml:4: seeds: expected a non-empty list of integers in [0, 2³² − 1]"),
        (SWEEP_HEAD + "seeds = ['a']\n", 'got ["a"]'),
        (SWEEP_HEAD + "seeds = [4294967296]\n", "seeds: expected"),
        ("[sweep]\ndatasets = ['ring8']\ndivergences = 'kl'\n", 'sweep.toml:3: divergences: expected a non-empty list'),
        ("[sweep]\ndatasets = [1]\ndivergences = ['kl']\n", "sweep.toml:2: datasets: expected a list of strings"),
    ],
)
def test_unsafe_names_and_wrongly_typed_sweep_values_are_one_line(tmp_path, text, message):
    from fgan_bench.sweeps import load_sweep

    (tmp_path / "sweep.toml").write_text(text)
    with pytest.raises(fgan_bench.FganBenchError) as caught:
        load_sweep(tmp_path / "sweep.toml")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_non_utf8_sweep_file_is_one_line(tmp_path):
    from fgan_bench.sweeps import load_sweep

    (tmp_path / "sweep.toml").write_bytes(SWEEP_HEAD.encode() + b"description = 'caf\xe9'\n")
    with pytest.raises(fgan_bench.FganBenchError, match=r"sweep.toml: not UTF-8 text .* save the sweep file as UTF-8"):
        load_sweep(tmp_path / "sweep.toml")


def test_duplicate_sweep_entries_run_once_with_one_warning(tmp_path, capsys):
    from fgan_bench.sweeps import load_sweep

    (tmp_path / "sweep.toml").write_text(
        "[sweep]\ndatasets = ['ring8', 'ring8']\ndivergences = ['kl', 'kullback_leibler', 'gan', 'kl']\n"
        "seeds = [0, 0, 1]\n[defaults]\nsteps = 10\n"
    )
    sweep = load_sweep(tmp_path / "sweep.toml")
    configs = sweep.resolved_configs()
    assert [(c.divergence, c.seed) for c in configs] == [("kl", 0), ("kl", 1), ("gan", 0), ("gan", 1)]
    assert sweep.resolved_configs() == configs
    warning = capsys.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and "duplicate entries" in warning[0]  # once, though resolved twice
    assert "ring8 × kl, seed 0 ×12" in warning[0] and "ring8 × gan, seed 1 ×2" in warning[0]


# --- divergence family members ------------------------------------------------------------------------------------

def test_a_family_member_must_pass_the_validator_before_a_run(tmp_path, capsys, monkeypatch):
    from fgan_bench import cli, divergences

    calls = []
    real_validate = divergences.validate_divergence
    monkeypatch.setattr(divergences, "validate_divergence", lambda d: calls.append(d.spec) or real_validate(d))
    for _ in range(2):
        with pytest.raises(fgan_bench.InvalidDivergenceError, match="math validator: .*convexity failed"):
            divergences.get_divergence("alpha:1e308")
    assert calls == ["alpha:1e+308"]  # validated once per process and spec
    assert divergences.get_divergence("alpha:1e308", validated=False).spec == "alpha:1e+308"  # check-divergence
    assert divergences.get_divergence("alpha:0.5").spec == "alpha:0.5" and calls == ["alpha:1e+308"]  # an example
    assert divergences.get_divergence("alpha:1.5").spec == "alpha:1.5" and calls[-1] == "alpha:1.5"  # passes
    status = cli.main(["run", "--divergence", "alpha:1e308", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == cli.EXIT_USAGE and "convexity failed" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
