"""Class labels of a dataset, and the training stream of runs that use them.

Which data has labels (:func:`class_count`):

* finite data with ``labels`` (digits, mnist5k, mnist, fashion_mnist, tfds sets with labels, a
  user's file with a label column, image folders with class sub-folders): the labels given;
* synthetic mixtures with ``modes`` (ring8, grid25): the index of the mode an example was
  drawn from. Their modes are equally likely, so y ~ U{0..K−1} and x | y ~ N(mode_y, σ²I),
  the same law as the unlabelled mixture.

Two kinds of run read them (``--conditional``, ``--labelled N``); each step's element of
:func:`labelled_training_batches` is :func:`~fgan_bench.datasets.training_batches`' dict plus

* conditional: ``real_labels`` (batch, real_slots), the labels of ``real``; and
  ``noise_labels`` (batch, noise_slots), the labels requested of the generator, drawn from the
  data's label marginal P(y) (the label of a uniformly drawn training example), so that the
  model's joint Q(x, y) = P(y) Q(x | y) shares P's marginal;
* semi-supervised: ``labelled`` (batch, real_slots, *shape) and ``labels`` (batch,
  real_slots), drawn uniformly from the N labelled examples of :func:`balanced_subset`, while
  ``real`` still draws from all training examples (labels unseen).

Randomness is stateless, keyed by (seed, step), as for unlabelled runs: resume continues the
stream exactly.
"""

from __future__ import annotations

import numpy as np

from fgan_bench._lazy import tf
from fgan_bench.datasets.base import Dataset
from fgan_bench.datasets.pipeline import step_seeds, step_stream, training_batches


def class_count(dataset: Dataset) -> int | None:
    """K, the number of classes: the largest label + 1, or the number of modes; ``None``: no labels."""
    if dataset.labels is not None:
        found = [dataset.labels] + ([dataset.test_labels] if dataset.test_labels is not None else [])
        return int(max(int(labels.max()) for labels in found) + 1)
    if dataset.synthetic and dataset.modes is not None:
        return len(dataset.modes)
    return None


def label_problem(dataset: Dataset, *, conditional: bool, labelled: int) -> str | None:
    """Why ``dataset`` cannot serve a conditional or semi-supervised run, or ``None``."""
    if conditional and labelled:
        return "a run is conditional (--conditional) or semi-supervised (--labelled N), not both"
    if conditional and class_count(dataset) is None:
        return (f"dataset {dataset.spec!r} has no class labels (nor mixture modes); conditional runs need "
                "digits, mnist5k, mnist, fashion_mnist, ring8, grid25 or data with labels")
    if not labelled:
        return None
    if dataset.labels is None or dataset.test_labels is None:
        return (f"dataset {dataset.spec!r} has no labelled train and test split; semi-supervised runs need "
                "e.g. digits or mnist5k")
    classes = class_count(dataset)
    smallest = int(np.bincount(dataset.labels, minlength=classes).min())
    if labelled < classes or labelled > smallest * classes:
        return f"must be between {classes} (one per class) and {smallest * classes} (the rarest class × {classes})"
    return None


def balanced_subset(labels: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Indices of ``count`` examples, ⌊count/K⌋ or ⌈count/K⌉ of each of the K classes, chosen with ``seed``.

    The first ``count mod K`` classes get the extra one. Same (labels, count, seed), same
    indices (sorted), on every machine.
    """
    labels = np.asarray(labels)
    classes = int(labels.max()) + 1
    rng = np.random.default_rng([int(seed), 17])
    chosen = []
    for label in range(classes):
        members = np.flatnonzero(labels == label)
        take = count // classes + (1 if label < count % classes else 0)
        if take > len(members):
            raise ValueError(f"class {label} has {len(members)} examples, {take} asked for")
        chosen.append(rng.choice(members, size=take, replace=False))
    return np.sort(np.concatenate(chosen))


def requested_labels(count: int, classes: int) -> np.ndarray:
    """The labels an evaluation asks the conditional generator for: 0, 1, …, K−1, 0, 1, … (balanced)."""
    return (np.arange(count) % classes).astype(np.int32)


def _uniform_index(seed, count: int, size: int):
    return tf.random.stateless_uniform([count], seed, maxval=size, dtype=tf.int32)


def _labelled_real(dataset: Dataset, count: int):
    """``draw(seed) -> (x, y)``: ``count`` examples with their labels (see the module doc)."""
    if dataset.synthetic:
        modes, scale = tf.constant(dataset.modes, tf.float32), float(dataset.mode_std)

        def draw(seed):
            label_seed, noise_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
            labels = _uniform_index(label_seed, count, len(dataset.modes))
            noise = tf.random.stateless_normal([count, *dataset.shape], noise_seed)
            return tf.gather(modes, labels) + scale * noise, labels

        return draw
    examples, labels = tf.constant(dataset.array), tf.constant(dataset.labels.astype(np.int32))

    def draw(seed):
        index = _uniform_index(seed, count, len(dataset.array))
        return tf.gather(examples, index), tf.gather(labels, index)

    return draw


def _label_marginal(dataset: Dataset, count: int):
    """``draw(seed) -> y``: ``count`` labels from the data's label marginal P(y)."""
    if dataset.synthetic:
        return lambda seed: _uniform_index(seed, count, len(dataset.modes))
    labels = tf.constant(dataset.labels.astype(np.int32))
    return lambda seed: tf.gather(labels, _uniform_index(seed, count, len(labels)))


def labelled_training_batches(dataset: Dataset, *, conditional: bool = False, labelled: int = 0, **stream):
    """The training stream of a conditional or semi-supervised run (see the module doc); neither:
    :func:`~fgan_bench.datasets.training_batches`' own. ``stream``: that function's keywords
    (batch_size, real_slots, noise_slots, latent_dim, seed, start_step)."""
    if not conditional and not labelled:
        return training_batches(dataset, **stream)
    batch_size, real_slots, noise_slots = stream["batch_size"], stream["real_slots"], stream["noise_slots"]
    seed, shape = stream["seed"], list(dataset.shape)
    real_draw = _labelled_real(dataset, batch_size * real_slots)
    marginal = _label_marginal(dataset, batch_size * noise_slots)
    if labelled:
        subset = balanced_subset(dataset.labels, labelled, seed)
        subset_x = tf.constant(dataset.array[subset])
        subset_y = tf.constant(dataset.labels[subset].astype(np.int32))

    def make_step(step):
        real_seed, noise_seed, label_seed = step_seeds(seed, step)
        real, real_labels = real_draw(real_seed)
        element = {
            "real": tf.reshape(real, [batch_size, real_slots, *shape]),
            "noise": tf.random.stateless_normal([batch_size, noise_slots, stream["latent_dim"]], seed=noise_seed),
        }
        if conditional:
            element["real_labels"] = tf.reshape(real_labels, [batch_size, real_slots])
            element["noise_labels"] = tf.reshape(marginal(label_seed), [batch_size, noise_slots])
        if labelled:
            index = _uniform_index(label_seed, batch_size * real_slots, labelled)
            element["labelled"] = tf.reshape(tf.gather(subset_x, index), [batch_size, real_slots, *shape])
            element["labels"] = tf.reshape(tf.gather(subset_y, index), [batch_size, real_slots])
        return element

    return step_stream(make_step, stream.get("start_step", 0))
