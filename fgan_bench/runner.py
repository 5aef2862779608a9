"""One training run, end to end: ``python -m fgan_bench run`` and :func:`run`.

A run directory ``<out>/runs/<run-id>/`` holds

* ``config.json`` — the complete, resolved :class:`~fgan_bench.config.RunConfig`;
* ``metrics.csv`` — the training history (one row per ``log_every`` steps);
* ``checkpoint.weights.h5`` — generator, critic and optimizers, replaced atomically;
* ``samples.npy`` and ``samples.png`` — the final generator's samples and their figure;
* ``result.json`` — written last, atomically: status ``completed`` or ``diverged``, final
  metrics, quality metrics, wall time, throughput, versions. A run is done exactly when
  this file exists.

An interrupted run (Ctrl-C, a kill) keeps its last checkpoint; ``run(..., resume=True)``
continues it and ends with the same weights as an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from fgan_bench.config import RunConfig
from fgan_bench.errors import FganBenchError

CHECKPOINT = "checkpoint.weights.h5"
RESULT = "result.json"


def write_json_atomically(path: Path, payload: dict[str, Any]) -> None:
    """Writes JSON to a temporary file in the same folder, then renames it over ``path``."""
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "w") as file:
        json.dump(payload, file, indent=2, default=_json_default)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {value!r}")


def versions() -> dict[str, str]:
    import keras
    import tensorflow as tf
    import tensorflow_probability as tfp

    import fgan_bench

    return {
        "python": platform.python_version(),
        "fgan_bench": fgan_bench.__version__,
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
    return Path(out) / "runs" / config.run_id


def _optimizer(config: RunConfig, learning_rate: float):
    import keras

    if config.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=config.momentum, global_clipnorm=config.clip_norm or None)
    return keras.optimizers.Adam(learning_rate, beta_1=config.beta1, beta_2=config.beta2,
                                 global_clipnorm=config.clip_norm or None)


def build_trainer(config: RunConfig, strategy):
    """The compiled :class:`~fgan_bench.trainer.FGAN` for a resolved config, inside ``strategy``."""

    from fgan_bench import models
    from fgan_bench.datasets import get_dataset
    from fgan_bench.divergences import get_divergence
    from fgan_bench.trainer import FGAN

    dataset = get_dataset(config.dataset)
    jit_everything = config.jit and strategy.num_replicas_in_sync == 1
    with strategy.scope():
        generator, critic = models.build_models(
            config.model,
            kind=dataset.kind,
            shape=dataset.shape,
            latent_dim=config.latent_dim,
            width=config.width,
            depth=config.depth,
            filters=config.filters,
        )
        gan = FGAN(
            generator,
            critic,
            get_divergence(config.divergence),
            objective=config.objective,
            schedule=config.schedule,
            critic_steps=config.critic_steps,
            jit_gradients=config.jit and not jit_everything,
        )
        gan.compile(
            generator_optimizer=_optimizer(config, config.generator_lr),
            critic_optimizer=_optimizer(config, config.critic_lr),
            steps_per_execution=config.steps_per_execution,
            jit_compile=jit_everything,
        )
    return gan, dataset


def run(
    config: RunConfig,
    out: str | os.PathLike = "reports",
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    callbacks: tuple = (),
) -> dict[str, Any]:
    """Trains one run and returns its result (also written to ``result.json``).

    Args:
        config: the run's options; resolved (and validated) first.
        out: the output root; the run goes to ``<out>/runs/<run-id>/``.
        resume: continue from the run directory's checkpoint if there is one.
        overwrite: start afresh even if the run directory holds a run.
        progress: show a progress bar.
        callbacks: extra Keras callbacks (e.g. ``keras.callbacks.TensorBoard``), run after
            the run's own (so a checkpoint of an epoch is written before they see it).
    """
    config = config.resolved()
    directory = run_directory(config, out)
    if (directory / RESULT).exists() and not overwrite:
        result = json.loads((directory / RESULT).read_text())
        result["already_done"] = True
        return result
    if (directory / CHECKPOINT).exists() and not (resume or overwrite):
        raise FganBenchError(f"{directory} holds an unfinished run; pass --resume to continue it or --overwrite")
    if overwrite and directory.exists():
        for name in (CHECKPOINT, RESULT, "metrics.csv", "samples.npy", "samples.png", "evaluation.json"):
            (directory / name).unlink(missing_ok=True)
    directory.mkdir(parents=True, exist_ok=True)
    write_json_atomically(directory / "config.json", config.to_dict())
    return _train(config, directory, progress=progress, extra_callbacks=tuple(callbacks))


def _train(config: RunConfig, directory: Path, *, progress: bool, extra_callbacks: tuple) -> dict[str, Any]:
    import keras

    from fgan_bench.callbacks import make_callbacks
    from fgan_bench.datasets import training_batches
    from fgan_bench.distribute import make_strategy
    from fgan_bench.evaluation import make_evaluation_callback
    from fgan_bench.trainer import LOGGED, steps_done

    if config.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    keras.utils.set_random_seed(config.seed)
    strategy = make_strategy(config.strategy)
    gan, dataset = build_trainer(config, strategy)
    checkpoint = directory / CHECKPOINT
    start_step, elapsed_before = 0, 0.0
    if checkpoint.exists():
        gan.load_weights(checkpoint)
        start_step = steps_done(gan)
        previous = _read_history(directory)
        if previous is not None:
            # Rows logged after the checkpoint (a kill between the two) are trained again.
            previous = previous[previous["step"] <= start_step]
            previous.to_csv(directory / "metrics.csv", index=False)
            elapsed_before = float(previous["wall_time_s"].iloc[-1]) if len(previous) else 0.0
    elif (directory / "metrics.csv").exists():
        (directory / "metrics.csv").unlink()
    data = training_batches(
        dataset,
        batch_size=config.batch_size,
        real_slots=gan.real_slots,
        noise_slots=gan.noise_slots,
        latent_dim=gan.latent_dim,
        seed=config.seed,
        start_step=start_step,
    )
    StepLogger, MetricsCSV, NonFiniteGuard, AtomicCheckpoint, ProgressBar = make_callbacks()
    guard = NonFiniteGuard()
    callbacks = [StepLogger(config.log_every, elapsed_before), guard]
    if config.eval_every:
        PeriodicEvaluation = make_evaluation_callback()
        callbacks.append(PeriodicEvaluation(dataset, config.eval_every, config.num_samples, config.seed,
                                            config.log_every))
    callbacks += [
        MetricsCSV(directory / "metrics.csv", LOGGED),
        AtomicCheckpoint(checkpoint, guard),
    ]
    if progress:
        callbacks.append(ProgressBar(config.steps, start_step))
    callbacks.extend(extra_callbacks)
    from fgan_bench.evaluation import evaluate_generator, generate
    from fgan_bench.pruning import INTERMEDIATE_SAMPLES, trial_callbacks

    def evaluate_now(gan, metrics):
        samples = generate(gan, INTERMEDIATE_SAMPLES, config.seed)
        return evaluate_generator(gan, dataset, samples, seed=config.seed, metrics=metrics)

    callbacks.extend(trial_callbacks(directory, config, evaluate_now))  # a protocol trial's pruning
    started = time.perf_counter()
    try:
        gan.fit(
            data,
            epochs=config.steps // config.log_every,
            initial_epoch=start_step // config.log_every,
            steps_per_epoch=config.log_every,
            callbacks=callbacks,
            verbose=0,
            shuffle=False,
        )
    except KeyboardInterrupt:
        print(f"\ninterrupted; the run resumes from its last checkpoint with --resume {directory}", file=sys.stderr)
        raise
    train_seconds = time.perf_counter() - started
    steps_trained = steps_done(gan) - start_step
    status = "diverged" if guard.diverged_at is not None else "completed"
    pruned = next((c.record for c in callbacks if getattr(c, "pruned_at", None) is not None), None)
    if pruned is not None and status == "completed":
        status = "pruned"
    if status == "diverged" and checkpoint.exists():
        gan.load_weights(checkpoint)  # samples from the last finite weights
    history = _read_history(directory)
    result: dict[str, Any] = {
        "status": status,
        "run_id": config.run_id,
        "steps": {"completed": config.steps, "pruned": (pruned or {}).get("step")}.get(status, guard.diverged_at),
        "final_metrics": (
            {k: float(v) for k, v in history.iloc[-1].items()} if history is not None and len(history) else {}
        ),
        "wall_time_s": elapsed_before + train_seconds,
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
        result.update(_evaluate_samples(gan, dataset, config, directory))
    write_json_atomically(directory / RESULT, result)
    return result


def _read_history(directory: Path):
    import pandas as pd

    path = directory / "metrics.csv"
    if not path.exists() or path.stat().st_size == 0:
        return None
    return pd.read_csv(path)


def _evaluate_samples(gan, dataset, config: RunConfig, directory: Path) -> dict[str, Any]:
    """Final samples (``samples.npy``, ``samples.png``) and every default metric for them."""
    from fgan_bench.evaluation import evaluate_generator, generate
    from fgan_bench.models import exact_density
    from fgan_bench.plotting import plot_samples

    samples = generate(gan, config.num_samples, config.seed)
    np.save(directory / "samples.npy", samples)
    if not np.all(np.isfinite(samples)):
        return {"samples_finite": False}
    title = f"{config.divergence} on {config.dataset}, {config.steps} steps, seed {config.seed}"
    plot_samples(samples, dataset, directory / "samples.png", title=title)
    timings: dict[str, float] = {}
    quality = evaluate_generator(gan, dataset, samples, seed=config.seed, timings=timings)
    if dataset.modes is not None:
        quality["modes_total"] = len(dataset.modes)
    result = {"samples_finite": True, "quality": quality, "evaluation_seconds": timings}
    density = exact_density(gan.generator)
    if density is not None:  # the linear generator's learned θ = (μ, σ)
        result["generator_density"] = {"mean": density.mean.tolist(), "std": np.abs(density.std).tolist()}
    return result
