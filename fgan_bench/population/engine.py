"""The population trainer: K f-GANs of one architecture trained by ONE compiled step.

Members share the architecture, the data's shape, the batch size, the divergence (and the
generator's divergence), the schedule and the optimizer's kind; each has its own seed (its
initial weights and data stream), learning rates, Adam betas / SGD momentum, clip norm,
generator objective and critic steps. Weights, batch-norm statistics and optimizer slots live
in tf.Variables of shape (K, *shape) (:mod:`fgan_bench.population.stacked`,
:mod:`fgan_bench.population.optimizers`); the step is XLA-compiled and its graph does not
depend on K (no Python loop over members).

* Objectives: for each objective present (at most 4), its loss is computed for every member
  on ``where(chosen, v, 0)`` and kept where chosen — unchosen members never see a value that
  could be non-finite, so neither the value nor the gradient is poisoned.
* Critic steps: with the alternating schedule the step runs max(critic_steps) critic updates;
  update i is masked off for members with critic_steps ≤ i (weights, slots, statistics), and
  the generator's noise is member k's slot critic_steps[k] — exactly its single run's data.
* Masking: ``active`` (K,) freezes members (finished, pruned, diverged). A member whose step
  is not finite is deactivated inside the step, before its update: the others never see it.

Each step equals, member by member, ``FGAN.train_step`` of the member's own single run.
"""

from __future__ import annotations

import tensorflow as tf

from fgan_bench import losses
from fgan_bench.population import optimizers
from fgan_bench.population.stacked import stack_network
from fgan_bench.trainer import LOGGED


def _stack(variables_per_member, trainable=False):
    """Variable i of every member, stacked: (K, *shape)."""
    return [tf.Variable(tf.stack([v[i].value for v in variables_per_member]), trainable=trainable)
            for i in range(len(variables_per_member[0]))]


def _optimizer_kind(optimizer) -> str:
    return type(optimizer).__name__.lower()


def _slots(optimizer, network) -> list:
    """The optimizer's slot variables for ``network``'s weights, in :data:`optimizers.UPDATES` order."""
    _, attributes = optimizers.UPDATES[_optimizer_kind(optimizer)]
    slots = []
    for attribute in attributes:
        kept = getattr(optimizer, attribute, None) or []
        slots += [kept[optimizer._get_variable_index(v)] if kept else None for v in network.trainable_variables]
    return slots


def _hyperparameters(optimizers_of_members) -> optimizers.Hyperparameters:
    def floats(read):
        return [float(read(o)) for o in optimizers_of_members]

    return optimizers.Hyperparameters.of(
        learning_rate=floats(lambda o: o.learning_rate.numpy()),
        beta_1=floats(lambda o: getattr(o, "beta_1", 0.0)),
        beta_2=floats(lambda o: getattr(o, "beta_2", 0.0)),
        momentum=floats(lambda o: getattr(o, "momentum", 0.0)),
        clip_norm=floats(lambda o: o.global_clipnorm or 0.0),
    )


def check_compatible(gans) -> None:
    """Raises ``ValueError`` (one line) unless the trainers can share one stacked step."""
    first = gans[0]
    for gan in gans[1:]:
        same = (
            gan.divergence.spec == first.divergence.spec
            and getattr(gan.generator_divergence, "spec", None) == getattr(first.generator_divergence, "spec", None)
            and gan.schedule == first.schedule
            and _optimizer_kind(gan.critic_optimizer) == _optimizer_kind(first.critic_optimizer)
            and [v.shape for v in gan.trainable_variables] == [v.shape for v in first.trainable_variables]
        )
        if not same:
            raise ValueError("population members must share the architecture, divergence, schedule and optimizer")


class _Network:
    """One network's stacked state: weights, non-trainables, optimizer slots and step count."""

    def __init__(self, models, optimizers_of_members, kind):
        self.stacked = stack_network(models[0])
        self.kind = kind
        self.weights = _stack([m.trainable_variables for m in models], trainable=True)
        self.non_trainable = _stack([m.non_trainable_variables for m in models]) if models[0].non_trainable_variables \
            else []
        slots = [_slots(o, m) for o, m in zip(optimizers_of_members, models, strict=True)]
        self.slots = [tf.Variable(tf.zeros_like(self.weights[i % len(self.weights)]), trainable=False)
                      for i in range(len(slots[0]))]
        for variable, kept in zip(self.slots, zip(*slots, strict=True), strict=True):
            if all(s is not None for s in kept):
                variable.assign(tf.stack([s.value for s in kept]))
        self.iterations = tf.Variable([int(o.iterations.numpy()) for o in optimizers_of_members], dtype=tf.int64,
                                      trainable=False)
        self.hyperparameters = _hyperparameters(optimizers_of_members)

    def forward(self, non_trainable, x, active):
        """(y, non-trainables after it): batch statistics updated for ``active`` members only."""
        y, updated = self.stacked([w.value() for w in self.weights], non_trainable, x, training=True)
        return y, [optimizers._keep_active(active, new, old) for new, old in zip(updated, non_trainable, strict=True)]

    def read_non_trainable(self):
        return [v.value() for v in self.non_trainable]

    def apply(self, gradients, active, non_trainable):
        weights, slots, iterations = optimizers.apply(
            self.kind, [w.value() for w in self.weights], [s.value() for s in self.slots], self.iterations.value(),
            gradients, self.hyperparameters, active)
        for variable, value in zip(self.weights + self.slots + self.non_trainable,
                                   weights + slots + non_trainable, strict=True):
            variable.assign(value)
        self.iterations.assign(iterations)

    def read(self) -> tuple[list, list, object]:
        """The stacked state as NumPy, read once for every member: (weights and statistics, slots, step counts)."""
        return ([v.numpy() for v in self.weights + self.non_trainable], [s.numpy() for s in self.slots],
                self.iterations.numpy())

    @staticmethod
    def write_member(state, k, model, optimizer):
        """Member k's slice of :meth:`read`'s ``state`` — weights, statistics, slots and step count —
        into its own Keras model and optimizer."""
        variables, slots, iterations = state
        for variable, stacked in zip(model.trainable_variables + model.non_trainable_variables, variables,
                                     strict=True):
            variable.assign(stacked[k])
        for variable, stacked in zip(_slots(optimizer, model), slots, strict=True):
            if variable is not None:
                variable.assign(stacked[k])
        optimizer.iterations.assign(iterations[k])


class PopulationTrainer:
    """K compatible :class:`~fgan_bench.FGAN` trainers trained as one (see the module doc).

    Args:
        gans: compiled trainers, one per member, holding each member's initial (or resumed)
            weights and optimizer state. They are not trained; :meth:`write_members` copies
            the population's state back into them (for checkpoints, samples, evaluation).
        jit_compile: XLA-compile the step (populations always do; False runs it as a plain tf.function).
    """

    def __init__(self, gans, *, jit_compile: bool = True):
        check_compatible(gans)
        self.gans = list(gans)
        first = gans[0]
        self.divergence, self.generator_divergence, self.schedule = (
            first.divergence, first.generator_divergence, first.schedule)
        kind = _optimizer_kind(first.critic_optimizer)
        self.generator = _Network([g.generator for g in gans], [g.generator_optimizer for g in gans], kind)
        self.critic = _Network([g.critic for g in gans], [g.critic_optimizer for g in gans], kind)
        self.objectives = tuple(sorted({g.objective for g in gans}))
        self.objective_index = tf.constant([self.objectives.index(g.objective) for g in gans], tf.int32)
        self.critic_steps = tf.constant([g.critic_steps for g in gans], tf.int32)
        self.max_critic_steps = max(g.critic_steps for g in gans)
        self.active = tf.Variable(tf.ones([len(gans)], tf.bool), trainable=False)
        self.sums = tf.Variable(tf.zeros([len(LOGGED), len(gans)]), trainable=False)
        self.counts = tf.Variable(tf.zeros([len(gans)]), trainable=False)
        self.step = tf.function(self._step, jit_compile=jit_compile)
        self._steps = tf.function(self._run)

    @property
    def size(self) -> int:
        return len(self.gans)

    @property
    def real_slots(self) -> int:
        return max(g.real_slots for g in self.gans)

    @property
    def noise_slots(self) -> int:
        return max(g.noise_slots for g in self.gans)

    # The f-GAN losses, per member and example: (K, B).
    def _v(self, non_trainable, x, active):
        v, non_trainable = self.critic.forward(non_trainable, x, active)
        return tf.squeeze(v, -1), non_trainable

    def _generator_loss(self, v_fake):
        total = tf.zeros_like(v_fake)
        for index, objective in enumerate(self.objectives):  # the objectives present: at most 4
            chosen = (self.objective_index == index)[:, None]
            safe = tf.where(chosen, v_fake, tf.zeros_like(v_fake))
            value = losses.generator_loss(self.divergence, safe, objective, self.generator_divergence)
            total = tf.where(chosen, value, total)
        return total

    def _statistics(self, v_real, v_fake, critic_loss, generator_loss, critic_gradients, generator_gradients):
        activation = self.divergence.activation
        return tf.stack([
            tf.reduce_mean(critic_loss, 1),
            tf.reduce_mean(generator_loss, 1),
            -tf.reduce_mean(critic_loss, 1),
            tf.reduce_mean(activation(v_real), 1),
            tf.reduce_mean(activation(v_fake), 1),
            optimizers.global_norms(critic_gradients),
            optimizers.global_norms(generator_gradients),
        ])

    @staticmethod
    def _average(per_example):
        """Σ_k mean_b: each member's loss as ``tf.nn.compute_average_loss`` scales it."""
        return tf.reduce_sum(tf.reduce_mean(per_example, 1))

    def _simultaneous(self, real, noise, active):
        critic_state, generator_state = self.critic.read_non_trainable(), self.generator.read_non_trainable()
        critic_weights, generator_weights = self.critic.weights, self.generator.weights
        with tf.GradientTape(persistent=True) as tape:
            v_real, critic_state = self._v(critic_state, real[:, :, 0], active)
            fake, generator_state = self.generator.forward(generator_state, noise[:, :, 0], active)
            v_fake, critic_state = self._v(critic_state, fake, active)
            critic_loss = losses.critic_loss(self.divergence, v_real, v_fake)
            generator_loss = self._generator_loss(v_fake)
            scaled_critic, scaled_generator = self._average(critic_loss), self._average(generator_loss)
        critic_gradients = tape.gradient(scaled_critic, critic_weights)
        generator_gradients = tape.gradient(scaled_generator, generator_weights)
        del tape
        stats = self._statistics(v_real, v_fake, critic_loss, generator_loss, critic_gradients, generator_gradients)
        active = active & tf.reduce_all(tf.math.is_finite(stats), 0)  # a diverging member stops before its update
        self.critic.apply(critic_gradients, active, critic_state)
        self.generator.apply(generator_gradients, active, generator_state)
        return stats, active

    def _critic_update(self, real, noise, active):
        generator_state = self.generator.read_non_trainable()
        fake, generator_state = self.generator.forward(generator_state, noise, active)
        critic_state = self.critic.read_non_trainable()
        with tf.GradientTape() as tape:
            v_real, critic_state = self._v(critic_state, real, active)
            v_fake, critic_state = self._v(critic_state, fake, active)
            critic_loss = losses.critic_loss(self.divergence, v_real, v_fake)
            scaled = self._average(critic_loss)
        gradients = tape.gradient(scaled, self.critic.weights)
        norms = optimizers.global_norms(gradients)
        finite = tf.math.is_finite(tf.reduce_mean(critic_loss, 1)) & tf.math.is_finite(norms)
        self.critic.apply(gradients, active & finite, critic_state)
        for variable, value in zip(self.generator.non_trainable, generator_state, strict=True):
            variable.assign(value)
        return gradients, v_real, v_fake, critic_loss

    def _alternating(self, real, noise, active):
        kept = None
        for i in range(self.max_critic_steps):  # critic updates per step (a setting), never members
            updating = active & (i < self.critic_steps)
            current = self._critic_update(real[:, :, i], noise[:, :, i], updating)
            kept = current if kept is None else [
                [optimizers._keep_active(updating, new, old) for new, old in zip(c, k, strict=True)]
                if isinstance(c, list) else optimizers._keep_active(updating, c, k)
                for c, k in zip(current, kept, strict=True)]
        critic_gradients, v_real, v_fake, critic_loss = kept
        generator_noise = tf.gather(tf.transpose(noise, [0, 2, 1, 3]), self.critic_steps, axis=1, batch_dims=1)
        generator_state, critic_state = self.generator.read_non_trainable(), self.critic.read_non_trainable()
        with tf.GradientTape() as tape:
            fake, generator_state = self.generator.forward(generator_state, generator_noise, active)
            v_generated, critic_state = self._v(critic_state, fake, active)
            generator_loss = self._generator_loss(v_generated)
            scaled = self._average(generator_loss)
        generator_gradients = tape.gradient(scaled, self.generator.weights)
        stats = self._statistics(v_real, v_fake, critic_loss, generator_loss, critic_gradients, generator_gradients)
        active = active & tf.reduce_all(tf.math.is_finite(stats), 0)
        for variable, value in zip(self.critic.non_trainable, critic_state, strict=True):
            variable.assign(value)
        self.generator.apply(generator_gradients, active, generator_state)
        return stats, active

    def _step(self, batch):
        """One training step of every active member; accumulates their logged statistics."""
        active = self.active.value()
        train = self._simultaneous if self.schedule == "simultaneous" else self._alternating
        stats, still_active = train(batch["real"], batch["noise"], active)
        counted = tf.cast(active, tf.float32)
        self.sums.assign_add(tf.where(active[None, :], stats, tf.zeros_like(stats)))
        self.counts.assign_add(counted)
        self.active.assign(still_active)

    def _run(self, iterator, steps):
        for _ in tf.range(steps):
            self.step(next(iterator))

    def train(self, iterator, steps: int) -> None:
        """``steps`` steps on a ``tf.data`` iterator of stacked batches (:func:`population_batches`)."""
        self._steps(iterator, tf.constant(steps, tf.int64))

    def reset_statistics(self) -> None:
        self.sums.assign(tf.zeros_like(self.sums))
        self.counts.assign(tf.zeros_like(self.counts))

    def member_logs(self, k: int) -> dict[str, float]:
        """Member k's logged values averaged over the steps since :meth:`reset_statistics` (Keras' Mean)."""
        sums, count = self.sums.numpy()[:, k], float(self.counts.numpy()[k])
        return {name: float(total / count) if count else float("nan") for name, total in zip(LOGGED, sums, strict=True)}

    def deactivate(self, k: int) -> None:
        """Member k stops training (pruned, finished or diverged); the others go on."""
        self.active.assign(tf.tensor_scatter_nd_update(self.active, [[k]], [False]))

    def write_members(self, members=None) -> None:
        """Copies each member's state into its own trainer (``members``: indices, default all); the
        stacked variables are read once for all of them."""
        members = list(range(self.size) if members is None else members)
        if not members:
            return
        generator, critic = self.generator.read(), self.critic.read()
        for k in members:
            gan = self.gans[k]
            self.generator.write_member(generator, k, gan.generator, gan.generator_optimizer)
            self.critic.write_member(critic, k, gan.critic, gan.critic_optimizer)


def population_batches(member_datasets, real_slots: int, noise_slots: int):
    """The members' ``training_batches`` zipped into stacked elements: real (K, B, R, …), noise (K, B, N, d).

    Each member keeps its own stream (its seed, its slots); slots beyond a member's own are zeros.
    """

    def pad(element, slots, key):
        value = element[key]
        padding = [[0, 0], [0, slots - tf.shape(value)[1]]] + [[0, 0]] * (len(value.shape) - 2)
        return tf.pad(value, padding)

    def stack(*elements):
        return {
            "real": tf.stack([pad(e, real_slots, "real") for e in elements]),
            "noise": tf.stack([pad(e, noise_slots, "noise") for e in elements]),
        }

    return tf.data.Dataset.zip(tuple(member_datasets)).map(stack).prefetch(tf.data.AUTOTUNE)
