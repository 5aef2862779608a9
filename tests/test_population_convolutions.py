"""Stacked convolutions (im2col / col2im, one batched matmul) equal Keras' layers member by member."""

from __future__ import annotations

import numpy as np
import pytest

CASES = [  # (strides, padding, input side, kernel): the dcgan's 4×4 stride-2 SAME, and the other TF paddings
    (2, "same", 8, 4), (2, "same", 2, 4), (1, "same", 5, 3), (2, "valid", 7, 3), (1, "valid", 6, 4),
    (2, "same", 5, 3), (2, "valid", 4, 1),
]


def _members_and_stacked(layer_class, stacked, strides, padding, side, kernel, members=3):
    import tensorflow as tf

    rng = np.random.default_rng(side * 10 + kernel)
    layers = [layer_class(5, kernel, strides=strides, padding=padding, use_bias=False) for _ in range(members)]
    x = rng.normal(size=(members, 2, side, side + 1, 3)).astype("float32")
    expected = np.stack([layer(x[k]).numpy() for k, layer in enumerate(layers)])
    kernels = tf.constant(np.stack([layer.kernel.numpy() for layer in layers]))
    compiled = tf.function(lambda a, w: stacked(a, w, (strides, strides), padding), jit_compile=True)
    return compiled(tf.constant(x), kernels).numpy(), expected


@pytest.mark.parametrize(("strides", "padding", "side", "kernel"), CASES)
def test_stacked_conv2d_equals_each_members_keras_conv2d(strides, padding, side, kernel):
    import keras

    from fgan_bench.population.convolutions import member_conv2d

    got, expected = _members_and_stacked(keras.layers.Conv2D, member_conv2d, strides, padding, side, kernel)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize(("strides", "padding", "side", "kernel"), CASES)
def test_stacked_conv2d_transpose_equals_each_members_keras_conv2d_transpose(strides, padding, side, kernel):
    import keras

    from fgan_bench.population.convolutions import member_conv2d_transpose

    got, expected = _members_and_stacked(keras.layers.Conv2DTranspose, member_conv2d_transpose, strides, padding,
                                         side, kernel)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_tensorflow_same_padding_arithmetic():
    from fgan_bench.population.convolutions import same_padding

    assert same_padding(8, 4, 2) == (1, 1)  # ⌈8/2⌉ = 4 outputs need 2 more pixels
    assert same_padding(5, 3, 2) == (1, 1)
    assert same_padding(4, 4, 1) == (1, 2)  # odd total: the extra pixel after
    assert same_padding(4, 1, 2) == (0, 0)


def test_a_convolution_of_unknown_image_size_does_not_stack_and_says_why():
    import keras

    from fgan_bench.population import NotStackable, stack_network

    inputs = keras.Input((None, None, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="conv")(inputs))
    with pytest.raises(NotStackable, match="conv.*fixed input size"):
        stack_network(model)
    fixed = keras.Input((6, 6, 1))
    stack_network(keras.Model(fixed, keras.layers.Conv2D(2, 3)(fixed)))  # a known size stacks
