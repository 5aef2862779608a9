"""Convolutions of K members at once, as batched matrix products (im2col / col2im).

A stacked image tensor is ``x`` of shape ``(K, B, H, W, C)``; member k's kernel is ``kernel[k]``.
Both forms cost what K independent convolutions cost and their graph does not grow with K:
the Python loops run over the kernel's ``kh × kw`` offsets, never over members, and all the
arithmetic is ONE batched matmul with the members on the batch axis of the dot — the path
XLA:CPU runs fast (a grouped convolution, ``feature_group_count = K``, falls off it there).

Padding is TensorFlow's: for ``"same"`` the output side is ``⌈n/s⌉`` and the input is padded by
``p = max((⌈n/s⌉ − 1)·s + k − n, 0)``, ``⌊p/2⌋`` before and the rest after; ``"valid"`` pads
nothing and gives ``⌊(n − k)/s⌋ + 1``.
"""

from __future__ import annotations

import tensorflow as tf


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME padding (before, after) of one side of ``size``."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _padding(size: int, kernel: int, stride: int, padding: str) -> tuple[int, int]:
    return same_padding(size, kernel, stride) if padding.lower() == "same" else (0, 0)


def member_conv2d(x, kernel, strides, padding):
    """y[k] = conv2d(x[k], kernel[k]): ``(K, B, H, W, C) * (K, kh, kw, C, O) → (K, B, H', W', O)``.

    im2col: the patch of output pixel (h, w) is x[k, b, s·h + i, s·w + j, c] over the offsets
    (i, j) (strided slices of the padded input, concatenated on channels in (i, j, c) order), and
    y[k, b, h, w, o] = Σ_{i,j,c} patch[k, b, h, w, (i, j, c)] · kernel[k, i, j, c, o].
    """
    _, _, height, width, channels = x.shape
    kh, kw, outputs = kernel.shape[1], kernel.shape[2], kernel.shape[4]
    sh, sw = strides
    x = tf.pad(x, [[0, 0], [0, 0], list(_padding(height, kh, sh, padding)), list(_padding(width, kw, sw, padding)),
                   [0, 0]])
    out_h, out_w = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    patches = tf.concat([x[:, :, i:i + (out_h - 1) * sh + 1:sh, j:j + (out_w - 1) * sw + 1:sw, :]
                         for i in range(kh) for j in range(kw)], axis=-1)
    flat_kernel = tf.reshape(kernel, tf.stack([tf.shape(kernel)[0], kh * kw * channels, outputs]))
    return tf.einsum("kbhwp,kpo->kbhwo", patches, flat_kernel)


def transposed_side(size: int, kernel: int, stride: int, padding: str) -> int:
    """Keras' Conv2DTranspose output side (no output padding): n·s for SAME, n·s + max(k − s, 0) for VALID."""
    return size * stride if padding.lower() == "same" else size * stride + max(kernel - stride, 0)


def _phase(offsets, residues, strides, extent):
    """The overlap-add of one output phase: Σ over offsets (i, j) ≡ residues (mod strides) of the
    columns of (i, j) shifted by (i // sh, j // sw) on the input grid, padded to ``extent`` more."""
    (rh, rw), (sh, sw), (eh, ew) = residues, strides, extent
    terms = [tf.pad(column, [[0, 0], [0, 0], [i // sh, eh - i // sh], [j // sw, ew - j // sw], [0, 0]])
             for (i, j), column in offsets.items() if i % sh == rh and j % sw == rw]
    if not terms:
        return tf.pad(tf.zeros_like(next(iter(offsets.values()))), [[0, 0], [0, 0], [0, eh], [0, ew], [0, 0]])
    return tf.add_n(terms)


def member_conv2d_transpose(x, kernel, strides, padding):
    """y[k] = conv2d_transpose(x[k], kernel[k]) with Keras' kernel layout ``(K, kh, kw, O, C)``.

    The adjoint of :func:`member_conv2d` (col2im): every input pixel spreads
    cols[k, b, h, w, i, j, o] = Σ_c x[k, b, h, w, c] · kernel[k, i, j, o, c] (one batched matmul) to
    output pixel (s·h + i − p, s·w + j − p'), p the SAME padding of the forward convolution.
    The overlap-add runs per output phase (r, r') = (i mod s, j mod s) — pixel s·a + r of the
    canvas is phase r's pixel a — so no zeros are inserted: each phase sums its offsets' columns
    shifted by (i // s, j // s), and the s·s phases interleave (stack and reshape).
    """
    _, _, height, width, _ = x.shape
    kh, kw, outputs = kernel.shape[1], kernel.shape[2], kernel.shape[3]
    (sh, sw), lower = strides, padding.lower()
    out_h, out_w = transposed_side(height, kh, sh, lower), transposed_side(width, kw, sw, lower)
    top, left = _padding(out_h, kh, sh, lower)[0], _padding(out_w, kw, sw, lower)[0]
    columns = tf.einsum("kbhwc,kqc->kbhwq", x, tf.reshape(kernel, tf.stack([tf.shape(kernel)[0], -1,
                                                                               kernel.shape[4]])))
    shape = tf.shape(columns)
    unstacked = tf.unstack(tf.reshape(columns, tf.concat([shape[:4], [kh * kw, outputs]], 0)), axis=4)
    offsets = {(i, j): unstacked[i * kw + j] for i in range(kh) for j in range(kw)}
    extent = ((kh - 1) // sh, (kw - 1) // sw)
    phases = tf.stack([tf.stack([_phase(offsets, (rh, rw), (sh, sw), extent) for rw in range(sw)], axis=4)
                       for rh in range(sh)], axis=3)  # (K, B, H + eh, sh, W + ew, sw, O)
    canvas = tf.reshape(phases, tf.concat([shape[:2], [(height + extent[0]) * sh, (width + extent[1]) * sw,
                                                       outputs]], 0))
    return canvas[:, :, top:top + out_h, left:left + out_w, :]
