"""The conditional f-GAN: both players see the label, and the bound is taken between the joints.

Mirza & Osindero's conditional GAN, min_G max_D E[log D(x, y)] + E[log(1 − D(G(z, y), y))],
is the f-GAN saddle point for the GAN divergence with x replaced by the pair (x, y). Any
divergence does the same: with P(x, y) the data's joint and Q(x, y) = P(y) Q(x | y) the
generator's (labels requested from the data's marginal, see
:mod:`fgan_bench.datasets.labels`),

    F(θ, ω) = E_P(x,y)[g_f(V_ω(x, y))] − E_Q(x,y)[f*(g_f(V_ω(G_θ(z, y), y)))] ≤ D_f(P_xy‖Q_xy).

Because Q shares P's label marginal, D_f(P_xy‖Q_xy) = E_P(y)[D_f(P_x|y‖Q_x|y)]: the joint
bound is the class-averaged divergence of the class conditionals. The critic is the
projection critic and the generator G(z + e_y) of :mod:`fgan_bench.models.conditional`. Every
loss, schedule, generator objective and strategy of :class:`~fgan_bench.FGAN` applies unchanged:
only the inputs of the two networks differ.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from fgan_bench.datasets.labels import requested_labels
from fgan_bench.trainer import FGAN


@keras.saving.register_keras_serializable(package="fgan_bench")
class ConditionalFGAN(FGAN):
    """An :class:`~fgan_bench.FGAN` whose generator is G(z, y) and whose critic is V(x, y).

    The training element carries ``real_labels`` and ``noise_labels`` beside ``real`` and
    ``noise`` (:func:`fgan_bench.datasets.labels.labelled_training_batches`).
    """

    @property
    def classes(self) -> int:
        return int(self.generator.get_layer("label_embedding").input_dim)

    def _real(self, data, i):
        return data["real"][:, i], data["real_labels"][:, i]

    def _noise(self, data, i):
        return data["noise"][:, i], data["noise_labels"][:, i]

    def _fake(self, noise):
        z, labels = noise
        return self.generator([z, labels], training=True), labels

    def _v(self, pair):
        x, labels = pair
        return tf.squeeze(self.critic([x, labels], training=True), axis=-1)

    def sample_labels(self, count: int):
        """The balanced labels 0, 1, …, K−1, 0, … (:func:`requested_labels`)."""
        return requested_labels(count, self.classes)

    def generator_inputs(self, noise):
        """The noise and :meth:`sample_labels`."""
        return [noise, self.sample_labels(int(noise.shape[0]))]

    def critic_function(self):
        """``None``: V(x, y) needs a label per example, which evaluation's real data does not carry."""
        return None
