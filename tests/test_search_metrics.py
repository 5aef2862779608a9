"""Search-time evaluation: a protocol's trials evaluate the score and the cheap metrics, its
confirmation runs every metric; `[search] metrics` and a run's `metrics` option checked in one line."""

import json
from pathlib import Path

import pandas as pd
import pytest

from fgan_bench import cli
from fgan_bench.config import RunConfig
from fgan_bench.errors import ConfigError, FganBenchError
from fgan_bench.sweeps import load_sweep

HEAD = '[sweep]\nname = "p"\ndatasets = ["ring8"]\ndivergences = ["kl"]\nseeds = [0]\n'
SPACE = "[search.space]\ngenerator_lr = { log_uniform = [1e-4, 1e-2] }\n"
#: Its two trials train as one population (each member evaluated as a single run is), its confirmation run alone.
TINY = HEAD.replace("ring8", "mixture1d").replace('"p"', '"tiny"') + (
    "[defaults]\nsteps = 20\nlog_every = 10\nsteps_per_execution = 10\nnum_samples = 200\npopulation = 2\n"
    "[search]\ntrials = 2\n" + SPACE + "[confirm]\nseeds = 1\n")


def _protocol(tmp_path, text):
    from fgan_bench.sweeps.protocol import load_protocol

    path = tmp_path / "p.toml"
    path.write_text(text)
    return load_protocol(load_sweep(path))


def test_cheap_metrics_are_the_registered_ones_that_apply():
    from fgan_bench.metrics import cheap_metrics, get_metric

    assert cheap_metrics("ring8") == ["sliced_wasserstein", "modes"]  # ring8 has modes ...
    assert cheap_metrics("mixture1d") == ["sliced_wasserstein"]  # ... mixture1d none
    assert not any(get_metric(name).cheap for name in ("true_divergence", "kid", "mmd", "precision_recall"))


def test_an_output_name_evaluates_that_output_alone():
    from fgan_bench.datasets import get_dataset
    from fgan_bench.metrics import evaluate

    dataset = get_dataset("mixture1d")
    fake, real = dataset.sample(400, seed=1), dataset.held_out(800, seed=0)
    timings: dict[str, float] = {}
    chosen = evaluate(dataset, fake, ["true_jensen_shannon", "sliced_wasserstein"], real=real, timings=timings)
    every = evaluate(dataset, fake, ["true_divergence"], real=real)
    assert set(chosen) == {"true_jensen_shannon", "sliced_wasserstein"} and set(timings) == {"true_divergence",
                                                                                            "sliced_wasserstein"}
    assert len([k for k in every if k.startswith("true_")]) > 10  # the whole metric: every example divergence
    assert chosen["true_jensen_shannon"] == pytest.approx(every["true_jensen_shannon"], rel=1e-12)


def test_the_metrics_option_is_checked_and_leaves_the_run_id_alone():
    plain = RunConfig(divergence="kl", dataset="ring8").resolved()
    chosen = RunConfig(divergence="kl", dataset="ring8", metrics=("true_jensen_shannon", "modes")).resolved()
    assert chosen.run_id == plain.run_id and chosen.metrics == ("true_jensen_shannon", "modes")
    assert RunConfig.from_dict(json.loads(json.dumps(chosen.to_dict()))) == chosen  # config.json round trip
    with pytest.raises(ConfigError, match=r"^metrics: metric parzen does not apply to dataset 'ring8'"):
        RunConfig(divergence="kl", dataset="ring8", metrics=("parzen",)).resolved()
    with pytest.raises(ConfigError, match=r"^metrics: unknown metric 'mdm'; did you mean 'mmd'"):
        RunConfig(divergence="kl", dataset="ring8", metrics=("mdm",)).resolved()


def test_search_metrics_decide_what_a_trial_evaluates(tmp_path, capsys):
    text = HEAD + "[search]\ntrials = 2\n" + SPACE
    assert _protocol(tmp_path, text).trial_metrics("ring8") == ("true_jensen_shannon", "sliced_wasserstein", "modes")
    assert _protocol(tmp_path, text.replace("trials = 2\n", "trials = 2\nmetrics = 'all'\n")).trial_metrics(
        "ring8") is None
    listed = _protocol(tmp_path, text.replace("trials = 2\n", "trials = 2\nmetric = 'mmd2'\nmetrics = ['kid']\n"))
    assert listed.trial_metrics("ring8") == ("mmd2", "kid")
    assert cli.main(["sweep", str(tmp_path / "p.toml"), "--dry-run"]) == 0
    assert "ring8: each search trial evaluates mmd2, kid" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("search", "defaults", "message"),
    [
        ("metrics = 'cheap'\n", "", r"^\S*p.toml:8: \[search\] metrics must be \"decision\" .*, got 'cheap'$"),
        ("metrics = []\n", "", r"^\S*p.toml:8: \[search\] metrics must be"),
        ("metrics = ['parzen']\n", "", r"^\S*p.toml:8: \[search\] metrics: metric parzen does not apply to dataset "
                                       r"'ring8'"),
        ("metric = 'classifier_frechet_distance'\n", "", r"^\S*p.toml:8: \[search\] metric: metric classifier does not "
                                                         r"apply"),
        ("", "[defaults]\nmetrics = ['mmd']\n", r"^\S*p.toml:7: metrics: the confirmation runs on ring8 would not "
                                                r"evaluate the score 'true_jensen_shannon'"),
    ],
)
def test_bad_search_metrics_are_one_line_naming_the_key(tmp_path, capsys, search, defaults, message):
    from fgan_bench.sweeps.protocol_checks import check_protocol

    path = tmp_path / "p.toml"
    path.write_text(HEAD + defaults + "[search]\ntrials = 2\n" + search + SPACE)
    with pytest.raises(FganBenchError, match=message) as raised:
        sweep = load_sweep(path)
        from fgan_bench.sweeps.protocol import load_protocol

        check_protocol(sweep, load_protocol(sweep), [("ring8", "kl")])
    assert "\n" not in str(raised.value)
    assert cli.main(["sweep", str(path), "--dry-run"]) != 0  # the command line: the same line, no traceback
    assert "Traceback" not in capsys.readouterr().err


def _quality(run: Path) -> tuple[set[str], set[str]]:
    result = json.loads((run / "result.json").read_text())
    return set(result["quality"]), set(result["evaluation_seconds"])


@pytest.mark.slow
def test_trials_evaluate_the_score_and_cheap_metrics_and_confirmation_runs_every_metric(tmp_path):
    import html as html_module

    (tmp_path / "tiny.toml").write_text(TINY)
    assert cli.main(["sweep", str(tmp_path / "tiny.toml"), "--jobs", "1", "--out", str(tmp_path / "out")]) == 0
    sweep_dir = tmp_path / "out" / "tiny"
    phase = json.loads((sweep_dir / "sweep.json").read_text())["protocol"]["phase"]
    searched = [sweep_dir / "runs" / r for r, p in phase.items() if p == "search"]
    (confirmed,) = [sweep_dir / "runs" / r for r, p in phase.items() if p == "confirm"]
    assert len(searched) == 2
    chosen = ["true_jensen_shannon", "sliced_wasserstein"]  # the score and the one cheap metric of mixture1d
    for run in searched:
        assert _quality(run) == (set(chosen), {"true_divergence", "sliced_wasserstein"})
        assert json.loads((run / "config.json").read_text())["metrics"] == chosen
    outputs, metrics = _quality(confirmed)
    assert {"true_divergence", "mmd", "kid", "precision_recall", "sliced_wasserstein"} <= metrics
    # One worker (--jobs 1) trained the search batch and then the confirmation run: the protocol keeps it.
    from fgan_bench.rundir import RunDirectory

    assert len({RunDirectory(run).holder_pid() for run in [*searched, confirmed]}) == 1
    assert {"true_jensen_shannon", "true_kl", "mmd2", "kid", "precision"} <= outputs
    # The report: trials scored on the main metric, every other metric's table from the confirmation run.
    trials = pd.read_csv(sweep_dir / "trials.csv")
    assert trials["value"].notna().all() and set(trials["metric"]) == {"true_jensen_shannon"}
    summary = pd.read_csv(sweep_dir / "summary.csv")
    assert (summary["count"] == 1).all() and {"kid", "mmd2", "true_kl"} <= set(summary["metric"])
    html = html_module.unescape((sweep_dir / "report.html").read_text())
    assert "Each search trial evaluated mixture1d: true_jensen_shannon, sliced_wasserstein;" in html
    assert "nan" not in html[html.index('<section id="answer">'):html.index("</section>")].lower()
