"""Pruning a protocol trial from inside its run: a Keras callback that reports to Optuna.

A protocol (:mod:`fgan_bench.sweeps.protocol`) writes ``trial.json`` into a trial's run
directory before the run starts: the study's storage, its name, the trial's number, the
intermediate metric, how often to evaluate it and the pruner's settings. The run — in
whatever process or machine trains it — finds the file, opens the study storage itself
(Optuna's journal file and SQL storages are safe for several processes) and adds
:class:`TrialPruning`: every ``every`` steps it evaluates the metric on fresh generated
samples, ``trial.report(value, step)``, and stops training when the pruner says so. The
run then ends with status ``pruned`` and the step in ``result.json``, so its directory is
done like any other.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from fgan_bench._lazy import keras

TRIAL_FILE = "trial.json"
#: Samples generated for each intermediate evaluation (cheaper than the final evaluation's).
INTERMEDIATE_SAMPLES = 1000


def open_storage(storage: str):
    """An Optuna storage: a URL (``sqlite:///…``, ``postgresql://…``) or a journal file's path."""
    import optuna

    if "://" in storage:
        return optuna.storages.RDBStorage(storage)
    from optuna.storages.journal import JournalFileBackend

    return optuna.storages.JournalStorage(JournalFileBackend(str(storage)))


def protocol_studies(protocol: dict[str, Any], storage=None):
    """Each (dataset, divergence, study) of a protocol's ``sweep.json`` record that exists in
    its storage (opened from ``protocol["storage"]`` unless given)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = storage or open_storage(protocol["storage"])
    for key, name in protocol["studies"].items():
        dataset, divergence = key.split("/", 1)
        try:
            yield dataset, divergence, optuna.load_study(study_name=name, storage=storage)
        except KeyError:
            continue


def make_pruner(settings: dict[str, Any] | None):
    """Successive halving with the protocol's settings (``None``: never prune)."""
    import optuna

    if not settings:
        return optuna.pruners.NopPruner()
    return optuna.pruners.SuccessiveHalvingPruner(
        min_resource=settings["min_resource"],
        reduction_factor=settings["reduction_factor"],
        min_early_stopping_rate=0,
    )


def metric_family(output: str) -> str:
    """The registered metric that computes ``output`` (e.g. ``true_divergence`` for ``true_jensen_shannon``)."""
    from fgan_bench.metrics import metric_entries

    for entry in metric_entries():
        if entry.item.direction(output) is not None or entry.item.name == output:
            return entry.item.name
    raise KeyError(output)


def trial_callbacks(directory: Path, config, evaluate) -> list:
    """The callbacks a run needs as a protocol trial: none without ``trial.json``.

    ``evaluate(gan, metric_names)`` evaluates the named metrics on fresh samples of the run's
    generator (the runner passes it, so this module needs nothing of the evaluation code).
    """
    path = Path(directory) / TRIAL_FILE
    if not path.exists():
        return []
    info = json.loads(path.read_text())
    if not info.get("pruning"):
        return []
    return [make_pruning_callback()(info, config, evaluate)]


def make_pruning_callback():
    """Defines :class:`TrialPruning` on first use (Keras is imported lazily)."""

    class TrialPruning(keras.callbacks.Callback):
        """Every ``every`` steps: evaluate the intermediate metric, report it, stop if pruned.

        After training, ``pruned_at`` is the step it stopped at (None if it never did) and
        ``record`` what ``result.json`` keeps about it.
        """

        def __init__(self, info: dict[str, Any], config, evaluate):
            import optuna

            super().__init__()
            self.info, self.config, self.evaluate = info, config, evaluate
            pruning = info["pruning"]
            self.every, self.metric = int(pruning["every"]), pruning["metric"]
            self.family = metric_family(self.metric)
            study = optuna.load_study(
                study_name=info["study"], storage=open_storage(info["storage"]), pruner=make_pruner(pruning)
            )
            trial_id = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, info["trial"])
            self.trial = optuna.trial.Trial(study, trial_id)
            self.pruned_at: int | None = None
            self.record: dict[str, Any] = {}

        def on_epoch_end(self, epoch, logs=None):
            step = (epoch + 1) * self.config.log_every
            if step % self.every or step >= self.config.steps:
                return
            value = self.evaluate(self.model, [self.family]).get(self.metric, math.nan)
            if math.isnan(value) or self.trial is None:
                return
            import optuna

            try:
                self.trial.report(value, step)
                prune = self.trial.should_prune()
            except optuna.exceptions.UpdateFinishedTrialError:
                # Another process already finished this trial: train on without reporting, so
                # that the run still ends with a result instead of a failure.
                self.trial = None
                return
            if prune:
                self.pruned_at = step
                self.record = {"step": step, "metric": self.metric, "value": value}
                self.model.stop_training = True

    return TrialPruning
