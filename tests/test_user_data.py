"""Your own data, first-class (issue 16): a named file with a seeded held-out split used by the
metrics, image folders whose class sub-folders give labels, and the gallery drawing the data."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fgan_bench.datasets import get_dataset
from fgan_bench.datasets.user_data import dataset_label, split_rows

ROOT = Path(__file__).resolve().parent.parent


def _moons(path, n=600, seed=0):
    from sklearn.datasets import make_moons

    points, _ = make_moons(n, noise=0.05, random_state=seed)
    np.save(path, points.astype(np.float32))
    return points


def test_a_named_file_holds_out_a_seeded_fifth_never_trained_on(tmp_path):
    points = _moons(tmp_path / "moons.npy")
    data = get_dataset(f"file:path={tmp_path / 'moons.npy'},name=moons")
    assert data.name == "file" and dataset_label(data.spec) == "moons"
    assert len(data.test_array) == 120 and len(data.array) == 480  # test_fraction 0.2 by default
    train_rows = {tuple(r) for r in data.array.round(6)}
    assert not any(tuple(r) in train_rows for r in data.test_array.round(6))  # disjoint
    assert len(train_rows | {tuple(r) for r in data.test_array.round(6)}) == len(points)
    again = get_dataset(f"file:path={tmp_path / 'moons.npy'},name=moons")
    np.testing.assert_array_equal(again.test_array, data.test_array)  # seeded: the same split every time
    held = data.held_out(50, seed=3)
    assert {tuple(r) for r in held.round(6)} <= {tuple(r) for r in data.test_array.round(6)}
    whole = get_dataset(f"file:path={tmp_path / 'moons.npy'},test_fraction=0")
    assert whole.test_array is None and len(whole.array) == 600


def test_split_is_stratified_and_refuses_bad_fractions(tmp_path):
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    train, test = split_rows(100, 0.2, labels)
    assert np.bincount(labels[test]).tolist() == [10, 6, 4] and len(set(train) | set(test)) == 100
    assert len(split_rows(5, 0.2)[1]) == 0  # one held-out row is too few for any metric: no split
    _moons(tmp_path / "m.npy", n=50)
    import fgan_bench

    with pytest.raises(fgan_bench.SpecError, match=r"test_fraction must be in \[0, 1\)"):
        get_dataset(f"file:path={tmp_path / 'm.npy'},test_fraction=1.5")
    with pytest.raises(fgan_bench.SpecError, match="name="):
        get_dataset(f"file:path={tmp_path / 'm.npy'},name=a/b")


def _bar_images(folder: Path, count: int, vertical: bool, rng) -> None:
    from PIL import Image

    folder.mkdir(parents=True)
    for i in range(count):
        image = rng.uniform(0.0, 0.2, (8, 8))
        column = rng.integers(1, 7)
        if vertical:
            image[:, column] = 1.0
        else:
            image[column, :] = 1.0
        Image.fromarray((image * 255).astype(np.uint8), mode="L").save(folder / f"{i:03d}.png")


def test_image_folder_with_class_sub_folders_gives_labels(tmp_path):
    rng = np.random.default_rng(0)
    _bar_images(tmp_path / "bars" / "horizontal", 30, False, rng)
    _bar_images(tmp_path / "bars" / "vertical", 20, True, rng)
    data = get_dataset(f"file:path={tmp_path / 'bars'},name=bars")
    assert data.kind == "image" and data.shape == (8, 8, 1) and data.labelled
    assert np.bincount(data.test_labels).tolist() == [6, 4] and np.bincount(data.labels).tolist() == [24, 16]
    vertical = data.array[data.labels == 1]  # label 1 = the second sub-folder by name: a bright column
    assert (vertical.mean(axis=1).max(axis=1) > 0.5).all()


def _environment():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.mark.slow
def test_a_sweep_on_a_named_file_reports_it_by_name_with_held_out_metrics(tmp_path):
    _moons(tmp_path / "moons.npy")
    (tmp_path / "mine.toml").write_text(
        "[sweep]\nname = 'mine'\ndatasets = ['file:path=moons.npy,name=moons']\ndivergences = ['kl']\n"
        "seeds = [0]\n[defaults]\nsteps = 100\nlog_every = 50\nwidth = 16\nnum_samples = 300\n")
    process = subprocess.run([sys.executable, "-m", "fgan_bench", "sweep", "mine.toml", "--out", "out"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=600, env=_environment())
    assert process.returncode == 0, process.stdout + process.stderr
    import pandas as pd

    results = pd.read_csv(tmp_path / "out" / "mine" / "results.csv")
    metrics = set(results["metric"])
    assert {"memorisation_share", "mmd2", "precision"} <= metrics  # memorisation runs: there is a held-out split
    html = (tmp_path / "out" / "mine" / "report.html").read_text()
    assert '>moons</h2>' in html and "file:path=moons.npy" not in html.split("<h2", 1)[0].split("<nav", 1)[-1]
    assert "final samples (orange) over 120 held-out data points (grey)" in html


@pytest.mark.slow
def test_training_on_an_image_folder_with_classes_gets_the_classifier_metrics(tmp_path, monkeypatch):
    import fgan_bench

    rng = np.random.default_rng(1)
    _bar_images(tmp_path / "bars" / "horizontal", 40, False, rng)
    _bar_images(tmp_path / "bars" / "vertical", 40, True, rng)
    config = fgan_bench.RunConfig(divergence="gan", dataset=f"file:path={tmp_path / 'bars'},name=bars", steps=40,
                                  log_every=20, steps_per_execution=20, filters=8, batch_size=32, num_samples=200)
    # Restored afterwards (not popped): later tests in this process keep conftest's private cache.
    monkeypatch.setenv("FGAN_BENCH_CACHE", str(tmp_path / "cache"))
    result = fgan_bench.run(config, tmp_path / "out", progress=False)
    quality = result["quality"]
    assert result["status"] == "completed"
    assert {"classifier_frechet_distance", "classifier_accuracy", "memorisation_share"} <= set(quality)
    assert quality["classifier_accuracy"] > 0.9  # horizontal against vertical bars: easy to tell apart


def test_an_unknown_dataset_name_suggests_your_own_data_not_a_far_name():
    import fgan_bench

    with pytest.raises(fgan_bench.UnknownNameError, match=r"file:path=FILE.npy,name=moons") as error:
        get_dataset("moons")
    assert "did you mean" not in str(error.value)
    with pytest.raises(fgan_bench.UnknownNameError, match="did you mean 'ring8'"):
        get_dataset("rign8")
