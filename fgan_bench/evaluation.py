"""Evaluating a generator: during training (a Keras callback), at the end of a run, and
afterwards (``python -m fgan_bench evaluate RUN_DIR``).

All three draw generated samples from fixed noise, so evaluations of one run are
comparable step to step, and hand them to :func:`fgan_bench.metrics.evaluate` together with
the run's critic (for the variational estimate on held-out data) and, for the linear
generator, its exact density.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from fgan_bench import rundir
from fgan_bench.errors import FganBenchError
from fgan_bench.inference import predict
from fgan_bench.rundir import RunDirectory

#: Offset of the evaluation noise seed from the run's seed (training never uses it).
NOISE_SEED_OFFSET = 2_000_000_007 % 2**31


def generate(gan, num_samples: int, seed: int) -> np.ndarray:
    """``num_samples`` generator outputs from fixed noise (the same for every call with this seed)."""
    noise = tf.random.stateless_normal([num_samples, gan.latent_dim], seed=[seed, NOISE_SEED_OFFSET])
    inputs = gan.generator_inputs(noise)
    return np.asarray(predict(gan.generator, inputs, batch_size=2048), dtype=np.float32)


def evaluate_generator(
    gan,
    dataset,
    samples: np.ndarray,
    *,
    seed: int,
    metrics=None,
    cache_dir=None,
    timings: dict[str, float] | None = None,
    skipped: dict[str, str] | None = None,
) -> dict[str, float]:
    """The metrics for these samples of ``gan``'s generator, with its critic and exact density
    (``skipped``: filled with the metrics too few samples skip, see :func:`fgan_bench.metrics.evaluate`)."""
    from fgan_bench.metrics import evaluate
    from fgan_bench.models.builtin import exact_density

    return evaluate(
        dataset,
        samples,
        metrics,
        seed=seed,
        divergence=gan.divergence,
        critic=gan.critic_function(),
        fake_labels=gan.sample_labels(len(samples)),
        class_logits=gan.class_logits_function(),
        generator_density=exact_density(gan.generator),
        cache_dir=cache_dir,
        timings=timings,
        skipped=skipped,
    )


class PeriodicEvaluation(keras.callbacks.Callback):
    """Every ``every`` steps, evaluates the run's metrics (``metrics``; None: every default one) and
    adds them to the epoch's logs.

    Placed before the CSV writer, its values land in ``metrics.csv`` on the rows of the
    steps it evaluated (empty elsewhere); its samples stay in ``last_samples`` (and their
    step in ``last_step``) for the TensorBoard writer.
    """

    def __init__(self, dataset, every: int, num_samples: int, seed: int, steps_per_epoch: int, metrics=None):
        super().__init__()
        self.metrics = metrics
        self.last_samples, self.last_step = None, None
        self.dataset, self.every, self.num_samples, self.seed = dataset, every, num_samples, seed
        self.steps_per_epoch = steps_per_epoch

    def on_epoch_end(self, epoch, logs=None):
        step = (epoch + 1) * self.steps_per_epoch
        if logs is None or self.every <= 0 or step % self.every:
            return
        self.last_samples, self.last_step = generate(self.model, self.num_samples, self.seed), step
        skipped: dict[str, str] = {}  # recorded once, in result.json, from the final evaluation
        logs.update(evaluate_generator(self.model, self.dataset, self.last_samples, seed=self.seed,
                                       metrics=self.metrics, skipped=skipped))


def sample_evaluator(dataset, num_samples: int, seed: int):
    """``evaluate(gan, metric_names)``: the named metrics of ``num_samples`` fresh samples of the
    generator (what a protocol trial's pruning callback reports, :mod:`fgan_bench.pruning`)."""

    def evaluate(gan, metrics):
        samples = generate(gan, num_samples, seed)
        return evaluate_generator(gan, dataset, samples, seed=seed, metrics=metrics)

    return evaluate


def evaluate_run(
    directory: str | Path, *, metrics=None, num_samples: int | None = None, cache_dir=None
) -> dict[str, Any]:
    """Recomputes a finished (or interrupted) run's metrics from its checkpoint.

    Writes ``evaluation.json`` in the run directory and, for a finished run, updates the
    ``quality`` entry of its ``result.json`` (atomically). Returns the evaluation.
    """
    from fgan_bench.build import build_trainer
    from fgan_bench.distribute import make_strategy
    from fgan_bench.plugins import load_plugins

    run_directory = RunDirectory(directory)
    if not run_directory.config.is_file() or not run_directory.checkpoint.is_file():
        raise FganBenchError(
            f"{directory} is not a run directory with a checkpoint ({rundir.CONFIG} and {rundir.CHECKPOINT})"
        )
    stored = run_directory.read_config()
    load_plugins(stored.plugins)
    run = stored.resolve()
    config, dataset = run.config, run.dataset
    gan = build_trainer(run, make_strategy("default"))
    run_directory.load_checkpoint(gan)
    count = num_samples or config.num_samples
    samples = generate(gan, count, config.seed)
    timings: dict[str, float] = {}
    skipped: dict[str, str] = {}
    started = time.perf_counter()
    values = evaluate_generator(
        gan, dataset, samples, seed=config.seed, metrics=metrics, cache_dir=cache_dir, timings=timings,
        skipped=skipped,
    )
    evaluation = {
        "run_id": config.run_id,
        "samples": count,
        "metrics": values,
        "seconds": time.perf_counter() - started,
        "seconds_per_metric": timings,
        "skipped": skipped,
    }
    rundir.write_json_atomically(run_directory.evaluation, evaluation)
    result = run_directory.read_result()
    if result is not None:
        run_directory.write_result(dataclasses.replace(result, quality={**(result.quality or {}), **values}))
    return evaluation
