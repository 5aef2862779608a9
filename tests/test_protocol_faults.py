"""A protocol's faults (issue 18): a trial lost to an I/O fault is retried without using budget;
a copied or moved sweep folder reports and resumes its own trials; a damaged trial result is
trained again; bad names, metrics and bounds are refused before any trial starts; a damaged
journal or a bad storage URL is one line; Ctrl-C lists what is finished and pending.

Each test drives real Optuna studies in a journal file; none trains a network (the executor is
replaced only where a test injects a fault — Ctrl-C — into it)."""

import errno
import json
import re
import shutil

import pytest

from fgan_bench import cli, rundir
from fgan_bench.errors import one_line_reason
from fgan_bench.sweeps import load_sweep
from fgan_bench.sweeps.studies import NoTrial

TINY = """[sweep]
name = "p"
datasets = ["mixture1d"]
divergences = ["kl"]
seeds = [0]
[defaults]
steps = 20
log_every = 10
steps_per_execution = 10
num_samples = 200
[search]
trials = 2
{search}
[search.space]
{space}
[confirm]
seeds = 1
"""
LR = "generator_lr = { log_uniform = [1e-4, 1e-2] }"
PAIR = ("mixture1d", "kl")


def _file(tmp_path, search: str = "", space: str = LR, divergences: str = '["kl"]'):
    path = tmp_path / "p.toml"
    path.write_text(TINY.format(search=search, space=space).replace('["kl"]', divergences))
    return path


def _search(tmp_path, sweep_dir):
    """One `sweep` process's view of the protocol in ``sweep_dir`` (its journal in that folder)."""
    from fgan_bench.sweeps.protocol_spec import load_protocol
    from fgan_bench.sweeps.studies import Studies

    sweep = load_sweep(_file(tmp_path))
    sweep_dir.mkdir(parents=True, exist_ok=True)
    return Studies(sweep, load_protocol(sweep), sweep_dir, str(sweep_dir / "study.journal"), [PAIR])


def _number_and_config(claimed):
    return claimed.number, claimed.config


def _trial_states(search):
    return [t.state.name for t in search.studies[PAIR].get_trials()]


def test_a_trial_lost_to_an_io_fault_runs_again_without_using_budget_at_most_twice(tmp_path):
    search = _search(tmp_path, tmp_path / "s")
    (number, config), _ = _number_and_config(search.ask(PAIR)), search.ask(PAIR)
    disk_full = {"status": "failed",
                 "reason": one_line_reason(rundir.write_error(tmp_path / "x", OSError(errno.ENOSPC, "No space")))}
    for retry in (1, 2):
        line = search.tell(PAIR, number, config, disk_full)
        assert "mixture1d × kl trial 0 lost to an I/O fault (FganBenchError: disk full writing" in line
        assert f"running it again (retry {retry} of 2; no budget used)" in line
        assert _trial_states(search) == ["RUNNING", "RUNNING"]  # not told: no finished trial is lost
        search.release()
        assert _number_and_config(search.claim(PAIR)) == (0, config)  # taken up again, with no new trial asked
        assert len(search.studies[PAIR].get_trials()) == 2
    assert search.tell(PAIR, number, config, disk_full) is None  # bounded: the third loss fails it
    trial = search.studies[PAIR].get_trials()[0]
    assert trial.state.name == "FAIL" and "lost to an I/O fault 3 times" in trial.user_attrs["reason"]
    io_error = {"status": "failed", "reason": one_line_reason(OSError(errno.EIO, "Input/output error"))}
    assert search.tell(PAIR, 1, search.trial_run(PAIR, search.studies[PAIR].get_trials()[1]), io_error)
    other = {"status": "failed", "reason": "FloatingPointError: NaN loss"}  # not an I/O fault: told at once
    assert search.tell(PAIR, 1, config, other) is None and _trial_states(search) == ["FAIL", "FAIL"]


def test_a_copied_sweep_folder_reports_and_resumes_its_own_trials(tmp_path):
    from fgan_bench.pruning import TRIAL_FILE, storage_location
    from fgan_bench.sweeps.protocol import _write_state
    from fgan_bench.sweeps.trials import trials_table, write_trials
    from fgan_bench.sweeps.tuning import study_summaries

    first = tmp_path / "first" / "p"
    search = _search(tmp_path, first)
    trials = [_number_and_config(search.ask(PAIR)) for _ in range(2)]
    for number, config in trials:
        search.prepare(PAIR, number, config)
    search.studies[PAIR].tell(0, 0.5)
    _write_state(search, {})
    state = json.loads((first / "sweep.json").read_text())
    assert state["protocol"]["storage"] == "study.journal"  # relative to the sweep folder
    assert json.loads((rundir.run_path(first, trials[0][1].run_id) / TRIAL_FILE).read_text())["storage"] \
        == "study.journal"
    second = tmp_path / "elsewhere" / "p"
    shutil.copytree(first, second)
    again = _search(tmp_path, second)  # resumed in its new place: its own study, trial 1 still to tell
    assert again.claim(PAIR).number == 1
    again.studies[PAIR].tell(1, 0.25)
    assert again.claim(PAIR) is NoTrial.DONE
    table = write_trials(second, state)
    assert table["state"].tolist() == ["complete", "complete"] and table["value"].tolist() == [0.5, 0.25]
    assert trials_table(first, state)["state"].tolist() == ["complete", "running"]  # the original: untouched
    assert {s.best_value for s in study_summaries(state, None, second)} == {0.25}
    old = {**state, "protocol": {**state["protocol"], "storage": str((first / "study.journal").resolve())}}
    assert trials_table(second, old)["value"].tolist() == [0.5, 0.25]  # an absolute record from before
    assert storage_location("sqlite:///x.db", second) == "sqlite:///x.db"


def test_a_damaged_trial_result_is_trained_again_with_the_confirmation_runs(tmp_path, monkeypatch, capsys):
    from fgan_bench.sweeps import execute
    from fgan_bench.sweeps.protocol import load_protocol, run_protocol

    sweep_dir = tmp_path / "out" / "p"
    search = _search(tmp_path, sweep_dir)
    trials = [_number_and_config(search.ask(PAIR)) for _ in range(2)]
    for (number, config), value in zip(trials, (0.5, 0.25), strict=True):
        directory = rundir.make_directory(rundir.run_path(sweep_dir, config.run_id))
        rundir.write_json_atomically(directory / rundir.RESULT, {"status": "completed", "quality": {}})
        search.studies[PAIR].tell(number, value)
    search.release()
    damaged = trials[0][1]
    (rundir.run_path(sweep_dir, damaged.run_id) / rundir.RESULT).write_text('{"status": "comp')
    asked = []

    def interrupted_after_the_first_batch(configs, *args, **kwargs):
        asked.append([c.run_id for c in configs])
        raise KeyboardInterrupt

    monkeypatch.setattr(execute, "execute", interrupted_after_the_first_batch)
    sweep = load_sweep(_file(tmp_path))
    with pytest.raises(KeyboardInterrupt):
        run_protocol(sweep, load_protocol(sweep), sweep_dir, show_progress=False, poll_seconds=0.01)
    assert asked == [[damaged.run_id]]  # the damaged run first, then the confirmation run
    output = capsys.readouterr()
    assert f"mixture1d × kl trial 0: {sweep_dir / 'runs' / damaged.run_id / 'result.json'} is corrupt" in output.out
    assert "training it again" in output.out
    assert "2 of 2 trials finished, 0 pending; 0 of 1 confirmation runs done" in output.err


@pytest.mark.parametrize(
    ("search", "space", "divergences", "message"),
    [
        ("", LR, '["kll"]', r"p.toml:4: divergences: unknown divergence 'kll'; did you mean 'kl'"),
        ('metric = "bogus"', LR, '["kl"]', r"p.toml:13: \[search\] metric: 'bogus' is not a metric output"),
        ("", "generator_lr = { log_uniform = [1e-4, inf] }", '["kl"]',
         r"p.toml:15: \[search.space\] generator_lr: the high bound inf must be a finite number"),
        ("", "beta1 = { uniform = [0.0, 5.0] }", '["kl"]',
         r"p.toml:15: \[search.space\] beta1: the high bound 5.0 must be in \[0, 1\) .*narrow the range"),
        ("", 'objective = { choice = ["saddle", "bogus"] }', '["kl"]',
         r"p.toml:15: \[search.space\] objective: the choice 'bogus' must be one of saddle.*remove it"),
        ("", "critic_steps = { uniform = [1, 3] }", '["kl"]',
         r"\[search.space\] critic_steps: the low bound 1.0 must be an integer"),
        ("", "critic_lr = { same_as = 'generator_lr' }\ngenerator_lr = { log_uniform = [1e-4, 2.0] }", '["kl"]',
         None),
        ("", LR, '["kl", "kl"]', r"p.toml:4: divergences: 'kl' is listed twice .*remove the duplicate"),
        ("", LR, '["alpha:0.5", "alpha:0.50"]', r"divergences: 'alpha:0.50' is listed twice"),
    ],
)
def test_a_protocol_s_names_metrics_and_bounds_are_checked_by_dry_run_and_before_any_trial(
    tmp_path, capsys, search, space, divergences, message
):
    path = _file(tmp_path, search, space, divergences)
    assert cli.main(["sweep", str(path), "--dry-run"]) == (2 if message else 0)
    if message is None:  # every bound valid: listed
        assert "1 studies × (2 random trials + 1 confirmation seeds)" in capsys.readouterr().out
        return
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and re.search(message, error), error
    assert cli.main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2  # the real run: refused first
    assert not (tmp_path / "out" / "p" / "study.journal").exists()


def test_trials_true_is_not_a_budget(tmp_path, capsys):
    path = _file(tmp_path)
    path.write_text(path.read_text().replace("trials = 2", "trials = true"))
    assert cli.main(["sweep", str(path), "--dry-run"]) == 2
    assert "p.toml:12: [search] trials must be a positive integer" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        (None, "the study journal {journal} is damaged (JSONDecodeError: "),
        ("foo://user:secret@host/db", "cannot open the study storage foo://user:***@host/db (NoSuchModuleError: "),
        ("sqlite:////nonexistent/folder/x.db", "cannot open the study storage sqlite:////nonexistent/folder/x.db"),
    ],
)
def test_a_damaged_journal_or_a_bad_storage_url_is_one_line_naming_it_and_the_fix(tmp_path, capsys, storage, message):
    journal = tmp_path / "out" / "p" / "study.journal"
    journal.parent.mkdir(parents=True)
    journal.write_text('{"op_code": 0, "worker_id": "w", "study_name": "p/mixture1d/kl", "directions": [1]}\n{oops\n')
    argv = ["sweep", str(_file(tmp_path)), "--out", str(tmp_path / "out")] + (["--storage", storage] if storage else [])
    assert cli.main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and message.format(journal=journal) in error, error
    assert ("move it aside and run the same command again" if storage is None else "give --storage") in error
    assert "secret" not in error


def test_ctrl_c_of_a_protocol_lists_finished_and_pending_trials_and_how_to_resume(tmp_path, monkeypatch, capsys):
    from fgan_bench.sweeps import execute

    def ctrl_c(configs, *args, report, **kwargs):  # Ctrl-C once the batch's first run has ended
        directory = rundir.make_directory(rundir.run_path(tmp_path / "out" / "p", configs[0].run_id))
        rundir.write_json_atomically(directory / rundir.RESULT, {"status": "completed", "quality": {}})
        report({"run_id": configs[0].run_id, "status": "completed"})
        raise execute.SweepInterrupted([], configs[1:])

    monkeypatch.setattr(execute, "execute", ctrl_c)
    path = _file(tmp_path, divergences='["kl", "reverse_kl"]')
    assert cli.main(["sweep", str(path), "--out", str(tmp_path / "out"), "--jobs", "1"]) == 130
    error = capsys.readouterr().err
    assert "protocol p interrupted; finished trials and runs are kept:" in error
    assert "mixture1d × kl: 1 of 2 trials finished, 1 pending" in error
    assert "mixture1d × reverse_kl: 0 of 2 trials finished, 2 pending" in error
    assert f"The same command resumes it (unfinished runs continue from their checkpoints in {tmp_path}" in error
    assert f"python -m fgan_bench sweep {path} --out {tmp_path / 'out'}" in error
    assert error.rstrip().endswith("interrupted")


@pytest.mark.slow
def test_a_trial_lost_to_a_real_full_disk_runs_again_once_there_is_room_without_using_budget(tmp_path, small_tmpfs):
    """End to end on a real 160 KiB tmpfs: the first trial's checkpoint does not fit (disk full,
    one line); when the protocol says it runs the trial again, the disk is grown, and the
    protocol ends with its 2 trials complete — none lost, none added."""
    import os
    import subprocess
    import sys

    import pandas as pd

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen([sys.executable, "-m", "fgan_bench", "sweep", str(_file(tmp_path)), "--out",
                                str(small_tmpfs), "--jobs", "1", "--no-report"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=env)
    output = []
    for line in process.stdout:
        output.append(line)
        if "lost to an I/O fault" in line and len([o for o in output if "lost to an I/O fault" in o]) == 1:
            subprocess.run(["mount", "-o", "remount,size=8m", str(small_tmpfs)], check=True)
    text = "".join(output)
    assert process.wait(timeout=600) == 0, text[-3000:]
    assert "lost to an I/O fault (FganBenchError: disk full writing" in text and "no budget used" in text, text[-3000:]
    assert "Traceback" not in text
    trials = pd.read_csv(small_tmpfs / "p" / "trials.csv")
    assert len(trials) == 2 and set(trials["state"]) == {"complete"}, trials
