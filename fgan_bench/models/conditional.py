"""Giving the label to any model's networks: conditional generator, projection critic, classifier critic.

Every registered model — built-in or plugin — is conditioned the same way, from the
(generator, critic) pair its ``build`` returns, so a plugin model needs nothing more than
the unconditional contract (:mod:`fgan_bench.models.base`) plus one convention:

    **the input of the critic's last layer is its feature vector φ(x)** (a linear unit on
    top of φ, as in every built-in critic: ``Dense(1)`` after the hidden layers or the
    flattened convolutions).

* :func:`conditional_generator`: G(z, y) = G(z + e_y), with a trainable embedding e_y ∈
  ℝ^latent_dim per class (initialised N(0, 1), so classes start apart in the noise space).
* :func:`projection_critic` (Miyato & Koyama, 2018): V(x, y) = w·φ(x) + b + ⟨u_y, φ(x)⟩, the
  critic's own last layer w·φ + b plus a class embedding u_y projected on the features. With
  the divergence's g_f on top, the f-GAN bound is taken between the joints:

      D_f(P_xy‖Q_xy) ≥ E_P(x,y)[g_f(V(x, y))] − E_Q(x,y)[f*(g_f(V(x, y)))],

  tight at g_f(V*(x, y)) = f'(p(x, y)/q(x, y)). Writing the log-ratio of the joints as
  log p(x|y)/q(x|y) + log p(y)/q(y), the projection is the paper's parameterisation of it:
  a class-independent term plus a class-dependent inner product (checked numerically in
  tests/test_conditional.py with the exact optimal critic).
* :func:`classifier_critic` (Salimans et al., 2016): x ↦ K class logits l(x) = A φ(x) + c on the
  same features; the semi-supervised trainer takes v = logsumexp_k l_k(x) as the real/fake value.
"""

from __future__ import annotations

import keras

from fgan_bench.errors import FganBenchError


def critic_features(critic) -> keras.Model:
    """φ: the critic's inputs to the input of its last layer (flattened to (batch, d))."""
    try:
        features = critic.layers[-1].input
    except (AttributeError, ValueError, IndexError) as error:
        raise FganBenchError(
            f"critic {getattr(critic, 'name', critic)!r} cannot be conditioned: its last layer's input is taken as the "
            f"features φ(x), and it has none ({type(error).__name__}); build the critic as a functional Keras "
            "model ending in a layer on φ(x), e.g. Dense(1)"
        ) from None
    if len(features.shape) > 2:
        features = keras.layers.Flatten()(features)
    return keras.Model(critic.inputs, features, name="critic_features")


def conditional_generator(generator, classes: int) -> keras.Model:
    """(z, y) ↦ G(z + e_y): the model's generator, the label entering through a learned shift of the noise."""
    latent_dim = int(generator.inputs[0].shape[-1])
    noise = keras.Input((latent_dim,), name="noise")
    label = keras.Input((), dtype="int32", name="label")
    shift = keras.layers.Embedding(
        classes, latent_dim, embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0),
        name="label_embedding",
    )(label)
    outputs = generator(keras.layers.Add(name="noise_and_label")([noise, shift]))
    return keras.Model([noise, label], outputs, name="conditional_generator")


def projection_critic(critic, classes: int) -> keras.Model:
    """(x, y) ↦ w·φ(x) + b + ⟨u_y, φ(x)⟩ (Miyato & Koyama, 2018), raw V of shape (batch, 1)."""
    features = critic_features(critic)
    data = keras.Input(tuple(critic.inputs[0].shape[1:]), name="data")
    label = keras.Input((), dtype="int32", name="label")
    phi = features(data)
    unconditional = critic.layers[-1](phi) if len(critic.layers[-1].input.shape) == 2 else critic(data)
    projection = keras.layers.Embedding(classes, int(phi.shape[-1]), name="class_projection")(label)
    inner = keras.layers.Dot(axes=-1, name="projection")([projection, phi])
    outputs = keras.layers.Add(dtype="float32", name="v_projected")([unconditional, inner])
    return keras.Model([data, label], outputs, name="projection_critic")


def classifier_critic(critic, classes: int) -> keras.Model:
    """x ↦ K class logits on the critic's features φ(x) (the semi-supervised critic)."""
    features = critic_features(critic)
    data = keras.Input(tuple(critic.inputs[0].shape[1:]), name="data")
    logits = keras.layers.Dense(classes, dtype="float32", name="class_logits")(features(data))
    return keras.Model(data, logits, name="classifier_critic")
