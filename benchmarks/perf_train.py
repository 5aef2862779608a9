"""Training throughput: the FGAN trainer (Keras ``fit``) against a minimal hand-written loop.

Both train identical models with identical losses (:mod:`fgan_bench.losses`) on the same
``tf.data`` pipeline, side by side in one process, alternating trials. Tasks: the 2-D MLP on
ring8 (batch 256) and the DCGAN on digits (batch 64). Also measured: ``steps_per_execution``
= 1 against 50 for the MLP task.

    python benchmarks/perf_train.py [--steps 2000] [--trials 3] [--tasks mlp-ring8 ...] [--ops]

Each trial pairs one hand-written run with one trainer run; the ratio trainer / hand-written
is printed as the median of the trials' ratios with their range (min–max), beside the load
average (1 min) before and after, since another process on the cores moves every figure; so is
the same ratio in CPU time of this process, which moves less while other processes share the
cores (but misses time spent waiting). Like ``fit``, the hand-written run makes its iterator
over the data inside its timing.
``--ops`` prints, per op type, the ops of the two compiled chunks that differ: as traced
(with their function libraries, before grappler) and as run (after grappler, from TensorFlow's
run metadata) — what each step executes.

Targets: trainer / hand-written ≥ 0.95, and in-graph looping (steps_per_execution = 50)
≥ 2× one step per call on the MLP task. This is a benchmark, not a test: it prints the
figures and exits 0.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.eager import context  # noqa: E402 - run metadata: the graphs after grappler

from fgan_bench import get_divergence, losses  # noqa: E402
from fgan_bench.datasets import get_dataset, training_batches  # noqa: E402
from fgan_bench.models import build_models  # noqa: E402
from fgan_bench.trainer import FGAN  # noqa: E402

TASKS = {
    "mlp-ring8": {"dataset": "ring8", "model": "mlp", "batch": 256, "latent": 16},
    "dcgan-digits": {"dataset": "digits", "model": "dcgan", "batch": 64, "latent": 32},
}
LOOP_CHUNK = 50


def _models(task):
    keras.utils.set_random_seed(0)
    dataset = get_dataset(task["dataset"])
    generator, critic = build_models(
        task["model"], kind=dataset.kind, shape=dataset.shape, latent_dim=task["latent"], width=128, depth=2, filters=64
    )
    return dataset, generator, critic


def _data(dataset, task):
    return training_batches(
        dataset, batch_size=task["batch"], real_slots=1, noise_slots=1, latent_dim=task["latent"], seed=0
    )


def build_trainer(task, steps_per_execution=LOOP_CHUNK):
    """The FGAN trainer on ``task``, compiled and warmed up (traced): ``(gan, data)``."""
    dataset, generator, critic = _models(task)
    gan = FGAN(generator, critic, get_divergence("gan"))
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(2e-4),
        critic_optimizer=keras.optimizers.Adam(2e-4),
        steps_per_execution=steps_per_execution,
    )
    data = _data(dataset, task)
    gan.fit(data, epochs=1, steps_per_epoch=2 * LOOP_CHUNK, verbose=0, shuffle=False)  # trace and warm up
    return gan, data


def _rates(steps, run):
    """``(steps per wall second, steps per CPU second of this process)`` of ``run()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return steps / (time.perf_counter() - wall), steps / (time.process_time() - cpu)


def trainer_rate(task, steps, steps_per_execution):
    gan, data = build_trainer(task, steps_per_execution)
    return _rates(steps, lambda: gan.fit(data, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False))


def build_handwritten(task):
    """The smallest correct loop: ``run_chunk(iterator)``, one tf.function running LOOP_CHUNK simultaneous
    f-GAN steps (warmed up), and its data: ``(run_chunk, data)``."""
    dataset, generator, critic = _models(task)
    divergence = get_divergence("gan")
    generator_optimizer, critic_optimizer = keras.optimizers.Adam(2e-4), keras.optimizers.Adam(2e-4)
    generator_optimizer.build(generator.trainable_variables)
    critic_optimizer.build(critic.trainable_variables)
    data = _data(dataset, task)

    @tf.function
    def run_chunk(iterator):
        for _ in tf.range(LOOP_CHUNK):
            element = next(iterator)
            real, noise = element["real"][:, 0], element["noise"][:, 0]
            with tf.GradientTape(persistent=True) as tape:
                v_real = tf.squeeze(critic(real, training=True), -1)
                v_fake = tf.squeeze(critic(generator(noise, training=True), training=True), -1)
                critic_loss = tf.reduce_mean(losses.critic_loss(divergence, v_real, v_fake))
                generator_loss = tf.reduce_mean(losses.generator_loss(divergence, v_fake))
            critic_optimizer.apply_gradients(
                zip(tape.gradient(critic_loss, critic.trainable_variables), critic.trainable_variables, strict=True)
            )
            generator_optimizer.apply_gradients(
                zip(
                    tape.gradient(generator_loss, generator.trainable_variables),
                    generator.trainable_variables,
                    strict=True,
                )
            )

    iterator = iter(data)
    run_chunk(iterator)
    run_chunk(iterator)
    return run_chunk, data


def handwritten_rate(task, steps):
    """Steps/s of a hand-written run: like ``fit``, it makes its iterator over the data (the tf.data
    pipeline is instantiated and optimised then), then runs its steps."""
    run_chunk, data = build_handwritten(task)

    def run():
        iterator = iter(data)
        for _ in range(steps // LOOP_CHUNK):
            run_chunk(iterator)

    return _rates(steps // LOOP_CHUNK * LOOP_CHUNK, run)


def op_counts(function) -> collections.Counter:
    """Ops per type in a traced (and called) ``tf.function``'s graph and its function library (before grappler)."""
    counts = collections.Counter()
    for concrete in function._list_all_concrete_functions():
        graph_def = concrete.graph.as_graph_def()
        counts.update(node.op for node in graph_def.node)
        for library_function in graph_def.library.function:
            counts.update(node.op for node in library_function.node_def)
    return counts


def trainer_op_counts(task) -> collections.Counter:
    """The trainer's chunk function (``steps_per_execution`` steps on endless data), as :func:`op_counts`."""
    gan, _ = build_trainer(task)
    return op_counts(gan._plain_train_function)


def optimized_op_counts(build) -> collections.Counter:
    """Ops per type in the graph TensorFlow runs (after grappler, partitioned) for the largest
    function that ``build()`` instantiates: the chunk of training steps."""
    context.enable_run_metadata()
    try:
        build()
        metadata = context.export_run_metadata()
    finally:
        context.disable_run_metadata()
    counts = [collections.Counter(node.op for graph in function.partition_graphs for node in graph.node)
              for function in metadata.function_graphs]
    return max(counts, key=lambda c: sum(c.values()))


def _print_difference(label, trainer, handwritten):
    print(f"{label}: ops trainer {sum(trainer.values())}, hand-written {sum(handwritten.values())}")
    for op in sorted(set(trainer) | set(handwritten)):
        if trainer[op] != handwritten[op]:
            print(f"  {op:<32} trainer {trainer[op]:4d}  hand-written {handwritten[op]:4d}")


def print_op_difference(name, task):
    _print_difference(f"{name}, traced (before grappler)", trainer_op_counts(task),
                      op_counts(build_handwritten(task)[0]))
    _print_difference(f"{name}, run (after grappler)", optimized_op_counts(lambda: build_trainer(task)),
                      optimized_op_counts(lambda: build_handwritten(task)))


def _range(values) -> str:
    return f"{min(values):.3f}–{max(values):.3f}"


def measure(name, task, args):
    load_before = os.getloadavg()[0]
    trainer, handwritten, single, cpu_ratios = [], [], [], []
    for _ in range(args.trials):
        (handwritten_wall, handwritten_cpu) = handwritten_rate(task, args.steps)
        (trainer_wall, trainer_cpu) = trainer_rate(task, args.steps, LOOP_CHUNK)
        handwritten.append(handwritten_wall)
        trainer.append(trainer_wall)
        cpu_ratios.append(trainer_cpu / handwritten_cpu)
        if name == "mlp-ring8" and not args.no_single:
            single.append(trainer_rate(task, args.steps // 4, 1)[0])
    load = f"load {load_before:.2f} → {os.getloadavg()[0]:.2f}"
    rows = [("hand-written tf.function loop", handwritten), (f"FGAN.fit, steps_per_execution={LOOP_CHUNK}", trainer)]
    if single:
        rows.append(("FGAN.fit, steps_per_execution=1", single))
    for label, rates in rows:
        rate = statistics.median(rates)
        spread = f"range {min(rates):.1f}–{max(rates):.1f}"
        print(f"{name:<14} {label:<34} {rate:9.1f} {rate * task['batch']:11.0f}   {spread}")
    ratios = [t / h for t, h in zip(trainer, handwritten, strict=True)]
    print(f"{name:<14} {'ratio trainer / hand-written':<34} {statistics.median(ratios):9.3f}   "
          f"range {_range(ratios)} over {len(ratios)} trials, {load}   (target ≥ 0.95)")
    print(f"{name:<14} {'ratio in CPU time of this process':<34} {statistics.median(cpu_ratios):9.3f}   "
          f"range {_range(cpu_ratios)}   (steadier than wall time while other processes share the cores)")
    if single:
        speedups = [t / s for t, s in zip(trainer, single, strict=True)]
        print(f"{name:<14} {'speed-up of in-graph looping':<34} {statistics.median(speedups):9.2f}   "
              f"range {min(speedups):.2f}–{max(speedups):.2f}   (target ≥ 2)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--tasks", nargs="+", choices=tuple(TASKS), default=tuple(TASKS))
    parser.add_argument("--ops", action="store_true", help="print the op types whose counts differ, and exit")
    parser.add_argument("--no-single", action="store_true", help="skip steps_per_execution=1")
    args = parser.parse_args()
    if args.ops:
        for name in args.tasks:
            print_op_difference(name, TASKS[name])
        return
    print(f"{'task':<14} {'measure':<34} {'steps/s':>9} {'samples/s':>11}")
    for name in args.tasks:
        measure(name, TASKS[name], args)


if __name__ == "__main__":
    main()
