"""One training run, end to end: ``python -m fgan_bench run`` and :func:`run`.

The run is resolved once (:class:`~fgan_bench.resolved.ResolvedRun`: config, dataset,
divergence, models, skipped metrics) and the record is passed down to the trainer, the
callbacks and the evaluation. What it writes, and how, is
:class:`~fgan_bench.rundir.RunDirectory`'s: ``config.json`` first, ``metrics.csv`` and an atomic checkpoint
every ``log_every`` steps, the samples, and ``result.json`` last — a run is done exactly when
that file exists.

An interrupted run (Ctrl-C, a kill) keeps its last checkpoint; ``run(..., resume=True)``
continues it and ends with the same weights as an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from fgan_bench import rundir
from fgan_bench.config import RunConfig
from fgan_bench.errors import FganBenchError
from fgan_bench.multiworker import (
    WorkerRole,
    check_same_start,
    peer_failure,
    scratch_run_directory,
    spans_processes,
    worker_role,
)
from fgan_bench.resolved import ResolvedRun, resolve
from fgan_bench.run_records import RunResult
from fgan_bench.run_status import judge
from fgan_bench.rundir import RunDirectory


def versions() -> dict[str, str]:
    import keras
    import tensorflow as tf
    import tensorflow_probability as tfp

    from fgan_bench._version import __version__

    return {
        "python": platform.python_version(),
        "fgan_bench": __version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "tensorflow_probability": tfp.__version__,
        "numpy": np.__version__,
    }


def device_description() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
        return f"{len(gpus)} GPU(s): {', '.join(names)}"
    return f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def run_directory(config: RunConfig, out: str | os.PathLike) -> Path:
    return rundir.run_path(out, config.run_id)


def build_trainer(run: RunConfig | ResolvedRun, strategy, dataset=None):
    """The compiled trainer for a run (see :func:`fgan_bench.build.build_trainer`)."""
    from fgan_bench.build import build_trainer as build

    return build(run, strategy, dataset)


def describe(config: RunConfig) -> str:
    """The one-line header of a resolved run."""
    from fgan_bench.datasets.user_data import dataset_label

    return (
        f"run {config.run_id}: {config.divergence} on {dataset_label(config.dataset)}, {config.steps} steps "
        f"(model {config.model}, batch {config.batch_size}, seed {config.seed}, strategy {config.strategy})"
    )


def run(
    config: RunConfig | ResolvedRun,
    out: str | os.PathLike = "reports",
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    announce: bool = False,
    callbacks: tuple = (),
    directory: str | os.PathLike | None = None,
    wait: bool = False,
) -> RunResult:
    """Trains one run and returns its result (also written to ``result.json``).

    Args:
        config: the run's options, resolved (and validated) here — or the run resolved already
            (:meth:`RunConfig.resolve <fgan_bench.config.RunConfig.resolve>`), used as it is.
        out: the output root; the run goes to ``<out>/runs/<run-id>/``.
        resume: continue from the run directory's checkpoint if there is one.
        overwrite: start afresh even if the run directory holds a run.
        progress: show a progress bar.
        announce: print the run's one-line header first.
        callbacks: extra Keras callbacks (e.g. ``keras.callbacks.TensorBoard``, a sweep's
            pruning of a trial), run after the run's own (so a checkpoint of an epoch is written
            before they see it). One that stops training and sets ``pruned_at`` (with a
            ``record``) ends the run as ``pruned``.
        directory: the run directory itself, instead of ``<out>/runs/<run-id>/`` (``run
            --resume DIR``: the named directory, wherever it was moved or copied to).
        wait: if another process holds the run directory's lock, wait for it (sweep
            workers) instead of refusing in one line naming the holder.

    Raises:
        FganBenchError: bad options, metrics that cannot run on ``num_samples``, the run
            directory in use, a damaged checkpoint, disk full, out of memory; each one line.
    """
    resolved = resolve(config)
    if skipped := resolved.skipped_metrics:
        listed = "; ".join(f"{name} {reason}" for name, reason in skipped.items())
        print(f"warning: metrics skipped for too few samples: {listed}", file=sys.stderr, flush=True)
    if announce:
        print(describe(resolved.config), flush=True)
    folder = RunDirectory(directory) if directory is not None else RunDirectory.of(out, resolved.run_id)
    role = worker_role() if resolved.config.strategy == "multiworker" else WorkerRole()
    if not role.is_chief:  # only the chief writes (and locks) the run directory (see fgan_bench.multiworker)
        result = folder.read_result()
        if result is not None and not overwrite:
            return result.found_done()
        with scratch_run_directory(role, folder.path, Path(out), None if overwrite else rundir.CHECKPOINT) as scratch:
            return _train(resolved, RunDirectory(scratch), progress=progress, extra_callbacks=tuple(callbacks))
    with opened_run_directory(resolved.config, folder, resume=resume, overwrite=overwrite, wait=wait) as done:
        if done is not None:
            return done
        return _train(resolved, folder, progress=progress, extra_callbacks=tuple(callbacks))


@contextlib.contextmanager
def opened_run_directory(config: RunConfig, directory: RunDirectory, *, resume: bool, overwrite: bool, wait: bool):
    """Holds the run directory's lock; yields its result if it is done (``None``: train it).

    An unfinished run's checkpoint is refused unless ``resume`` or ``overwrite``; ``config.json`` is
    written before training starts.
    """
    directory.make()
    with directory.lock(wait=wait):
        result = directory.read_result()
        if result is not None and not overwrite:
            yield result.found_done()
            return
        if directory.checkpoint.exists() and not (resume or overwrite):
            raise FganBenchError(f"{directory.path} holds an unfinished run; pass --resume to continue it or "
                                 f"--overwrite")
        if overwrite:
            directory.clear_products()
        directory.failure.unlink(missing_ok=True)
        directory.write_config(config)
        yield None


@dataclasses.dataclass
class TrainingSession:
    """A run ready to train: its trainer (restored from the checkpoint, if any) and its callbacks."""

    gan: Any
    strategy: Any
    start_step: int
    elapsed_before: float
    callbacks: list
    guard: Any
    board: Any = None


def start_session(
    run: ResolvedRun, directory: RunDirectory, *, progress: bool, extra_callbacks: tuple = ()
) -> TrainingSession:
    """Builds the run's trainer, restores its checkpoint (metrics.csv cut back to it) and its callbacks."""
    import keras

    from fgan_bench.build import build_trainer
    from fgan_bench.distribute import make_strategy

    config = run.config
    if config.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    keras.utils.set_random_seed(config.seed)
    strategy = make_strategy(config.strategy)
    gan = build_trainer(run, strategy)
    start_step, elapsed_before = _restore(gan, directory)
    check_same_start(strategy, start_step)
    session = TrainingSession(gan, strategy, start_step, elapsed_before, [], None)
    _add_callbacks(session, run, directory, progress=progress)
    session.callbacks.extend(extra_callbacks)
    return session


def _restore(gan, directory: RunDirectory) -> tuple[int, float]:
    """Loads the run's checkpoint, if any, and cuts ``metrics.csv`` back to it; ``(start step, seconds trained)``."""
    from fgan_bench.trainer import steps_done

    if not directory.checkpoint.exists():
        directory.metrics.unlink(missing_ok=True)
        return 0, 0.0
    directory.load_checkpoint(gan)
    start_step = steps_done(gan)
    previous = directory.read_history()
    if previous is None:
        return start_step, 0.0
    # Rows logged after the checkpoint (a kill between the two) are trained again.
    previous = previous[previous["step"] <= start_step]
    rundir.write_csv_atomically(previous, directory.metrics)
    return start_step, float(previous["wall_time_s"].iloc[-1]) if len(previous) else 0.0


def _add_callbacks(session: TrainingSession, run: ResolvedRun, directory: RunDirectory, *, progress: bool) -> None:
    """The run's own callbacks, in order: step log, NaN guard, periodic evaluation, CSV, checkpoint,
    TensorBoard, progress bar."""
    from fgan_bench import callbacks as cb
    from fgan_bench.evaluation import PeriodicEvaluation
    from fgan_bench.trainer import LOGGED

    config, dataset = run.config, run.dataset
    session.guard = cb.NonFiniteGuard()
    session.callbacks += [cb.StepLogger(config.log_every, session.elapsed_before), session.guard]
    evaluation = None
    if config.eval_every:
        evaluation = PeriodicEvaluation(dataset, config.eval_every, config.num_samples, config.seed, config.log_every,
                                        metrics=config.metrics or None)
        session.callbacks.append(evaluation)
    session.callbacks += [cb.MetricsCSV(directory.metrics, LOGGED),
                          cb.AtomicCheckpoint(directory.checkpoint, session.guard)]
    if config.tensorboard:
        session.board = cb.TensorBoardWriter(directory.tensorboard, dataset, evaluation)
        session.callbacks.append(session.board)
    if progress:
        session.callbacks.append(cb.ProgressBar(config.steps, session.start_step))


def session_batches(session: TrainingSession, run: ResolvedRun):
    """The run's training data from the session's start step on, with the labels a conditional or
    semi-supervised run needs (:func:`fgan_bench.datasets.labels.labelled_training_batches`)."""
    from fgan_bench.datasets.labels import labelled_training_batches

    gan, config = session.gan, run.config
    return labelled_training_batches(run.dataset, batch_size=config.batch_size, real_slots=gan.real_slots,
                                     noise_slots=gan.noise_slots, latent_dim=gan.latent_dim, seed=config.seed,
                                     start_step=session.start_step, conditional=config.conditional,
                                     labelled=config.labelled)


def _train(run: ResolvedRun, directory: RunDirectory, *, progress: bool, extra_callbacks: tuple) -> RunResult:
    """Builds the session, trains it (``fit``, one epoch per ``log_every`` steps) and finishes it."""
    session = start_session(run, directory, progress=progress, extra_callbacks=extra_callbacks)
    config = run.config
    started = time.perf_counter()
    try:
        session.gan.fit(
            session_batches(session, run),
            epochs=config.steps // config.log_every,
            initial_epoch=session.start_step // config.log_every,
            steps_per_epoch=config.log_every,
            callbacks=session.callbacks,
            verbose=0,
            shuffle=False,
        )
    except KeyboardInterrupt:
        print(f"\ninterrupted; the run resumes from its last checkpoint with --resume {directory.path}",
              file=sys.stderr)
        raise
    except OSError as error:  # an append to metrics.csv, TensorBoard's event file: disk full
        raise rundir.write_error(error.filename or directory.path, error) from None
    except Exception as error:  # noqa: BLE001 - re-raised: as one line where the fix is known
        raise _training_error(error, config, session.strategy, directory.path) from None
    return finish_session(session, run, directory, time.perf_counter() - started)


def finish_session(session: TrainingSession, run: ResolvedRun, directory: RunDirectory,
                   train_seconds: float) -> RunResult:
    """After training: status (completed, diverged, pruned), final samples and metrics, ``result.json``.

    The one place a :class:`RunResult` is built.
    """
    gan = session.gan
    fields = _training_fields(session, run.config, directory, train_seconds)
    if fields["status"] != "pruned":  # a pruned run (stopped early by a callback) is not evaluated
        if spans_processes(session.strategy):  # evaluated by the chief alone, on a copy outside the strategy
            if not worker_role().is_chief:
                return RunResult.from_json(fields)
            gan = _single_process_copy(gan, run)
        fields.update(_evaluate_samples(gan, run, directory, session.board))
        judge(fields)  # exploded final values: diverged; a saturated critic: a warning
    result = RunResult.from_json(fields)
    directory.write_result(result)
    return result


def _training_fields(session: TrainingSession, config: RunConfig, directory: RunDirectory,
                     train_seconds: float) -> dict[str, Any]:
    """How training ended: status, steps, the last logged values, timing, versions and device.

    A diverged run's weights go back to its last checkpoint (the last finite ones) for its samples.
    """
    from fgan_bench.trainer import steps_done

    guard = session.guard
    steps_trained = steps_done(session.gan) - session.start_step
    pruned = next((c.record for c in session.callbacks if getattr(c, "pruned_at", None) is not None), None)
    status = "diverged" if guard.diverged_at is not None else "pruned" if pruned is not None else "completed"
    if status == "diverged" and directory.checkpoint.exists():
        directory.load_checkpoint(session.gan)
    history = directory.read_history()
    return {
        "status": status,
        "run_id": config.run_id,
        "steps": {"completed": config.steps, "pruned": (pruned or {}).get("step")}.get(status, guard.diverged_at),
        "final_metrics": (
            {k: float(v) for k, v in history.iloc[-1].items()} if history is not None and len(history) else {}
        ),
        "wall_time_s": session.elapsed_before + train_seconds,
        "steps_per_second": steps_trained / train_seconds if train_seconds > 0 else None,
        "versions": versions(),
        "device": device_description(),
        "strategy": config.strategy,
        "replicas": session.strategy.num_replicas_in_sync,
        **({"diverged": {"step": guard.diverged_at, "last_finite": guard.last_finite}} if status == "diverged"
           else {"pruned": pruned} if status == "pruned" else {}),
    }


def _single_process_copy(gan, run: ResolvedRun):
    """The trainer's networks with the same weights, outside any ``tf.distribute`` strategy."""
    import tensorflow as tf

    from fgan_bench.build import build_trainer

    copy = build_trainer(run, tf.distribute.get_strategy())
    copy.set_weights(gan.get_weights())
    return copy


def _training_error(error: Exception, config: RunConfig, strategy, directory: Path) -> Exception:
    """What to raise for an error out of ``fit``: one line for a lost peer of a multi-worker run
    and for running out of memory (each naming the fix), else the error itself."""
    failure = peer_failure(error, directory) if spans_processes(strategy) else None
    if failure is not None:
        return failure
    if _out_of_memory(error):
        return FganBenchError(
            f"out of memory training with --batch-size {config.batch_size} ({type(error).__name__}); "
            f"pass a smaller --batch-size, then --resume {directory}"
        )
    return error


def _out_of_memory(error: BaseException) -> bool:
    import tensorflow as tf

    return isinstance(error, MemoryError | tf.errors.ResourceExhaustedError) or "OOM when allocating" in str(error)


def _evaluate_samples(gan, run: ResolvedRun, directory: RunDirectory, board=None) -> dict[str, Any]:
    """Final samples (``samples.npy``, ``samples.png``) and the run's metrics for them (every
    default metric unless its ``metrics`` option names some), with the metrics too few samples
    skip (and their reasons) recorded."""
    from fgan_bench.evaluation import evaluate_generator, generate
    from fgan_bench.models.builtin import exact_density
    from fgan_bench.plotting import plot_samples

    config, dataset, skipped = run.config, run.dataset, dict(run.skipped_metrics)
    samples = generate(gan, config.num_samples, config.seed)
    rundir.write_array_atomically(directory.samples, samples)
    if not np.all(np.isfinite(samples)):
        return {"samples_finite": False, "skipped_metrics": skipped}
    from fgan_bench.datasets.user_data import dataset_label

    title = f"{config.divergence} on {dataset_label(config.dataset)}, {config.steps} steps, seed {config.seed}"
    plot_samples(samples, dataset, directory.samples_figure, title=title)
    timings: dict[str, float] = {}
    quality = evaluate_generator(gan, dataset, samples, seed=config.seed, metrics=config.metrics or None,
                                 timings=timings, skipped=skipped)
    if dataset.modes is not None:
        quality["modes_total"] = len(dataset.modes)
    quality.update(_label_quality(gan, run))
    if board is not None:
        board.write_evaluation(config.steps, samples, quality)
    result = {"samples_finite": True, "quality": quality, "evaluation_seconds": timings,
              "skipped_metrics": skipped}
    density = exact_density(gan.generator)
    if density is not None:  # the linear generator's learned θ = (μ, σ)
        result["generator_density"] = {"mean": density.mean.tolist(), "std": np.abs(density.std).tolist()}
    return result


def _label_quality(gan, run: ResolvedRun) -> dict[str, float]:
    """Semi-supervised runs: the critic's test accuracy and the labels-only baseline's (conditional
    runs' metrics are registered ones: :mod:`fgan_bench.metrics.conditional`)."""
    if run.config.labelled:
        import tensorflow as tf

        from fgan_bench.build import build_trainer
        from fgan_bench.semisupervised import semi_supervised_metrics

        def fresh_critic():
            return build_trainer(run, tf.distribute.get_strategy()).critic

        return semi_supervised_metrics(gan, run.config, run.dataset, fresh_critic)
    return {}
