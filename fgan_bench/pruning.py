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
import re
from pathlib import Path
from typing import Any

from fgan_bench._lazy import keras
from fgan_bench.errors import FganBenchError

TRIAL_FILE = "trial.json"
#: A protocol's study storage by default: this journal file in the sweep folder.
JOURNAL = "study.journal"
#: Samples generated for each intermediate evaluation (cheaper than the final evaluation's).
INTERMEDIATE_SAMPLES = 1000


def open_storage(storage: str):
    """An Optuna storage: a URL (``sqlite:///…``, ``postgresql://…``) or a journal file's path.

    A damaged journal or a URL that cannot be opened is one line naming it and the fix."""
    import optuna

    try:
        if "://" in storage:
            opened = optuna.storages.RDBStorage(storage)
        else:
            from optuna.storages.journal import JournalFileBackend

            opened = optuna.storages.JournalStorage(JournalFileBackend(str(storage)))
        opened.get_all_studies()  # reads the journal (or connects) now, so that damage shows here
        return opened
    except Exception as error:  # noqa: BLE001 - Optuna and SQLAlchemy raise many types: one line for all
        raise storage_error(storage, error) from None


def storage_error(storage: str, error: BaseException) -> FganBenchError:
    """The one-line error for a study storage that cannot be opened, naming it and the fix."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip() and "sqlalche.me" not in line]
    reason = f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    if "://" not in storage and isinstance(error, OSError):
        return FganBenchError(f"cannot open the study journal {storage} ({reason}): give a journal path in an "
                              f"existing, writable folder")
    if "://" not in storage:
        return FganBenchError(
            f"the study journal {storage} is damaged ({reason}): move it aside and run the same command again "
            f"(a fresh study draws the same trials and takes the finished runs' results back)")
    shown = re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", storage)
    return FganBenchError(
        f"cannot open the study storage {shown} ({reason}): give --storage (or [search] storage) a reachable "
        f"database URL, e.g. sqlite:///path/to/study.db or postgresql://user@host/db, or leave it out for "
        f"a journal file in the sweep folder")


def storage_record(storage: str, sweep_dir: str | Path) -> str:
    """How ``sweep.json`` and ``trial.json`` store a storage: a URL as given; a journal file
    inside the sweep folder relative to that folder (so that a copied or moved folder reads
    its own journal); any other file as an absolute path."""
    if "://" in storage:
        return storage
    path, folder = Path(storage).resolve(), Path(sweep_dir).resolve()
    return path.relative_to(folder).as_posix() if path.is_relative_to(folder) else str(path)


def storage_location(record: str, sweep_dir: str | Path) -> str:
    """The storage that a :func:`storage_record` names, for the sweep folder where it is now.

    A relative path is joined to ``sweep_dir``. An absolute path to a ``study.journal``
    (written before records were relative) is read from ``sweep_dir``'s own journal when it
    has one, so an old folder that was copied or moved reports its own trials too."""
    if "://" in record:
        return record
    path = Path(record)
    if not path.is_absolute():
        return str(Path(sweep_dir) / path)
    own = Path(sweep_dir) / JOURNAL
    return str(own) if path.name == JOURNAL and own.exists() else record


def open_protocol_storage(protocol: dict[str, Any], sweep_dir: str | Path | None = None):
    """The study storage of a ``sweep.json`` protocol record, for the sweep folder ``sweep_dir``
    (None: the record as it is)."""
    record = protocol["storage"]
    return open_storage(record if sweep_dir is None else storage_location(record, sweep_dir))


def protocol_studies(protocol: dict[str, Any], storage=None):
    """Each (dataset, divergence, study) of a protocol's ``sweep.json`` record that exists in
    its storage (opened from ``protocol["storage"]`` unless given)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = storage or open_protocol_storage(protocol)
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
    info["storage"] = storage_location(info["storage"], Path(directory).parent.parent)  # <sweep>/runs/<id>
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
            value = self.evaluate(self.model, [self.metric]).get(self.metric, math.nan)  # that output alone
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
