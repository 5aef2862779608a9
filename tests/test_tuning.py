"""The protocol report's tuner section: winning hyperparameters, fANOVA importances that find
the parameter that matters, run links, plugins marked (issue 16)."""

from pathlib import Path

import numpy as np
import optuna
import pandas as pd

from fgan_bench.pruning import open_storage
from fgan_bench.sweeps.tuning import plugin_source, study_summaries

ROOT = Path(__file__).resolve().parent.parent


def _state(tmp_path, trials=12):
    """A protocol's state with one study whose score depends on the learning rate only."""
    journal = str(tmp_path / "study.journal")
    study = optuna.create_study(study_name="s/moons/kl", storage=open_storage(journal), direction="minimize")
    rng = np.random.default_rng(0)
    distributions = {"generator_lr": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True),
                     "beta1": optuna.distributions.FloatDistribution(0.0, 0.9)}
    for number in range(trials):
        lr, beta1 = float(10 ** rng.uniform(-4, -2)), float(rng.uniform(0, 0.9))
        study.add_trial(optuna.trial.create_trial(params={"generator_lr": lr, "beta1": beta1},
                                                  distributions=distributions, value=(np.log10(lr) + 3) ** 2,
                                                  user_attrs={"run_id": f"trial-{number}"}))
    return {"protocol": {"storage": journal, "studies": {"file:path=m.npy,name=moons/kl": "s/moons/kl"},
                         "trials": trials, "metrics": {"file:path=m.npy,name=moons": "mmd2"}}}


def test_the_best_trial_and_the_parameter_that_matters(tmp_path):
    state = _state(tmp_path)
    results = pd.DataFrame({"dataset": ["file:path=m.npy,name=moons"] * 2, "divergence": ["kl"] * 2,
                            "phase": ["confirm"] * 2, "run_id": ["c1", "c2"]})
    (summary,) = study_summaries(state, results)
    study = optuna.load_study(study_name="s/moons/kl", storage=open_storage(state["protocol"]["storage"]))
    assert summary.best_trial == study.best_trial.number and summary.parameters == study.best_trial.params
    assert summary.dataset == "moons" and summary.plugin == ""
    assert list(summary.importances)[0] == "generator_lr"
    assert summary.importances["generator_lr"] > 3 * summary.importances["beta1"]  # the score ignores beta1
    assert abs(sum(summary.importances.values()) - 1.0) < 1e-6
    assert summary.best_run == f"runs/trial-{study.best_trial.number}/"
    assert summary.confirmation_runs == ("runs/c1/", "runs/c2/")


def test_one_completed_trial_gets_a_note_not_invented_importances(tmp_path):
    (summary,) = study_summaries(_state(tmp_path, trials=1), None)
    assert summary.importances == {} and "at least 2 completed trials" in summary.importance_note


def test_plugin_divergences_are_marked():
    import fgan_bench

    fgan_bench.load_plugins([ROOT / "divergences" / "chi_k.py"])
    assert plugin_source("chi_k:3") == "plugin chi_k.py"
    assert plugin_source("kl") == "" and plugin_source("alpha:2") == ""
    assert plugin_source("never_registered") == "plugin (not loaded here)"


def test_the_journal_storage_opens_in_optuna_dashboard(tmp_path):
    """Run only where optuna-dashboard is installed (`pip install -e ".[dashboard]"`)."""
    import io
    import json

    import pytest

    dashboard = pytest.importorskip("optuna_dashboard")
    state = _state(tmp_path)
    app = dashboard.wsgi(open_storage(state["protocol"]["storage"]))
    answer = {}
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/api/studies", "QUERY_STRING": "", "SERVER_NAME": "localhost",
               "SERVER_PORT": "8080", "wsgi.input": io.BytesIO(), "wsgi.url_scheme": "http",
               "wsgi.errors": io.StringIO()}
    body = b"".join(app(environ, lambda status, headers, exc_info=None: answer.setdefault("status", status)))
    assert answer["status"].startswith("200")
    assert "s/moons/kl" in [study["study_name"] for study in json.loads(body)["studies"]]
