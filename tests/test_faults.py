"""Faults and bad input: each is refused with one line naming the fix, or survived."""

from __future__ import annotations

import json
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
    dataset = get_dataset(f"file:path={tmp_path / 'data.npz'},test_fraction=0")  # every row, in order
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
        assert dataset.array.shape == (16, 3) and dataset.test_array.shape == (4, 3)  # 20 % held out
        assert dataset.parameters["path"] == str(file)
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


# --- sweeps under faults ------------------------------------------------------------------------------------------

def _tiny(divergence, steps, **extra):
    from fgan_bench.config import RunConfig

    options = dict(steps=steps, log_every=50, steps_per_execution=50, width=8, batch_size=32, num_samples=200)
    return RunConfig(divergence=divergence, **{**options, **extra}).resolved()


def _wait_for(predicate, what, timeout=300):
    import time

    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.mark.slow
def test_a_worker_killed_from_outside_fails_its_run_and_the_sweep_goes_on(tmp_path):
    import signal
    import threading

    from fgan_bench import rundir
    from fgan_bench.sweeps.execute import execute

    victim, other = _tiny("kl", 50_000), _tiny("gan", 100)
    victim_dir = rundir.run_path(tmp_path, victim.run_id)

    def kill_its_worker():  # as the out-of-memory killer does, once the run is training
        _wait_for(lambda: (victim_dir / rundir.CHECKPOINT).exists(), "a checkpoint")
        os.kill(rundir.lock_holder_pid(victim_dir), signal.SIGKILL)

    killer = threading.Thread(target=kill_its_worker, daemon=True)
    killer.start()
    outcomes = {o["run_id"]: o for o in execute([victim, other], tmp_path, jobs=2)}
    killer.join()
    assert outcomes[victim.run_id]["status"] == "failed" and "SIGKILL" in outcomes[victim.run_id]["reason"]
    failure = json.loads((victim_dir / rundir.FAILURE).read_text())
    assert failure["signal"] == signal.SIGKILL and "killed by SIGKILL" in failure["reason"]
    # taken down with the pool, then run again
    assert outcomes[other.run_id]["status"] == "completed", outcomes[other.run_id]
    assert json.loads((rundir.run_path(tmp_path, other.run_id) / rundir.RESULT).read_text())["steps"] == 100


@pytest.mark.slow
def test_ctrl_c_stops_a_sweep_within_seconds_and_says_what_is_pending(tmp_path):
    import signal
    import time

    (tmp_path / "sweep.toml").write_text(
        "[sweep]\nname = 'long'\ndatasets = ['ring8']\ndivergences = ['kl', 'gan']\n"
        "[defaults]\nsteps = 50000\nlog_every = 50\nwidth = 8\nbatch_size = 32\n"
    )
    runs = tmp_path / "out" / "long" / "runs"
    process = subprocess.Popen(
        [sys.executable, "-m", "fgan_bench", "sweep", str(tmp_path / "sweep.toml"), "--out", str(tmp_path / "out")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, env=_environment(),
    )
    _wait_for(lambda: process.poll() is not None or list(runs.glob("*/checkpoint.weights.h5")), "a checkpoint")
    assert process.poll() is None, process.communicate()
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
    interrupted = time.time()
    out, err = process.communicate(timeout=120)
    seconds = time.time() - interrupted
    assert process.returncode == 130, err
    assert "Traceback" not in err and "sweep long interrupted" in err and "pending (2)" in err, err
    assert list(runs.glob("*/checkpoint.weights.h5")) and not list(runs.glob("*/result.json"))
    assert seconds < 60, f"took {seconds:.0f} s to stop"  # a run alone trains for minutes


# --- runs under faults and bad input --------------------------------------------------------------------------------

TINY_RUN = ["--steps", "100", "--log-every", "50", "--steps-per-execution", "50", "--width", "8", "--batch-size", "32",
            "--num-samples", "3", "--quiet"]


def _one_line_error(status, err):
    lines = [line for line in err.strip().splitlines() if not line.startswith("warning:")]
    assert status not in (0, None) and len(lines) == 1 and "Traceback" not in err, (status, err)
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished tiny run (ring8, kl, 100 steps): its directory."""
    from fgan_bench import cli

    out = tmp_path_factory.mktemp("trained")
    assert cli.main(["run", "--divergence", "kl", *TINY_RUN, "--out", str(out)]) == 0
    (directory,) = (out / "runs").iterdir()
    return directory


def _unfinished_copy(trained, tmp_path, name="copy"):
    import shutil

    directory = shutil.copytree(trained, tmp_path / "elsewhere" / name)
    (directory / "result.json").unlink()
    return directory


def test_resume_continues_the_named_directory_wherever_it_was_moved(trained, tmp_path, capsys):
    from fgan_bench import cli, rundir
    from fgan_bench.sweeps.results import run_record

    moved = _unfinished_copy(trained, tmp_path, "renamed-run")
    history = rundir.read_history(moved)
    rundir.write_csv_atomically(history[history["step"] <= 50], moved / "metrics.csv")
    capsys.readouterr()
    assert cli.main(["run", "--resume", str(moved), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"run directory: {moved}" in out
    result = json.loads((moved / "result.json").read_text())
    assert result["status"] == "completed" and result["steps"] == 100
    assert result["skipped_metrics"]["precision_recall"].startswith("needs at least 4 generated examples")
    assert [p.name for p in (tmp_path / "elsewhere").iterdir()] == ["renamed-run"]  # no new run anywhere
    assert not (tmp_path / "runs").exists()
    # A corrupt result.json is not a result: not done, named at report time, redone by --resume.
    (moved / "result.json").write_text('{"status": "compl')
    assert not rundir.is_done(moved)
    record, metrics = run_record(moved, rundir.read_config(moved))
    assert record["status"] == "unfinished" and "result.json is corrupt" in record["reason"] and not metrics
    assert cli.main(["run", "--resume", str(moved), "--quiet"]) == 0
    assert rundir.read_result(moved)["status"] == "completed"
    # Other options beside --resume are refused, named.
    status = cli.main(["run", "--resume", str(moved), "--steps", "200", "--out", "x"])
    line = _one_line_error(status, capsys.readouterr().err)
    assert "it takes no --steps, --out" in line and "--config" in line


def test_a_run_directory_in_use_is_refused_naming_the_holder(trained, tmp_path, capsys):
    from fgan_bench import cli, rundir

    directory = _unfinished_copy(trained, tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from fgan_bench import rundir\n"
         "with rundir.run_lock(sys.argv[1], wait=False):\n    print('held', flush=True); time.sleep(120)",
         str(directory)], stdout=subprocess.PIPE, text=True, env=_environment())
    try:
        assert holder.stdout.readline().strip() == "held"
        status = cli.main(["run", "--resume", str(directory)])
        line = _one_line_error(status, capsys.readouterr().err)
        assert f"{directory} is in use by pid {holder.pid}" in line
    finally:
        holder.kill()
        holder.wait()
    assert not rundir.is_done(directory)


def test_writers_of_one_file_at_once_never_fail_and_leave_one_whole_version(tmp_path):
    """Two sweeps sharing a study both write ``sweep.json``, the report, the tables: each writer
    has a temporary file of its own, so the last rename wins and neither fails."""
    import json
    import threading

    from fgan_bench import rundir

    path, errors = tmp_path / "sweep.json", []

    def write_many(writer):
        try:
            for i in range(200):
                rundir.write_json_atomically(path, {"writer": writer, "i": i, "padding": "x" * 4096})
        except Exception as error:  # noqa: BLE001 - collected, asserted below
            errors.append(error)

    threads = [threading.Thread(target=write_many, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[0]
    assert json.loads(path.read_text())["i"] == 199 and list(tmp_path.iterdir()) == [path]


def test_disk_full_while_checkpointing_is_one_line_and_keeps_the_last_checkpoint(tmp_path, capsys, monkeypatch):
    import errno

    from fgan_bench import cli, rundir
    from fgan_bench.trainer import steps_done
    from fgan_bench.weights_file import WeightsFile

    real_write = WeightsFile.write
    calls = []

    def write_then_fill_the_disk(self, path):
        calls.append(path)
        if len(calls) == 1:
            return real_write(self, path)
        pathlib.Path(path).write_bytes(b"half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(WeightsFile, "write", write_then_fill_the_disk)
    status = cli.main(["run", "--divergence", "kl", *TINY_RUN, "--out", str(tmp_path)])
    line = _one_line_error(status, capsys.readouterr().err)
    (directory,) = (tmp_path / "runs").iterdir()
    assert f"disk full writing {directory / 'checkpoint.weights.h5'}" in line and "free some space" in line
    assert not list(directory.glob(".*.tmp*"))  # the temporary file is removed
    from fgan_bench.build import build_trainer
    from fgan_bench.distribute import make_strategy

    gan = build_trainer(rundir.read_config(directory).resolved(), make_strategy("default"))
    rundir.load_checkpoint(gan, directory / "checkpoint.weights.h5")  # the previous checkpoint is intact
    assert steps_done(gan) == 50


def test_write_errors_name_the_file_and_the_fix(tmp_path):
    import errno

    from fgan_bench import rundir

    target = tmp_path / "result.json"
    target.write_text('{"status": "completed"}')

    def fill(temporary):
        temporary.write_text("{")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(fgan_bench.FganBenchError, match=r"^disk full writing .*result.json .*[KM]iB free"):
        rundir.write_atomically(target, fill)
    assert target.read_text() == '{"status": "completed"}' and [p.name for p in tmp_path.iterdir()] == ["result.json"]
    (tmp_path / "a-file").write_text("")
    with pytest.raises(fgan_bench.FganBenchError, match="is a file of that name in the way"):
        rundir.make_directory(tmp_path / "a-file")


def test_out_of_memory_is_one_line_suggesting_a_smaller_batch(tmp_path):
    import keras
    import tensorflow as tf

    from fgan_bench.runner import run

    class Exhaust(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor with shape[4096,4096]")

    with pytest.raises(fgan_bench.FganBenchError, match=r"out of memory training with --batch-size 32 .* smaller"):
        run(_tiny("kl", 100), tmp_path, progress=False, callbacks=(Exhaust(),))


def test_exploded_final_values_mark_the_run_diverged():
    from fgan_bench.run_status import judge as _mark_exploded  # what the runner applies to a finished run

    sane = {"status": "completed", "steps": 100, "final_metrics": {"critic_loss": 0.3, "wall_time_s": 2e7},
            "quality": {"mmd2": 0.1, "mode_kl": float("nan"), "true_pearson": 5e21}}
    _mark_exploded(sane)  # an undefined metric and an unbounded true divergence are no blow-up
    assert sane["status"] == "completed"
    blown = {**sane, "quality": {"mmd2": 0.1, "kid": 3.8e29}}
    _mark_exploded(blown)
    assert blown["status"] == "diverged" and blown["diverged"]["step"] == 100
    assert "kid = 3.8e+29 exceeds 1e+06" in blown["diverged"]["reason"]


def test_run_id_follows_the_content_of_user_data(tmp_path):
    from fgan_bench.config import RunConfig

    file = tmp_path / ("d" * 200) / "data.npy"
    file.parent.mkdir()
    np.save(file, _vectors())
    first = RunConfig(divergence="kl", dataset=f"file:path={file}").run_id
    np.save(file, _vectors() + 1.0)
    second = RunConfig(divergence="kl", dataset=f"file:path={file}").run_id
    assert first != second and first.startswith("file_path-data-") and len(first) < 120


def test_check_divergence_prints_a_failing_members_full_report(capsys):
    from fgan_bench import cli

    assert cli.main(["check-divergence", "alpha:1e308"]) == cli.EXIT_CHECK_FAILED
    out = capsys.readouterr().out
    assert "FAIL" in out and "check(s) FAILED" in out and len(out.splitlines()) > 5


# --- no traceback for any bad input of issue 9 ----------------------------------------------------------------------

def _damage(trained, tmp_path, what):
    """A copy of the finished run with one thing damaged; returns its path."""
    import shutil

    directory = pathlib.Path(shutil.copytree(trained, tmp_path / "damaged"))
    if what != "result":
        (directory / "result.json").unlink()
    if what == "truncated checkpoint":
        (directory / "checkpoint.weights.h5").write_bytes((directory / "checkpoint.weights.h5").read_bytes()[:300])
    elif what == "checkpoint folder":
        (directory / "checkpoint.weights.h5").unlink()
        (directory / "checkpoint.weights.h5").mkdir()
    elif what == "other architecture":
        config = json.loads((directory / "config.json").read_text())
        (directory / "config.json").write_text(json.dumps({**config, "width": 16}))
    elif what == "one sample":
        config = json.loads((directory / "config.json").read_text())
        (directory / "config.json").write_text(json.dumps({**config, "num_samples": 1}))
    elif what == "config":
        (directory / "config.json").write_text("{not json")
    elif what == "config list":
        (directory / "config.json").write_text("[1, 2]")
    elif what == "metrics":
        (directory / "metrics.csv").write_text('a,b\n"1,2\n\x00\x01')
    return directory


SWEEP_BASE = "[sweep]\ndatasets = ['ring8']\ndivergences = ['kl']\n"
#: (argv with {run}/{tmp} placeholders, what the run directory needs, words in the one line)
BAD_INPUTS = [
    (["run", "--divergence", "kl", "--seed", "-1"], None, "--seed: must be in [0, 2**32)"),
    (["run", "--divergence", "kl", "--seed", "4294967296"], None, "--seed: must be in [0, 2**32)"),
    (["run", "--divergence", "kl", "--width", "0"], None, "--width: must be positive"),
    (["run", "--divergence", "kl", "--depth", "-1"], None, "--depth: must be ≥ 0"),
    (["run", "--divergence", "kl", "--critic-lr", "inf"], None, "--critic-lr: must be a finite number"),
    (["run", "--divergence", "kl", "--critic-lr", "-1e-3"], None, "--critic-lr: must be positive"),
    (["run", "--divergence", "kl", "--beta1", "nan"], None, "--beta1"),
    (["run", "--divergence", "kl", "--beta1", "5"], None, "--beta1: must be in [0, 1)"),
    (["run", "--divergence", "kl", "--beta2", "-1"], None, "--beta2: must be in [0, 1)"),
    (["run", "--divergence", "alpha:1e308"], None, "convexity failed"),
    (["run", "--divergence", "kl", "--dataset", "mixture1d:sigma1=abc"], None, "sigma1 expects a number"),
    (["run", "--divergence", "kl", "--num-samples", "1"], None, "no metric can evaluate this run"),
    (["run", "--divergence", "kl", "--out", "{tmp}/a-file"], None, "is a file of that name in the way"),
    (["run", "--resume", "{tmp}/nowhere"], None, "no such run directory"),
    (["run", "--resume", "{run}", "--steps", "10"], "truncated checkpoint", "it takes no --steps"),
    (["run", "--resume", "{run}"], "truncated checkpoint", "checkpoint.weights.h5 cannot be loaded"),
    (["run", "--resume", "{run}"], "checkpoint folder", "is not a checkpoint file"),
    (["run", "--resume", "{run}"], "other architecture", "from another architecture"),
    (["run", "--resume", "{run}"], "one sample", "no metric can evaluate this run"),  # never a crash at the end
    (["run", "--resume", "{run}"], "config", "config.json cannot be read"),
    (["run", "--resume", "{run}"], "config list", "config.json is damaged"),
    (["run", "--resume", "{run}"], "metrics", "metrics.csv is damaged"),
    (["evaluate", "{run}"], "truncated checkpoint", "cannot be loaded"),
    (["evaluate", "{run}"], "checkpoint folder", "is not a run directory with a checkpoint"),
    (["evaluate", "{run}"], "other architecture", "from another architecture"),
    (["evaluate", "{run}"], "config", "config.json cannot be read"),
    (["evaluate", "{run}", "--metrics", "parzen"], "result", "parzen does not apply to dataset 'ring8'"),
    (["sweep", "{tmp}/bad.toml"], SWEEP_BASE + "name = '..'\n", "name: expected a folder"),
    (["sweep", "{tmp}/bad.toml"], SWEEP_BASE + "[defaults]\ncritic_lr = 'fast'\n", "critic_lr"),
    (["sweep", "{tmp}/bad.toml"], SWEEP_BASE + "seeds = [true]\n", "seeds: expected"),
    (["sweep", "{tmp}/bad.toml"], SWEEP_BASE.encode() + b"description = '\xe9'\n", "not UTF-8"),
    (["sweep", "{tmp}/bad.toml", "--out", "{tmp}/a-file"], SWEEP_BASE, "is a file of that name in the way"),
    (["report", "{tmp}"], None, "is not a sweep folder"),
]


@pytest.mark.parametrize(("argv", "setup", "words"), BAD_INPUTS, ids=[" ".join(c[0]) + f" [{c[1]!s:.20}]"
                                                                      for c in BAD_INPUTS])
def test_no_bad_input_prints_a_traceback(trained, tmp_path, capsys, monkeypatch, argv, setup, words):
    from fgan_bench import cli

    monkeypatch.delenv(cli.DEBUG_VARIABLE, raising=False)
    (tmp_path / "a-file").write_text("")
    run = _damage(trained, tmp_path, setup) if isinstance(setup, str) and "[sweep]" not in setup else None
    if isinstance(setup, bytes | str) and run is None:
        (tmp_path / "bad.toml").write_bytes(setup if isinstance(setup, bytes) else setup.encode())
    status = cli.main([a.format(run=run, tmp=tmp_path) for a in argv])
    captured = capsys.readouterr()
    line = _one_line_error(status, captured.err)
    assert words in line
    if run is not None and setup != "result":
        assert not (run / "result.json").exists()  # nothing trained or evaluated
