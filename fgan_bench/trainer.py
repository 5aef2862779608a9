"""The f-GAN trainer: a ``keras.Model`` whose ``train_step`` optimises the f-GAN saddle point.

Use it like any Keras model, so that ``fit`` brings callbacks, History, checkpoints,
TensorBoard and ``steps_per_execution``::

    gan = FGAN(generator, critic, get_divergence("kl"))
    gan.compile(generator_optimizer=keras.optimizers.Adam(2e-4),
                critic_optimizer=keras.optimizers.Adam(2e-4), steps_per_execution=50)
    gan.fit(training_batches(...), epochs=..., steps_per_epoch=...)

Each element of the training data is ``{"real": ..., "noise": ...}`` from
:func:`fgan_bench.datasets.training_batches`: ``real[:, i]`` is the i-th critic batch of the
step and ``noise[:, j]`` the j-th batch of generator inputs.

Schedules:
    ``"simultaneous"``: the f-GAN paper's single-step gradient method — one forward pass,
    then one update of the critic (ascending F) and one of the generator, both from the same
    parameters.
    ``"alternating"``: Goodfellow et al.'s Algorithm 1 — ``critic_steps`` critic updates on
    fresh batches, then one generator update on fresh noise.

Everything divergence-specific comes from the trainer's objective (:mod:`fgan_bench.objectives`):
a :class:`~fgan_bench.Divergence`'s f-GAN losses (:mod:`fgan_bench.losses`), or a non-f
:class:`~fgan_bench.Baseline`'s (WGAN-GP, hinge, LSGAN) with its gradient penalty.
Losses are reduced by :func:`average_over_global_batch` (``tf.nn.compute_average_loss``'s
scaling), i.e. scaled by the global batch, so that the same code trains on one device or many.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from fgan_bench import objectives
from fgan_bench.baselines.base import Baseline
from fgan_bench.config import SCHEDULES
from fgan_bench.distribute import clip_like_one_device
from fgan_bench.divergences.base import Divergence
from fgan_bench.inference import predict
from fgan_bench.multiworker import spans_processes
from fgan_bench.step_loop import chunk_function, plain_loop_applies

LOGGED = (
    "critic_loss",
    "generator_loss",
    "divergence_estimate",
    "t_real",
    "t_fake",
    "critic_grad_norm",
    "generator_grad_norm",
)


class StepMeans(keras.metrics.Metric):
    """Running means of named per-step statistics, kept as one vector: mean = Σ_steps s / steps.

    ``update_state({name: value})`` adds a step; ``result()`` is ``{name: mean}``. Two in-place
    additions per step (sums, count) for all the statistics, where a ``keras.metrics.Mean`` costs
    several ops per statistic — a visible share of a small model's step — and a Keras
    ``Variable.assign_add`` three (read, add, assign): the adds go to the underlying
    ``tf.Variable``, as Keras' TensorFlow optimizers do.
    """

    def __init__(self, names, name="step_means", **kwargs):
        super().__init__(name=name, **kwargs)
        self.names = tuple(names)
        self.total = self.add_variable(shape=(len(self.names),), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, values):
        """``values``: ``{name: value}``, or the values as one vector in ``names``' order."""
        if isinstance(values, dict):
            values = tf.stack([tf.cast(values[name], self.dtype) for name in self.names])
        self.total.value.assign_add(tf.cast(values, self.dtype))
        self.count.value.assign_add(tf.ones((), self.dtype))

    def result(self):
        means = tf.unstack(tf.math.divide_no_nan(self.total, self.count))
        return dict(zip(self.names, means, strict=True))

    def get_config(self):
        return {"names": self.names, "name": self.name}


@keras.saving.register_keras_serializable(package="fgan_bench")
class FGAN(keras.Model):
    """Generator + critic trained on the f-GAN objective of ``divergence``.

    Args:
        generator: maps noise of shape (batch, latent_dim) to data.
        critic: maps data to raw outputs V of shape (batch, 1).
        divergence: the :class:`~fgan_bench.Divergence` to minimise, or a
            :class:`~fgan_bench.Baseline` whose losses to use.
        objective: a generator objective of :data:`fgan_bench.losses.OBJECTIVES`.
        generator_divergence: the divergence the generator minimises through the critic's
            density-ratio estimate (``None``: the critic's own; see :mod:`fgan_bench.losses`).
        schedule: ``"simultaneous"`` or ``"alternating"``.
        critic_steps: critic updates per generator update (alternating only).
        jit_gradients: XLA-compile the forward and backward pass (not the optimizer
            update, which under MirroredStrategy must stay outside XLA).
        penalty_seed: seeds a critic penalty's randomness (WGAN-GP's interpolation weights).
    """

    def __init__(
        self,
        generator,
        critic,
        divergence: Divergence | Baseline,
        *,
        objective: str = "saddle",
        generator_divergence: Divergence | None = None,
        schedule: str = "simultaneous",
        critic_steps: int = 1,
        jit_gradients: bool = False,
        penalty_seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.loss = objectives.as_objective(divergence, objective, generator_divergence)
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
        if schedule == "simultaneous" and critic_steps != 1:
            raise ValueError("critic_steps > 1 needs the 'alternating' schedule")
        self.jit_gradients = bool(jit_gradients)
        self.penalty_seed = int(penalty_seed)
        self.generator = generator
        self.critic = critic
        self.divergence = divergence
        self.objective = objective
        self.generator_divergence = generator_divergence
        self.schedule = schedule
        self.critic_steps = int(critic_steps)
        self.step_means = StepMeans(LOGGED)
        self._plain_loop = False  # set by fit for its own data (fgan_bench.step_loop)
        self.built = True  # both networks are built functional models
        self._simultaneous = self._maybe_jit(self._simultaneous_gradients, jit_gradients)
        self._critic_gradients = self._maybe_jit(self._critic_gradients_impl, jit_gradients)
        self._generator_gradients = self._maybe_jit(self._generator_gradients_impl, jit_gradients)

    def get_config(self):
        """Everything to rebuild this trainer: both networks (nested), the divergence's spec, the options."""
        return {
            "name": self.name,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "critic": keras.saving.serialize_keras_object(self.critic),
            "divergence": self.divergence.spec,
            "objective": self.objective,
            "generator_divergence": None if self.generator_divergence is None else self.generator_divergence.spec,
            "schedule": self.schedule,
            "critic_steps": self.critic_steps,
            "jit_gradients": self.jit_gradients,
            "penalty_seed": self.penalty_seed,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from fgan_bench.divergences import get_divergence

        config = dict(config)
        generator = keras.saving.deserialize_keras_object(config.pop("generator"), custom_objects=custom_objects)
        critic = keras.saving.deserialize_keras_object(config.pop("critic"), custom_objects=custom_objects)
        generator_divergence = config.pop("generator_divergence", None)
        return cls(
            generator,
            critic,
            objectives.resolve(config.pop("divergence")),
            generator_divergence=None if generator_divergence is None else get_divergence(generator_divergence),
            **config,
        )

    def get_compile_config(self):
        """Not saved: the two optimizers are compiled again after loading (``compile`` takes both)."""
        return None

    @staticmethod
    def _maybe_jit(fn, jit):
        return tf.function(fn, jit_compile=True) if jit else fn

    @property
    def real_slots(self) -> int:
        """Real batches consumed per training step."""
        return self.critic_steps if self.schedule == "alternating" else 1

    @property
    def noise_slots(self) -> int:
        """Noise batches consumed per training step."""
        return self.critic_steps + 1 if self.schedule == "alternating" else 1

    @property
    def latent_dim(self) -> int:
        return int(self.generator.inputs[0].shape[-1])

    @property
    def steps_done(self):
        """Training steps completed: every step makes exactly one generator update."""
        return self.generator_optimizer.iterations

    def compile(self, generator_optimizer, critic_optimizer, **kwargs):
        """Sets both optimizers (built at once, as tf.distribute requires) and Keras' options."""
        super().compile(**kwargs)
        self.generator_optimizer = generator_optimizer
        self.critic_optimizer = critic_optimizer
        generator_optimizer.build(self.generator.trainable_variables)
        critic_optimizer.build(self.critic.trainable_variables)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Nothing to build: both networks are built and both optimizers are built in
        :meth:`compile`. (Under a strategy Keras would first reduce a distributed batch, which
        ``MultiWorkerMirroredStrategy`` cannot do for a dict, and build an unused default
        optimizer into the checkpoint.)"""

    @property
    def metrics(self):
        return [self.step_means]

    def fit(self, x=None, *args, **kwargs):
        """Keras' ``fit``; on an endless ``tf.data`` stream each chunk of ``steps_per_execution`` steps
        runs as a plain in-graph loop (:mod:`fgan_bench.step_loop`)."""
        self._plain_loop = plain_loop_applies(self, x)
        try:
            return super().fit(x, *args, **kwargs)
        finally:
            self._plain_loop = False

    def make_train_function(self, force=False):
        """Keras' train function, or :func:`~fgan_bench.step_loop.chunk_function`'s while ``fit``
        trains on endless data."""
        if self.train_function is not None and not force:
            return self.train_function
        super().make_train_function(force=True)
        keras_function, plain_function = self.train_function, chunk_function(self, self.step_logs)
        self._plain_train_function = plain_function

        def train_function(iterator):
            return plain_function(iterator) if self._plain_loop else keras_function(iterator)

        self.train_function = train_function
        return train_function

    def step_logs(self):
        """The logged running means (per worker a [1]-vector where Keras averages them over workers)."""
        means = self.step_means.result()
        if spans_processes(self.distribute_strategy):  # Keras averages them over axis 0 across workers
            return {name: tf.reshape(mean, [1]) for name, mean in means.items()}
        return means

    def call(self, inputs, training=False):
        """Generates from noise; also accepts a training element (Keras builds with one)."""
        if isinstance(inputs, dict):
            inputs = self._noise(inputs, 0)
        return self.generator(inputs, training=training)

    def _v(self, x):
        return tf.squeeze(self.critic(x, training=True), axis=-1)

    # Hooks for trainers whose networks take more than the data (fgan_bench.conditional,
    # fgan_bench.semisupervised): one slot of real data, one of generator inputs, a fake
    # batch in the critic's input form, and the critic's loss given the real slot.
    def _real(self, data, i):
        return data["real"][:, i]

    def _noise(self, data, i):
        return data["noise"][:, i]

    def _fake(self, noise):
        return self.generator(noise, training=True)

    def _v_real(self, real):
        return self._v(real)

    def generator_inputs(self, noise):
        """What ``generator.predict`` takes for this noise (evaluation; conditional: noise and labels)."""
        return noise

    def sample_labels(self, count: int):
        """The classes of ``count`` evaluation samples (``None``: the generator takes no label)."""
        return None

    def class_logits_function(self):
        """``x -> K class logits`` where the critic is a classifier (semi-supervised); ``None`` here."""
        return None

    def critic_function(self):
        """V(x) for a batch of examples, as evaluation's variational estimate reads it; ``None``: none."""
        return lambda x: predict(self.critic, np.asarray(x, np.float32), batch_size=2048)

    def _statistics(self, v_real, v_fake, critic_loss, generator_loss, critic_gradients, generator_gradients):
        """One step's logged values as one vector in :data:`LOGGED`'s order, in few ops (each op of a
        small model's step costs about as much as its FLOPs): the five per-example means as one
        ``reduce_mean`` of their stack, and both gradient norms ‖g‖ = √(2 Σ_v ½‖g_v‖²) from one
        stack of the variables' ``l2_loss`` summed per network by one segment sum."""
        per_example = tf.stack([
            critic_loss,
            generator_loss,
            self.loss.estimate(v_real, v_fake),
            self.loss.critic_value(v_real),
            self.loss.critic_value(v_fake),
        ])
        return tf.concat([tf.reduce_mean(per_example, axis=1), global_norms(critic_gradients, generator_gradients)], 0)

    def _critic_loss(self, real, fake, v_real, v_fake):
        """The objective's critic loss per example plus the objective's penalty terms (WGAN-GP's; an
        f-GAN has none, so its step holds no op for them), each one's randomness seeded by the
        critic's step count and ``penalty_seed`` (so resuming repeats it)."""
        loss = self.loss.critic_losses(v_real, v_fake)
        for penalty in self.loss.critic_penalties:
            step = tf.cast(self.critic_optimizer.iterations, tf.int64)
            seed = tf.stack([step, tf.constant(self.penalty_seed, tf.int64)])
            loss += penalty(self._v, real, fake, seed)
        return loss

    def _simultaneous_gradients(self, real, noise):
        with tf.GradientTape(persistent=True) as tape:
            fake = self._fake(noise)
            v_real, v_fake = self._v_real(real), self._v(fake)
            critic_loss = self._critic_loss(real, fake, v_real, v_fake)
            generator_loss = self.loss.generator_losses(v_fake)
            scaled_critic = average_over_global_batch(critic_loss)
            scaled_generator = average_over_global_batch(generator_loss)
        critic_gradients = tape.gradient(scaled_critic, self.critic.trainable_variables)
        generator_gradients = tape.gradient(scaled_generator, self.generator.trainable_variables)
        del tape
        stats = self._statistics(v_real, v_fake, critic_loss, generator_loss, critic_gradients, generator_gradients)
        return critic_gradients, generator_gradients, stats

    def _critic_gradients_impl(self, real, noise):
        fake = self._fake(noise)
        with tf.GradientTape() as tape:
            v_real, v_fake = self._v_real(real), self._v(fake)
            critic_loss = self._critic_loss(real, fake, v_real, v_fake)
            scaled = average_over_global_batch(critic_loss)
        return tape.gradient(scaled, self.critic.trainable_variables), v_real, v_fake, critic_loss

    def _generator_gradients_impl(self, noise):
        with tf.GradientTape() as tape:
            v_fake = self._v(self._fake(noise))
            generator_loss = self.loss.generator_losses(v_fake)
            scaled = average_over_global_batch(generator_loss)
        return tape.gradient(scaled, self.generator.trainable_variables), generator_loss

    @staticmethod
    def _apply(optimizer, gradients, network):
        gradients = clip_like_one_device(optimizer, gradients)
        optimizer.apply_gradients(zip(gradients, network.trainable_variables, strict=True))

    def train_step(self, data):
        if self.schedule == "simultaneous":
            critic_gradients, generator_gradients, stats = self._simultaneous(self._real(data, 0), self._noise(data, 0))
            self._apply(self.critic_optimizer, critic_gradients, self.critic)
        else:
            for i in range(self.critic_steps):
                real, noise = self._real(data, i), self._noise(data, i)
                critic_gradients, v_real, v_fake, critic_loss = self._critic_gradients(real, noise)
                self._apply(self.critic_optimizer, critic_gradients, self.critic)
            generator_gradients, generator_loss = self._generator_gradients(self._noise(data, self.critic_steps))
            stats = self._statistics(
                v_real, v_fake, critic_loss, generator_loss, critic_gradients, generator_gradients
            )
        self._apply(self.generator_optimizer, generator_gradients, self.generator)
        self.step_means.update_state(stats)
        return self.step_logs()


def global_norms(*gradient_lists):
    """(‖g‖ for g in gradient_lists): ``tf.linalg.global_norm`` of each list, from one stack of all the
    variables' ½‖g_v‖² (``tf.nn.l2_loss``), one ``unsorted_segment_sum`` (XLA has no ``segment_sum``) and one
    square root. A ``None`` gradient (a variable the loss does not reach) counts as 0, as there."""
    present = [[g for g in gradients if g is not None] for gradients in gradient_lists]
    half_squares = tf.stack([tf.nn.l2_loss(g) for gradients in present for g in gradients])
    owner = [index for index, gradients in enumerate(present) for _ in gradients]
    return tf.sqrt(2.0 * tf.math.unsorted_segment_sum(half_squares, owner, len(gradient_lists)))


def average_over_global_batch(per_example_loss):
    """Σᵢ lossᵢ / (per-replica batch × replicas in sync), 0 for an empty batch: the scaling of
    ``tf.nn.compute_average_loss``, without its three run-time checks of the batch size, which
    it would run on every step (the batch size of a ``tf.data`` batch is unknown when traced)."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    global_batch = tf.cast(tf.shape(per_example_loss)[0] * replicas, per_example_loss.dtype)
    return tf.math.divide_no_nan(tf.reduce_sum(per_example_loss), global_batch)


def steps_done(gan) -> int:
    """Training steps a trainer has completed, as a Python int (also for mirrored variables)."""
    return int(keras.ops.convert_to_numpy(gan.steps_done))


def make_optimizer(config, learning_rate: float):
    """The config's optimizer (Adam or SGD) at this learning rate, with its gradient clipping."""
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=config.momentum, global_clipnorm=config.clip_norm or None)
    return keras.optimizers.Adam(learning_rate, beta_1=config.beta1, beta_2=config.beta2,
                                 global_clipnorm=config.clip_norm or None)
