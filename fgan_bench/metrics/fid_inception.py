"""FID and KID in InceptionV3 pool features, from weights the user has on disk (never downloaded).

``fid_inception`` embeds real and generated images with
``keras.applications.InceptionV3(weights=PATH, include_top=False, pooling="avg")`` (2,048
pool features) and reports ``inception_fid`` (Fréchet distance) and ``inception_kid``
(unbiased MMD², kernel (x·y/d + 1)³, mean over random subsets). The weights file is
``$FGAN_BENCH_INCEPTION_WEIGHTS``, else ``<cache>/`` :data:`WEIGHTS_FILE` (the cache of
:mod:`fgan_bench.metrics.classifier`); without it the metric stops with one line saying
where to put it. It is not a default metric: ask for it with ``--metrics fid_inception``.

Preprocessing: images are scaled from the dataset's range to [−1, 1] (Keras'
``inception_v3.preprocess_input``), grey images repeated to 3 channels, and resized to
299×299 **bilinearly with half-pixel centres and no antialiasing** (``tf.image.resize``),
which is what pytorch-fid does (``F.interpolate(mode="bilinear", align_corners=False)``);
clean-fid instead resizes with PIL's antialiased bicubic filter, and TF1's FID code used
``resize_bilinear`` without half-pixel centres. The resize alone moves FID by several
points on small images (Parmar et al., 2022), so report it with the numbers.

**Comparability.** Published FIDs use the reference "2015-12-05" Inception graph (ported as
pytorch-fid's ``pt_inception`` weights); Keras' ImageNet InceptionV3 weights are a
different network, and a randomly initialised file (as in the tests) is only plumbing.
Numbers are comparable with published ones only with the reference weights, the same
number of samples (FID shrinks as n grows), the same split and the same resize.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from fgan_bench.errors import FganBenchError

#: Keras' file name for the notop InceptionV3 ImageNet weights.
WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHTS_ENV = "FGAN_BENCH_INCEPTION_WEIGHTS"
IMAGE_SIZE = 299
BATCH_SIZE = 50


def weights_path() -> Path:
    """The weights file the metric will use (it may not exist)."""
    if os.environ.get(WEIGHTS_ENV):
        return Path(os.environ[WEIGHTS_ENV]).expanduser()
    from fgan_bench.metrics.classifier import cache_directory

    return cache_directory() / WEIGHTS_FILE


_MODELS: dict[str, object] = {}


def inception_model(path: str | os.PathLike | None = None):
    """InceptionV3 without its top, average-pooled, with the weights at ``path`` (cached per path)."""
    file = Path(path) if path is not None else weights_path()
    if not file.is_file():
        raise FganBenchError(
            f"fid_inception needs InceptionV3 weights (no top) at {file}: put Keras' {WEIGHTS_FILE} there "
            f"or set {WEIGHTS_ENV}=FILE; fgan-bench never downloads"
        )
    key = str(file.resolve())
    if key not in _MODELS:
        import keras

        try:
            _MODELS[key] = keras.applications.InceptionV3(
                weights=str(file), include_top=False, pooling="avg", input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3)
            )
        except (ValueError, OSError) as error:
            raise FganBenchError(f"{file} is not an InceptionV3 (no top) weights file: "
                                 f"{str(error).splitlines()[0][:160]}") from None
    return _MODELS[key]


def inception_inputs(images: np.ndarray, value_range: tuple[float, float]):
    """Images as InceptionV3 expects them: 299×299×3 in [−1, 1], bilinear resize (see the module)."""
    import tensorflow as tf

    low, high = value_range
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise FganBenchError(f"fid_inception needs images of shape (n, H, W, 1|3), got {images.shape}")
    scaled = (images - low) / (high - low) * 2.0 - 1.0
    if scaled.shape[-1] == 1:
        scaled = np.repeat(scaled, 3, axis=-1)
    return tf.image.resize(scaled, (IMAGE_SIZE, IMAGE_SIZE), method="bilinear", antialias=False)


def inception_features(model, images: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """2,048 pool features per image, computed in batches of :data:`BATCH_SIZE`."""
    batches = [
        np.asarray(model(inception_inputs(images[i : i + BATCH_SIZE], value_range), training=False), np.float64)
        for i in range(0, len(images), BATCH_SIZE)
    ]
    return np.concatenate(batches)


def fid_inception(real: np.ndarray, fake: np.ndarray, value_range: tuple[float, float], *,
                  path: str | os.PathLike | None = None, seed: int = 0) -> dict[str, float]:
    """``inception_fid`` and ``inception_kid`` of ``fake`` against ``real``, with sample counts."""
    from fgan_bench.metrics import samples

    model = inception_model(path)
    real_features = inception_features(model, real, value_range)
    fake_features = inception_features(model, fake, value_range)
    return {
        "inception_fid": samples.frechet_distance(real_features, fake_features),
        "inception_kid": samples.kid(real_features, fake_features, seed=seed),
        "inception_n_real": float(len(real)),
        "inception_n_fake": float(len(fake)),
    }
