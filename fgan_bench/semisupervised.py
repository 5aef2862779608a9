"""The semi-supervised f-GAN: the critic is a K-class classifier, and any f-divergence trains it.

Salimans et al. (2016) turn a K-class classifier with logits l(x) into a GAN discriminator
by D(x) = Z(x)/(Z(x) + 1), Z(x) = Σ_k exp l_k(x): its logit is v(x) = logsumexp_k l_k(x).
Here v goes through the divergence's g_f like any critic's raw output, so the unsupervised
part is the f-GAN bound of any divergence (the GAN divergence gives Salimans' loss exactly),
and the labelled subset adds the classifier's cross-entropy (Odena, 2016; L_D = L_sup + L_unsup):

    L_critic = −(E_P[g_f(v(x))] − E_Q[f*(g_f(v(G(z))))]) + E_(x,y)~labelled[−log softmax(l(x))_y].

The generator's loss is the f-GAN one on v. After training the critic is a classifier:
:func:`classifier_accuracy` reads its test accuracy, and :func:`labels_only_baseline` trains the
same network on the labelled subset alone — the number the GAN must beat.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from fgan_bench.inference import predict
from fgan_bench.trainer import FGAN


@keras.saving.register_keras_serializable(package="fgan_bench")
class SemiSupervisedFGAN(FGAN):
    """An :class:`~fgan_bench.FGAN` whose critic outputs K logits; v = logsumexp of them.

    The training element carries ``labelled`` and ``labels`` beside ``real`` and ``noise``
    (:func:`fgan_bench.datasets.labels.labelled_training_batches`).
    """

    def _v(self, x):
        return tf.reduce_logsumexp(self.critic(x, training=True), axis=-1)

    def _real(self, data, i):
        return data["real"][:, i], data["labelled"][:, i], data["labels"][:, i]

    def _v_real(self, real):
        return self._v(real[0])

    def _critic_loss(self, real, fake, v_real, v_fake):
        """The f-GAN critic loss per example plus the labelled batch's mean cross-entropy (added to each)."""
        _, labelled, labels = real
        logits = self.critic(labelled, training=True)
        supervised = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(labels, tf.int32), logits=logits)
        )
        return super()._critic_loss(real, fake, v_real, v_fake) + supervised

    def class_logits_function(self):
        """The critic's K logits for a batch of examples (evaluation scores its test accuracy)."""
        return lambda x: predict(self.critic, np.asarray(x, np.float32), batch_size=2048)

    def critic_function(self):
        """v(x) = logsumexp of the class logits (the variational estimate's raw output)."""
        def value(x):
            logits = predict(self.critic, np.asarray(x, np.float32), batch_size=2048)
            return np.asarray(tf.reduce_logsumexp(logits, axis=-1))

        return value


def classifier_accuracy(classifier, examples: np.ndarray, labels: np.ndarray) -> float:
    """The share of ``examples`` whose largest logit is their label."""
    logits = classifier.predict(np.asarray(examples, np.float32), batch_size=2048, verbose=0)
    return float(np.mean(np.argmax(logits, axis=-1) == np.asarray(labels)))


def labels_only_baseline(config, dataset, classifier_factory) -> float:
    """Test accuracy of the same classifier network trained on the labelled subset alone.

    Same subset (:func:`~fgan_bench.datasets.labels.balanced_subset` with the run's seed), same
    optimizer and learning rate as the critic, the same number of steps of ``batch_size``
    labelled examples; ``classifier_factory()`` builds the fresh network.
    """
    from fgan_bench.datasets.labels import balanced_subset
    from fgan_bench.trainer import make_optimizer

    keras.utils.set_random_seed(config.seed + 1)
    subset = balanced_subset(dataset.labels, config.labelled, config.seed)
    classifier = classifier_factory()
    classifier.compile(
        optimizer=make_optimizer(config, config.critic_lr),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(config.seed)
    index = rng.integers(0, len(subset), size=(config.steps * config.critic_steps, config.batch_size))
    x, y = tf.constant(dataset.array[subset]), tf.constant(dataset.labels[subset].astype(np.int32))
    batches = tf.data.Dataset.from_tensor_slices(index).map(lambda i: (tf.gather(x, i), tf.gather(y, i)))
    classifier.fit(batches, epochs=1, verbose=0, shuffle=False)
    return classifier_accuracy(classifier, dataset.test_array, dataset.test_labels)


def semi_supervised_metrics(gan, config, dataset, fresh_critic) -> dict[str, float]:
    """``critic_test_accuracy`` of the trained critic (also the registered metric
    ``semi_supervised``) and ``labels_only_accuracy`` of the same network trained on the N labels
    alone (:func:`labels_only_baseline`; ``fresh_critic()`` builds it untrained), on the test split."""
    return {
        "critic_test_accuracy": classifier_accuracy(gan.critic, dataset.test_array, dataset.test_labels),
        "labels_only_accuracy": labels_only_baseline(config, dataset, fresh_critic),
        "labelled_examples": int(config.labelled),
    }
