"""The fair protocol: [search]/[confirm] files, the shipped smoke protocol killed and resumed end to end,
its study storage, expected_max.csv and the report's answer; reports with nothing finished."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from fgan_bench import cli, rundir
from fgan_bench.errors import FganBenchError
from fgan_bench.sweeps import load_sweep

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "benchmarks" / "protocol_smoke.toml"
HEAD = '[sweep]\nname = "p"\ndatasets = ["ring8"]\ndivergences = ["kl"]\nseeds = [0]\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[search]\ntrials = 0\n[search.space]\nbeta1 = { uniform = [0.0, 0.9] }\n",
         r"p.toml:7: \[search\] trials must be a positive integer"),
        ("[search]\ntrials = 3\n[search.space]\nstepz = { int = [1, 5] }\n", r"p.toml:9: unknown run option 'stepz'"),
        ("[search]\ntrials = 3\n[search.space]\ngenerator_lr = { log_uniform = [0.0, 1e-2] }\n",
         r"p.toml:9: .*log_uniform needs \[low, high\] with low < high and low > 0"),
        ("[search]\ntrials = 3\nsampler = 'grid'\n[search.space]\nbeta1 = { uniform = [0.0, 0.9] }\n",
         r"p.toml:8: \[search\] sampler must be one of random, tpe"),
        ("[search]\ntrials = 3\n[search.space]\nbeta1 = { uniform = [0.0, 0.9] }\n[confirm]\nseeds = [0, 1]\n",
         r"p.toml:11: \[confirm\] seeds must be fresh"),
        ("[grid]\nbeta1 = [0.1]\n[search]\ntrials = 3\n[search.space]\nbeta1 = { uniform = [0.0, 0.9] }\n",
         r"p.toml:6: a protocol searches instead of a \[grid\]"),
    ],
)
def test_invalid_protocols_name_the_line_and_key(tmp_path, text, message):
    from fgan_bench.sweeps.protocol import load_protocol

    path = tmp_path / "p.toml"
    path.write_text(HEAD + text)
    with pytest.raises(FganBenchError, match=message):
        load_protocol(load_sweep(path))


def test_dry_run_describes_the_protocol(capsys):
    assert cli.main(["sweep", str(SMOKE), "--dry-run"]) == 0
    output = capsys.readouterr().out
    assert "ring8 × kl: 3 trials on true_jensen_shannon" in output
    assert "4 studies × (3 random trials + 2 confirmation seeds) = 20 runs at most" in output


def _protocol_process(out: Path, jobs: int = 2, log=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "fgan_bench", "sweep", str(SMOKE), "--out", str(out), "--jobs", str(jobs)],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


@pytest.fixture(scope="module")
def finished_protocol(tmp_path_factory):
    """The shipped smoke protocol, SIGKILLed (whole process group) mid-search, then finished by two
    processes at once sharing its study (as on two machines)."""
    out = tmp_path_factory.mktemp("protocol") / "out"
    runs = out / "protocol_smoke" / "runs"
    process = _protocol_process(out)
    deadline = time.time() + 900
    while time.time() < deadline:  # kill once some trials are done and others are mid-training
        done = list(runs.glob("*/result.json")) if runs.exists() else []
        started = [d for d in runs.glob("*") if (d / "metrics.csv").exists() and not (d / "result.json").exists()] \
            if runs.exists() else []
        if len(done) >= 2 and started:
            break
        assert process.poll() is None, process.stdout.read()
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    killed_with = {d.name for d in runs.glob("*") if (d / "result.json").exists()}
    logs = [out.parent / f"again-{i}.log" for i in range(2)]
    with logs[0].open("w") as first, logs[1].open("w") as second:
        again = [_protocol_process(out, jobs=1, log=log) for log in (first, second)]
        for process in again:
            process.wait(timeout=1800)
    outputs = [log.read_text() for log in logs]
    for process, output in zip(again, outputs):
        assert process.returncode == 0, output
    return out / "protocol_smoke", killed_with, outputs


def test_the_killed_protocol_resumes_with_no_trial_run_twice(finished_protocol):
    import optuna

    from fgan_bench.pruning import open_storage

    sweep_dir, killed_with, outputs = finished_protocol
    assert killed_with and all("report:" in output for output in outputs)
    # Each run was trained by one process: the runs the two processes say they trained add up to
    # the runs not finished before the kill (a run trained by both would count twice).
    trained = [int(re.search(r"sweep protocol_smoke: (\d+) run\(s\)", output).group(1)) for output in outputs]
    finished = {d.name for d in (sweep_dir / "runs").iterdir() if (d / "result.json").exists()}
    assert sum(trained) == len(finished - killed_with), trained
    storage = open_storage(str(sweep_dir / "study.journal"))  # the study storage lives in the sweep folder
    summaries = {s.study_name: s for s in optuna.get_all_study_summaries(storage)}
    assert set(summaries) == {f"protocol_smoke/{d}/{v}" for d in ("ring8", "mixture1d") for v in ("kl", "reverse_kl")}
    trial_runs = set()
    for name in summaries:
        trials = optuna.load_study(study_name=name, storage=storage).get_trials()
        budget = [t for t in trials if t.number < 3]
        assert len(budget) == 3 and all(t.state.name in ("COMPLETE", "PRUNED") for t in budget), name
        assert all(t.user_attrs.get("surplus") for t in trials if t.number >= 3)  # never run
        for trial in budget:
            trial_runs.add(trial.user_attrs["run_id"])
            if trial.state.name == "PRUNED":  # recorded with its step, in the study and in the run
                result = json.loads((sweep_dir / "runs" / trial.user_attrs["run_id"] / "result.json").read_text())
                assert result["status"] == "pruned" and result["pruned"]["step"] == trial.last_step
    run_dirs = {d.name for d in (sweep_dir / "runs").iterdir()}
    assert trial_runs <= run_dirs and len(run_dirs) <= len(trial_runs) + 4 * 2  # trials + confirmation seeds only
    for directory in (sweep_dir / "runs").iterdir():
        assert (directory / "result.json").exists(), directory.name
        steps = pd.read_csv(directory / "metrics.csv")["step"].tolist()
        assert steps == sorted(set(steps)), directory.name  # resumed runs have no step trained twice
    results = pd.read_csv(sweep_dir / "results.csv")
    assert not results.duplicated(["run_id", "metric"]).any()
    confirm = results[results["phase"] == "confirm"].drop_duplicates("run_id")
    assert set(confirm["seed"]) == {1, 2} and len(confirm) == 8  # best of each study × 2 fresh seeds


def test_protocol_writes_expected_max_and_trials(finished_protocol):
    sweep_dir = finished_protocol[0]
    table = pd.read_csv(sweep_dir / "expected_max.csv")
    assert list(table.columns) == ["dataset", "divergence", "metric", "budget", "expected_best", "spread",
                                   "band_low", "band_high"]
    assert set(table["metric"]) == {"true_jensen_shannon"}
    assert (table["band_low"] <= table["expected_best"] + 1e-12).all()
    assert (table["expected_best"] <= table["band_high"] + 1e-12).all()
    trials = pd.read_csv(sweep_dir / "trials.csv")
    for (dataset, divergence), curve in table.groupby(["dataset", "divergence"]):
        scores = trials[(trials["dataset"] == dataset) & (trials["divergence"] == divergence)]["value"].dropna()
        curve = curve.set_index("budget")["expected_best"]
        assert curve[1] == pytest.approx(scores.mean()) and curve.is_monotonic_decreasing  # lower is better
        assert curve[len(scores)] >= scores.min()


def test_protocol_report_answers_first(finished_protocol):
    import html as html_module

    sweep_dir = finished_protocol[0]
    html = html_module.unescape((sweep_dir / "report.html").read_text())
    answer = html[html.index('<section id="answer">'):html.index("</section>")]
    for dataset in ("ring8", "mixture1d"):
        assert f"On {dataset}, by true_jensen_shannon (main metric, lower is better), " in answer
    # One search replicate (of 2 seeds) per divergence: a mean, no interval, and no verdict.
    assert answer.count("(1 search replicate)") == 2 and "Student-t" not in answer.split("How the answer")[0]
    assert answer.count("no verdict: a verdict needs 3 search replicates per divergence") == 2
    assert "1 independent search replicate per divergence, each 3 random-search trials" in answer
    assert "2 fresh seed(s)" in answer and "worse" not in answer.split("How the answer")[0]
    assert html.index('id="answer"') < html.index('id="expected-max"') < html.index('id="dataset-ring8"')
    assert 'href="expected_max.csv"' in html and 'href="trials.csv"' in html and "table.sortable" in html
    assert "± 0" not in html and "http://" not in html and "https://" not in html
    answer_table = pd.read_csv(sweep_dir / "answer.csv")
    assert (answer_table["verdict"] == "no verdict").all() and (answer_table["seeds"] == 2).all()



def test_protocol_report_shows_the_across_dataset_iqm_and_probability_of_improvement(finished_protocol):
    import html as html_module

    from fgan_bench.aggregate import normalise

    sweep_dir = finished_protocol[0]
    html = html_module.unescape((sweep_dir / "report.html").read_text())
    section = html[html.index('id="across-datasets"'):html.index('id="dataset-ring8"')]
    assert "Across datasets: IQM and probability of improvement" in section and 'href="aggregate.csv"' in section
    assert html.index('id="critical-difference"') < html.index('id="across-datasets"')
    # One search replicate per divergence and dataset: point estimates, no interval, and the report says why.
    assert "No intervals: they need 3 search replicates per dataset and divergence" in section
    table = pd.read_csv(sweep_dir / "aggregate.csv")
    answer = pd.read_csv(sweep_dir / "answer.csv")
    normalised = pd.concat([group.assign(score=normalise(group["mean"].to_numpy(), "lower"))
                            for _, group in answer.groupby("dataset")])
    expected = normalised.groupby("divergence")["score"].mean()  # IQM of 2 values = their mean
    iqm = table[table["statistic"] == "iqm"].set_index("divergence")["value"]
    assert iqm.to_dict() == pytest.approx(expected.to_dict()) and table["ci_low"].isna().all()
    (improvement,) = table[table["statistic"] == "probability_of_improvement"].itertuples()
    wins = normalised.pivot(index="dataset", columns="divergence", values="score")
    x, y = wins[improvement.divergence], wins[improvement.versus]
    assert improvement.value == pytest.approx(((x > y) + 0.5 * (x == y)).mean())
    assert f"{improvement.divergence}</td><td>{improvement.versus}" in section

@pytest.mark.slow
def test_the_smoke_protocol_with_another_master_seed_gives_no_contradiction_and_no_verdict_from_2_seeds(
        finished_protocol, tmp_path):
    from fgan_bench import verdicts

    text = SMOKE.read_text().replace("seeds = [0]", "seeds = [100]").replace("seed = 0", "seed = 1")
    assert "seeds = [100]" in text and "\nseed = 1" in text
    (tmp_path / "protocol_smoke.toml").write_text(text)
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "fgan_bench", "sweep", str(tmp_path / "protocol_smoke.toml"), "--jobs", "2",
                    "--out", str(out)], check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    first = pd.read_csv(finished_protocol[0] / "answer.csv", keep_default_na=False)
    second = pd.read_csv(out / "protocol_smoke" / "answer.csv", keep_default_na=False)
    for dataset in ("ring8", "mixture1d"):
        one, two = first[first["dataset"] == dataset], second[second["dataset"] == dataset]
        assert not verdicts.contradicts(one, two)
        assert set(one["verdict"]) == set(two["verdict"]) == {"no verdict"}  # 2 seeds of 1 search: no claim


TINY = """[sweep]
name = "tiny"
datasets = ["mixture1d"]
divergences = ["kl", "reverse_kl"]
seeds = [0]
[defaults]
steps = 50
log_every = 50
steps_per_execution = 50
batch_size = 128
num_samples = 300
schedule = "alternating"
[search]
trials = 2
replicates = 3
[search.space]
generator_lr = { log_uniform = [1e-4, 1e-2] }
critic_lr = { same_as = "generator_lr" }
[confirm]
seeds = 1
"""


@pytest.mark.slow
def test_a_replicated_protocol_answer_shows_p_best_and_the_disagreeing_metric_families(tmp_path):
    import html as html_module

    from fgan_bench import verdicts
    from fgan_bench.sweeps.answer import family_of

    (tmp_path / "tiny.toml").write_text(TINY)
    assert cli.main(["sweep", str(tmp_path / "tiny.toml"), "--jobs", "2", "--out", str(tmp_path / "out")]) == 0
    sweep_dir = tmp_path / "out" / "tiny"
    confirm = pd.read_csv(sweep_dir / "results.csv").query("phase == 'confirm'").drop_duplicates("run_id")
    assert sorted(confirm["seed"]) == [1, 1, 3, 3, 5, 5]  # replicate r: its own fresh seed 2r + 1
    trials = pd.read_csv(sweep_dir / "trials.csv")
    assert sorted(trials["replicate"].tolist()) == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    answer = pd.read_csv(sweep_dir / "answer.csv", keep_default_na=False)
    assert (answer["n"] == 3).all() and answer["p_best"].astype(float).sum() == pytest.approx(1.0)
    assert set(answer["verdict"]) <= {"best", "best or not distinguishable", "worse"}
    summary = pd.read_csv(sweep_dir / "summary.csv")
    expected = verdicts.disagreements(verdicts.best_by_metric(summary), "mixture1d", "true_jensen_shannon", family_of)
    html = html_module.unescape((sweep_dir / "report.html").read_text())
    box = html[html.index('<section id="answer">'):html.index("</section>")]
    for divergence, p in zip(answer["divergence"], answer["p_best"].astype(float), strict=True):
        assert f"{divergence} {100 * p:.0f} %" in box  # P(best) per divergence in the answer
    top = answer.loc[answer["p_best"].astype(float).idxmax()]
    if float(top["p_best"]) >= 0.9:  # a likely winner only from a clear favourite
        assert f"a rerun would likely name {top['divergence']} best" in box
    else:
        assert "a rerun may name any of" in box and "a rerun would likely" not in box
    for family in expected:
        assert family["family"] in answer["disagreeing_families"].iloc[0]
        for metric, winner in family["metrics"].items():
            assert f"best by {metric}: {winner}" in box
    if not expected:
        assert "Every ranked metric names the same best" in html


def test_protocol_report_shows_each_study_s_best_hyperparameters_and_importances(finished_protocol):
    import html as html_module

    sweep_dir = finished_protocol[0]
    html = html_module.unescape((sweep_dir / "report.html").read_text())
    section = html[html.index('id="tuning"'):html.index("</table>", html.index('id="tuning"'))]
    trials = pd.read_csv(sweep_dir / "trials.csv")
    rows = section.split('<tr class="study"')[1:]
    assert len(rows) == 4  # one per dataset × divergence study
    for row in rows:
        dataset = re.search(r"<td>(\w+)</td>", row).group(1)
        divergence = re.search(r'data-divergence="([^"]+)"', row).group(1)
        study = trials[(trials["dataset"] == dataset) & (trials["divergence"] == divergence)]
        complete = study[study["state"] == "complete"]
        best = complete.loc[complete["value"].idxmin()]
        assert f"<td class=\"num\">{int(best['trial'])}</td>" in row
        assert f"generator_lr = {best['param_generator_lr']:.4g}" in row and "beta1 = " in row
        if complete["param_generator_lr"].nunique() >= 2:
            shares = [float(x) for x in re.findall(r"(?:generator_lr|beta1|critic_steps) (\d\.\d\d)", row)]
            assert shares and abs(sum(shares) - 1.0) < 0.02  # fANOVA shares of the variance
        else:
            assert "importances need at least 2 completed trials" in row
        links = re.findall(r'href="(runs/[^"]+)"', row)
        assert f"runs/{best['run_id']}/" in links and len(links) == 3  # best trial + 2 confirmation seeds
        assert all((sweep_dir / link).is_dir() for link in links)
    assert f"optuna-dashboard {sweep_dir / 'study.journal'}" in section


def test_a_report_with_no_finished_run_says_so(tmp_path, capsys):
    path = tmp_path / "p.toml"
    path.write_text(HEAD + "[defaults]\nsteps = 100\n")
    from fgan_bench.sweeps.report import write_report
    from fgan_bench.sweeps.sweep import write_sweep_state

    sweep = load_sweep(path)
    write_sweep_state(sweep, sweep.resolved_configs(), tmp_path / "p")
    html = write_report(tmp_path / "p").read_text()
    assert 'id="no-answer"' in html and "No finished run" in html and "1 unfinished" in html


def test_the_progress_line_counts_outcomes_with_elapsed_time_and_eta(capsys):
    from fgan_bench.sweeps.progress import Progress

    progress = Progress(5, initial=1)
    progress.update({"run_id": "a", "status": "completed"})
    progress.update({"run_id": "b", "status": "pruned"})
    progress.update({"run_id": "c", "status": "failed", "reason": "RuntimeError: boom"})
    line = str(progress.bar)
    progress.close()
    assert "4/5" in line and "completed=1 pruned=1 diverged=0 failed=1" in line
    assert "<" in line  # elapsed<remaining (the ETA)
    assert "c: failed (RuntimeError: boom)" in capsys.readouterr().err


def test_trials_are_drawn_by_their_number_shared_and_never_beyond_the_budget(tmp_path):
    from fgan_bench.sweeps.protocol import load_protocol
    from fgan_bench.sweeps.studies import NoTrial, Studies

    path = tmp_path / "p.toml"
    path.write_text(
        HEAD + "[defaults]\nsteps = 100\nlog_every = 50\n[search]\ntrials = 2\nsampler = 'tpe'\n[search.space]\n"
        "generator_lr = { log_uniform = [1e-5, 1e-2] }\ncritic_lr = { same_as = 'generator_lr' }\n"
        "objective = { choice = ['saddle', 'nonsaturating'] }\n"
    )
    sweep = load_sweep(path)
    protocol, pair = load_protocol(sweep), ("ring8", "kl")

    def process(name):  # one `sweep` process's view of the study storage `name`
        return Studies(sweep, protocol, tmp_path / name, str(tmp_path / f"{name}.journal"), [pair])

    first = process("a")
    drawn = [first.ask(pair) for _ in range(2)]
    assert [claim.number for claim in drawn] == [0, 1]
    assert all(1e-5 <= c.config.generator_lr <= 1e-2 and c.config.critic_lr == c.config.generator_lr for c in drawn)
    assert drawn[0].config.run_id != drawn[1].config.run_id
    again = process("b")  # a fresh study: the same draws (seeded by protocol seed, study and trial number)
    assert [again.ask(pair).config.run_id for _ in range(2)] == [c.config.run_id for c in drawn]
    second = process("a")  # a second process on the same study: the budget is spent
    assert second.ask(pair) is None
    trials = second.studies[pair].get_trials()
    assert len(trials) == 3 and trials[2].user_attrs["surplus"] and trials[2].state.name == "FAIL"
    # The first process has trials 0 and 1 queued (claimed, not started): they stay its own.
    assert second.claim(pair) is NoTrial.WAIT
    first.release()  # as when the first process is killed: its claims die with it
    assert second.claim(pair).number == 0 and second.claim(pair).number == 1  # taken over, each once
    assert second.claim(pair) is NoTrial.WAIT and first.claim(pair) is NoTrial.WAIT
    with rundir.run_lock(tmp_path / "a" / "runs" / drawn[0].config.run_id, wait=False):  # a worker trains it
        second.release()
        assert first.claim(pair).number == 1  # trial 0 is being trained: not claimable
    for claim in drawn:
        second.tell(pair, claim.number, claim.config, {"status": "failed"})
    assert second.claim(pair) is NoTrial.DONE


def test_replicates_have_their_own_trials_seeds_and_best_even_when_every_trial_is_pruned(tmp_path):
    from fgan_bench.sweeps.protocol import load_protocol
    from fgan_bench.sweeps.studies import Studies, best_params

    path = tmp_path / "p.toml"
    path.write_text(HEAD + "[search]\ntrials = 2\nreplicates = 3\n[search.space]\n"
                    "generator_lr = { log_uniform = [1e-5, 1e-2] }\n[confirm]\nseeds = 2\n")
    sweep = load_sweep(path)
    protocol, pair = load_protocol(sweep), ("ring8", "kl")
    assert [protocol.seed_of_replicate(r) for r in range(3)] == [0, 3, 6]
    assert [protocol.confirm_seeds_of(r) for r in range(3)] == [(1, 2), (4, 5), (7, 8)]
    search = Studies(sweep, protocol, tmp_path / "s", str(tmp_path / "s.journal"), [pair])
    drawn = [search.ask(pair) for _ in range(6)]
    assert [c.config.seed for c in drawn] == [0, 0, 3, 3, 6, 6] and search.ask(pair) is None  # budget: 3 × 2
    study = search.studies[pair]
    study.tell(0, 0.5)
    study.tell(1, 0.2)  # replicate 0: trial 1 is best (lower is better)
    for number, value in ((2, 0.9), (3, 0.4)):  # replicate 1: both pruned; the better last value wins
        study._storage.set_trial_intermediate_value(study.get_trials()[number]._trial_id, 500, value)
        study.tell(number, state=optuna_state("PRUNED"))
    trials = study.get_trials()
    assert best_params(search, pair, 0) == trials[1].params and best_params(search, pair, 1) == trials[3].params
    assert best_params(search, pair, 2) is None  # replicate 2: nothing scored yet
    with pytest.raises(FganBenchError, match="replicates must be a positive integer"):
        path.write_text(HEAD + "[search]\ntrials = 2\nreplicates = 0\n[search.space]\nbeta1 = { uniform = [0, 1] }\n")
        load_protocol(load_sweep(path))


def optuna_state(name):
    from optuna.trial import TrialState

    return TrialState[name]
