"""``tf.distribute`` strategies by name: one training code path from a laptop CPU to many hosts."""

from __future__ import annotations

from fgan_bench._lazy import tf

STRATEGIES = ("default", "onedevice", "mirrored", "multiworker")


def make_strategy(name: str = "default"):
    """The strategy called ``name``.

    * ``default``: TensorFlow's default (no distribution; one device).
    * ``onedevice``: everything on the first GPU, else the CPU.
    * ``mirrored``: synchronous data parallelism over all local GPUs — or, without GPUs,
      over all logical CPU devices (split the CPU with
      ``tf.config.set_logical_device_configuration`` to test it).
    * ``multiworker``: ``MultiWorkerMirroredStrategy``; the cluster comes from ``TF_CONFIG``.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "onedevice":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        if gpus:
            return tf.distribute.MirroredStrategy([d.name for d in gpus])
        # Collective all-reduce on logical CPUs can interleave the critic's and the
        # generator's reductions between replicas (a shape-mismatch abort); reducing on one
        # device keeps them ordered.
        devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices, cross_device_ops=tf.distribute.ReductionToOneDevice())
    if name == "multiworker":
        from fgan_bench.multiworker import multiworker_strategy

        return multiworker_strategy()
    raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")


def clip_like_one_device(optimizer, gradients):
    """Each replica's share of the clipped *sum* of the replicas' gradients.

    Keras clips ``global_clipnorm`` on each replica's gradient, then sums them, so with
    several replicas it clips something else than one device does. Here the gradients are
    summed first (g = Σ_r g_r), clipped as on one device (g·min(1, c/‖g‖)), and divided by
    the number of replicas n: Keras' own clip then leaves each share alone (‖g/n‖ ≤ c/n) and
    its sum gives back the clipped g. One device, or no ``global_clipnorm``: unchanged.
    """
    context = tf.distribute.get_replica_context()
    clip = optimizer.global_clipnorm
    if not clip or context is None or context.num_replicas_in_sync == 1:
        return gradients
    total = context.all_reduce(tf.distribute.ReduceOp.SUM, list(gradients))
    norm = tf.linalg.global_norm(total)
    scale = clip * tf.minimum(1.0 / norm, 1.0 / clip) / context.num_replicas_in_sync
    return [g * scale for g in total]
