"""Evaluation in training (the callback), at the end of a run, and by `fgan_bench evaluate`."""

import json

import numpy as np
import pandas as pd
import pytest

from fgan_bench import cli
from fgan_bench.config import RunConfig
from fgan_bench.runner import run, run_directory

SMALL = {"steps": 200, "width": 32, "depth": 2, "batch_size": 64, "log_every": 50, "steps_per_execution": 25}


def test_periodic_evaluation_lands_in_metrics_csv_and_evaluate_recomputes_it(tmp_path, capsys):
    config = RunConfig(divergence="kl", eval_every=100, **SMALL)
    result = run(config, tmp_path, progress=False)
    directory = run_directory(config.resolved(), tmp_path)
    history = pd.read_csv(directory / "metrics.csv")
    assert history["step"].tolist() == [50, 100, 150, 200]
    assert history["mmd2"].isna().tolist() == [True, False, True, False]
    assert history["true_kl"].notna().sum() == 2 and history["critic_loss"].notna().all()
    quality = result["quality"]
    # The last periodic evaluation and the final one use the same fixed noise: same samples, same values.
    assert history["mmd2"].iloc[-1] == pytest.approx(quality["mmd2"])
    assert quality["modes_total"] == 8 and 0 <= quality["high_quality_fraction"] <= 1

    assert cli.main(["evaluate", str(directory), "--metrics", "modes,mmd,variational_estimate"]) == 0
    evaluation = json.loads((directory / "evaluation.json").read_text())
    assert set(evaluation["metrics"]) == {
        "modes_captured",
        "high_quality_fraction",
        "mode_kl",
        "mmd2",
        "variational_estimate",
    }
    assert evaluation["metrics"]["mmd2"] == pytest.approx(quality["mmd2"])
    assert evaluation["metrics"]["variational_estimate"] == pytest.approx(quality["variational_estimate"], rel=1e-5)
    assert "mmd2" in capsys.readouterr().out


def test_evaluate_refuses_what_is_not_a_run(tmp_path, capsys):
    assert cli.main(["evaluate", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err
    assert cli.main(["evaluate", str(tmp_path), "--metrics", "precison_recall"]) == 2
    assert "precision_recall" in capsys.readouterr().err


def test_linear_generator_gets_the_exact_divergence(tmp_path):
    config = RunConfig(divergence="kl", dataset="mixture1d", steps=100, log_every=50, steps_per_execution=50)
    result = run(config, tmp_path, progress=False)
    mean, std = result["generator_density"]["mean"][0], result["generator_density"]["std"][0]
    assert result["quality"]["kde_bandwidth"] == 0.0
    from fgan_bench import get_divergence
    from fgan_bench.datasets import get_dataset
    from fgan_bench.metrics import density

    # The run's exact D_f agrees with a direct quadrature at its learned θ.
    direct = density.true_divergences(
        get_dataset("mixture1d"),
        None,
        [get_divergence("kl")],
        real=get_dataset("mixture1d").sample(10000, seed=config.seed + 1_000_003),
        generator_density=density.DiagonalGaussian(np.array([mean]), np.array([std])),
    )
    assert result["quality"]["true_kl"] == pytest.approx(direct["true_kl"], rel=1e-3)


@pytest.mark.slow
def test_digits_run_reports_the_image_metrics(tmp_path):
    config = RunConfig(divergence="gan", dataset="digits", steps=100, filters=16, log_every=50, num_samples=2000)
    quality = run(config, tmp_path, progress=False)["quality"]
    assert {
        "parzen_log_likelihood",
        "parzen_log_likelihood_sem",
        "classifier_frechet_distance",
        "classifier_kid",
        "classifier_precision",
        "classifier_recall",
        "mmd2",
        "kid",
    } <= set(quality)
    assert quality["classifier_accuracy"] >= 0.95
    assert np.isfinite(quality["parzen_log_likelihood"]) and quality["classifier_frechet_distance"] > 0
