"""One training run, end to end: ``python -m fgan_bench run`` and :func:`run`.

The run is resolved once (config, dataset, divergence, models) and the resolved objects are
passed down to the trainer, the callbacks and the evaluation. What it writes, and how, is
:mod:`fgan_bench.rundir`'s: ``config.json`` first, ``metrics.csv`` and an atomic checkpoint
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


def build_trainer(config: RunConfig, strategy, dataset=None):
    """The compiled trainer for a resolved config (see :func:`fgan_bench.build.build_trainer`)."""
    from fgan_bench.build import build_trainer as build

    return build(config, strategy, dataset)


def describe(config: RunConfig) -> str:
    """The one-line header of a resolved run."""
    from fgan_bench.datasets.user_data import dataset_label

    return (
        f"run {config.run_id}: {config.divergence} on {dataset_label(config.dataset)}, {config.steps} steps "
        f"(model {config.model}, batch {config.batch_size}, seed {config.seed}, strategy {config.strategy})"
    )


def run(
    config: RunConfig,
    out: str | os.PathLike = "reports",
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    announce: bool = False,
    callbacks: tuple = (),
    directory: str | os.PathLike | None = None,
    wait: bool = False,
) -> dict[str, Any]:
    """Trains one run and returns its result (also written to ``result.json``).

    Args:
        config: the run's options; resolved (and validated) first.
        out: the output root; the run goes to ``<out>/runs/<run-id>/``.
        resume: continue from the run directory's checkpoint if there is one.
        overwrite: start afresh even if the run directory holds a run.
        progress: show a progress bar.
        announce: print the run's one-line header first.
        callbacks: extra Keras callbacks (e.g. ``keras.callbacks.TensorBoard``), run after
            the run's own (so a checkpoint of an epoch is written before they see it).
        directory: the run directory itself, instead of ``<out>/runs/<run-id>/`` (``run
            --resume DIR``: the named directory, wherever it was moved or copied to).
        wait: if another process holds the run directory's lock, wait for it (sweep
            workers) instead of refusing in one line naming the holder.

    Raises:
        FganBenchError: bad options, metrics that cannot run on ``num_samples``, the run
            directory in use, a damaged checkpoint, disk full, out of memory; each one line.
    """
    config, dataset = config.resolved_with_dataset()
    skipped = check_samples(config, dataset)
    if skipped:
        listed = "; ".join(f"{name} {reason}" for name, reason in skipped.items())
        print(f"warning: metrics skipped for too few samples: {listed}", file=sys.stderr, flush=True)
    if announce:
        print(describe(config), flush=True)
    directory = Path(directory) if directory is not None else run_directory(config, out)
    role = worker_role() if config.strategy == "multiworker" else WorkerRole()
    if not role.is_chief:  # only the chief writes (and locks) the run directory (see fgan_bench.multiworker)
        result = rundir.read_result(directory)
        if result is not None and not overwrite:
            result["already_done"] = True
            return result
        with scratch_run_directory(role, directory, Path(out), None if overwrite else rundir.CHECKPOINT) as scratch:
            return _train(config, dataset, scratch, progress=progress, extra_callbacks=tuple(callbacks),
                          skipped=skipped)
    with opened_run_directory(config, directory, resume=resume, overwrite=overwrite, wait=wait) as done:
        if done is not None:
            return done
        return _train(config, dataset, directory, progress=progress, extra_callbacks=tuple(callbacks),
                      skipped=skipped)


@contextlib.contextmanager
def opened_run_directory(config: RunConfig, directory: Path, *, resume: bool, overwrite: bool, wait: bool):
    """Holds the run directory's lock; yields its result if it is done (``None``: train it).

    An unfinished run's checkpoint is refused unless ``resume`` or ``overwrite``; ``config.json`` is
    written before training starts.
    """
    rundir.make_directory(directory)
    with rundir.run_lock(directory, wait=wait):
        result = rundir.read_result(directory)
        if result is not None and not overwrite:
            result["already_done"] = True
            yield result
            return
        if (directory / rundir.CHECKPOINT).exists() and not (resume or overwrite):
            raise FganBenchError(f"{directory} holds an unfinished run; pass --resume to continue it or --overwrite")
        if overwrite:
            rundir.clear_products(directory)
        (directory / rundir.FAILURE).unlink(missing_ok=True)
        rundir.write_json_atomically(directory / rundir.CONFIG, config.to_dict())
        yield None


def check_samples(config: RunConfig, dataset) -> dict[str, str]:
    """Before training (and before TensorFlow starts): ``{metric: reason}`` for the metrics that
    ``num_samples`` generated examples, or the data's rows, are too few for — skipped, and
    recorded in ``result.json`` — or a one-line refusal when no metric could run at all."""
    from fgan_bench.metrics import sample_shortfalls

    short = sample_shortfalls(dataset, config.num_samples)
    if short and len(short) == len(sample_shortfalls(dataset, 0)):  # with no sample, every metric is short
        name, reason = next(iter(short.items()))
        raise FganBenchError(f"no metric can evaluate this run: {name} {reason}; raise --num-samples "
                             f"or give the data more rows")
    return short


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
    config: RunConfig, dataset, directory: Path, *, progress: bool, extra_callbacks: tuple = ()
) -> TrainingSession:
    """Builds the run's trainer, restores its checkpoint (metrics.csv cut back to it) and its callbacks."""
    import keras

    from fgan_bench import callbacks as cb
    from fgan_bench.build import build_trainer
    from fgan_bench.distribute import make_strategy
    from fgan_bench.evaluation import PeriodicEvaluation, evaluate_generator, generate
    from fgan_bench.pruning import INTERMEDIATE_SAMPLES, trial_callbacks
    from fgan_bench.trainer import LOGGED, steps_done

    if config.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    keras.utils.set_random_seed(config.seed)
    strategy = make_strategy(config.strategy)
    gan = build_trainer(config, strategy, dataset)
    checkpoint = directory / rundir.CHECKPOINT
    start_step, elapsed_before = 0, 0.0
    if checkpoint.exists():
        rundir.load_checkpoint(gan, checkpoint)
        start_step = steps_done(gan)
        previous = rundir.read_history(directory)
        if previous is not None:
            # Rows logged after the checkpoint (a kill between the two) are trained again.
            previous = previous[previous["step"] <= start_step]
            rundir.write_csv_atomically(previous, directory / rundir.METRICS)
            elapsed_before = float(previous["wall_time_s"].iloc[-1]) if len(previous) else 0.0
    else:
        (directory / rundir.METRICS).unlink(missing_ok=True)
    check_same_start(strategy, start_step)
    guard = cb.NonFiniteGuard()
    callbacks = [cb.StepLogger(config.log_every, elapsed_before), guard]
    evaluation = None
    if config.eval_every:
        evaluation = PeriodicEvaluation(dataset, config.eval_every, config.num_samples, config.seed, config.log_every)
        callbacks.append(evaluation)
    callbacks += [cb.MetricsCSV(directory / rundir.METRICS, LOGGED), cb.AtomicCheckpoint(checkpoint, guard)]
    board = None
    if config.tensorboard:
        board = cb.TensorBoardWriter(directory / rundir.TENSORBOARD, dataset, evaluation)
        callbacks.append(board)
    if progress:
        callbacks.append(cb.ProgressBar(config.steps, start_step))
    callbacks.extend(extra_callbacks)

    def evaluate_now(gan, metrics):
        samples = generate(gan, INTERMEDIATE_SAMPLES, config.seed)
        return evaluate_generator(gan, dataset, samples, seed=config.seed, metrics=metrics)

    callbacks.extend(trial_callbacks(directory, config, evaluate_now))  # a protocol trial's pruning
    return TrainingSession(gan, strategy, start_step, elapsed_before, callbacks, guard, board)


def session_batches(session: TrainingSession, config: RunConfig, dataset):
    """The run's training data from the session's start step on, with the labels a conditional or
    semi-supervised run needs (:func:`fgan_bench.datasets.labels.labelled_training_batches`)."""
    from fgan_bench.datasets.labels import labelled_training_batches

    gan = session.gan
    return labelled_training_batches(dataset, batch_size=config.batch_size, real_slots=gan.real_slots,
                                     noise_slots=gan.noise_slots, latent_dim=gan.latent_dim, seed=config.seed,
                                     start_step=session.start_step, conditional=config.conditional,
                                     labelled=config.labelled)


def _train(
    config: RunConfig, dataset, directory: Path, *, progress: bool, extra_callbacks: tuple, skipped: dict[str, str]
) -> dict[str, Any]:
    session = start_session(config, dataset, directory, progress=progress, extra_callbacks=extra_callbacks)
    gan = session.gan
    data = session_batches(session, config, dataset)
    started = time.perf_counter()
    try:
        gan.fit(
            data,
            epochs=config.steps // config.log_every,
            initial_epoch=session.start_step // config.log_every,
            steps_per_epoch=config.log_every,
            callbacks=session.callbacks,
            verbose=0,
            shuffle=False,
        )
    except KeyboardInterrupt:
        print(f"\ninterrupted; the run resumes from its last checkpoint with --resume {directory}", file=sys.stderr)
        raise
    except OSError as error:  # an append to metrics.csv, TensorBoard's event file: disk full
        raise rundir.write_error(error.filename or directory, error) from None
    except Exception as error:  # noqa: BLE001 - re-raised: as one line where the fix is known
        raise _training_error(error, config, session.strategy, directory) from None
    return finish_session(session, config, dataset, directory, time.perf_counter() - started, skipped=skipped)


def finish_session(
    session: TrainingSession, config: RunConfig, dataset, directory: Path, train_seconds: float, *,
    skipped: dict[str, str]
) -> dict[str, Any]:
    """After training: status (completed, diverged, pruned), final samples and metrics, ``result.json``."""
    from fgan_bench.trainer import steps_done

    gan, guard, strategy, checkpoint = session.gan, session.guard, session.strategy, directory / rundir.CHECKPOINT
    steps_trained = steps_done(gan) - session.start_step
    status = "diverged" if guard.diverged_at is not None else "completed"
    pruned = next((c.record for c in session.callbacks if getattr(c, "pruned_at", None) is not None), None)
    if pruned is not None and status == "completed":
        status = "pruned"
    if status == "diverged" and checkpoint.exists():
        rundir.load_checkpoint(gan, checkpoint)  # samples from the last finite weights
    history = rundir.read_history(directory)
    result: dict[str, Any] = {
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
        "replicas": strategy.num_replicas_in_sync,
    }
    if status == "diverged":
        result["diverged"] = {"step": guard.diverged_at, "last_finite": guard.last_finite}
    if status == "pruned":
        result["pruned"] = pruned  # stopped by its protocol's pruner: no final evaluation
    else:
        if spans_processes(strategy):  # evaluated by the chief alone, on a copy outside the strategy
            if not worker_role().is_chief:
                return result
            gan = _single_process_copy(gan, config, dataset)
        result.update(_evaluate_samples(gan, dataset, config, directory, session.board, skipped=skipped))
        _mark_exploded(result)
    rundir.write_json_atomically(directory / rundir.RESULT, result)
    return result


def _single_process_copy(gan, config: RunConfig, dataset):
    """The trainer's networks with the same weights, outside any ``tf.distribute`` strategy."""
    import tensorflow as tf

    from fgan_bench.build import build_trainer

    copy = build_trainer(config, tf.distribute.get_strategy(), dataset)
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


def _mark_exploded(result: dict[str, Any]) -> None:
    """A completed run whose final values blew up is ``diverged``; a saturated critic is a
    warning (:func:`fgan_bench.run_status.judge`)."""
    from fgan_bench.run_status import judge

    judge(result)


def _evaluate_samples(
    gan, dataset, config: RunConfig, directory: Path, board=None, *, skipped: dict[str, str]
) -> dict[str, Any]:
    """Final samples (``samples.npy``, ``samples.png``) and every default metric for them;
    ``skipped`` (the metrics too few samples skip, with their reasons) is filled and recorded."""
    from fgan_bench.evaluation import evaluate_generator, generate
    from fgan_bench.models.builtin import exact_density
    from fgan_bench.plotting import plot_samples

    samples = generate(gan, config.num_samples, config.seed)
    rundir.write_array_atomically(directory / rundir.SAMPLES, samples)
    if not np.all(np.isfinite(samples)):
        return {"samples_finite": False, "skipped_metrics": skipped}
    from fgan_bench.datasets.user_data import dataset_label

    title = f"{config.divergence} on {dataset_label(config.dataset)}, {config.steps} steps, seed {config.seed}"
    plot_samples(samples, dataset, directory / rundir.SAMPLES_FIGURE, title=title)
    timings: dict[str, float] = {}
    quality = evaluate_generator(gan, dataset, samples, seed=config.seed, timings=timings, skipped=skipped)
    if dataset.modes is not None:
        quality["modes_total"] = len(dataset.modes)
    quality.update(_label_quality(gan, dataset, config))
    if board is not None:
        board.write_evaluation(config.steps, samples, quality)
    result = {"samples_finite": True, "quality": quality, "evaluation_seconds": timings,
              "skipped_metrics": skipped}
    density = exact_density(gan.generator)
    if density is not None:  # the linear generator's learned θ = (μ, σ)
        result["generator_density"] = {"mean": density.mean.tolist(), "std": np.abs(density.std).tolist()}
    return result


def _label_quality(gan, dataset, config: RunConfig) -> dict[str, float]:
    """Semi-supervised runs: the critic's test accuracy and the labels-only baseline's (conditional
    runs' metrics are registered ones: :mod:`fgan_bench.metrics.conditional`)."""
    if config.labelled:
        import tensorflow as tf

        from fgan_bench.build import build_trainer
        from fgan_bench.semisupervised import semi_supervised_metrics

        def fresh_critic():
            return build_trainer(config, tf.distribute.get_strategy(), dataset).critic

        return semi_supervised_metrics(gan, config, dataset, fresh_critic)
    return {}
