"""The memorisation metric and the InceptionV3 FID plumbing (random weights from a tmp file)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fgan_bench.datasets import Dataset
from fgan_bench.errors import FganBenchError
from fgan_bench.metrics import evaluate

RNG = np.random.default_rng(0)
TOY = Dataset(
    name="toy",
    kind="vector",
    shape=(5,),
    value_range=(-math.inf, math.inf),
    array=RNG.normal(size=(600, 5)),
    test_array=RNG.normal(size=(400, 5)),
)


def test_memorisation_flags_a_generator_that_copies_training_points_only():
    copies = TOY.array[RNG.choice(len(TOY.array), 1000)]
    fresh = RNG.normal(size=(1000, 5))
    copying = evaluate(TOY, copies, ["memorisation"])
    honest = evaluate(TOY, fresh, ["memorisation"])
    assert copying["memorisation_share"] > 0.6 and copying["memorisation_p_value"] < 1e-6
    assert copying["memorisation_ratio"] < 0.5
    assert 0.45 < honest["memorisation_share"] < 0.55 and honest["memorisation_p_value"] > 0.01
    assert 0.8 < honest["memorisation_ratio"] < 1.25


def test_memorisation_does_not_apply_to_synthetic_data():
    from fgan_bench.datasets import get_dataset

    with pytest.raises(FganBenchError, match="memorisation does not apply to dataset 'ring8'"):
        evaluate(get_dataset("ring8"), RNG.normal(size=(200, 2)), ["memorisation"])


def test_fid_inception_without_weights_says_where_to_put_them(tmp_path, monkeypatch):
    from fgan_bench.metrics import fid_inception

    monkeypatch.setenv(fid_inception.WEIGHTS_ENV, str(tmp_path / "missing.h5"))
    with pytest.raises(FganBenchError, match="missing.h5.*FGAN_BENCH_INCEPTION_WEIGHTS"):
        fid_inception.inception_model()


@pytest.fixture(scope="module")
def random_inception_weights(tmp_path_factory):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.applications.InceptionV3(weights=None, include_top=False, pooling="avg", input_shape=(299, 299, 3))
    path = tmp_path_factory.mktemp("inception") / "random_inception.weights.h5"
    model.save_weights(path)
    return path


@pytest.mark.slow
def test_fid_inception_plumbing_with_randomly_initialised_weights(random_inception_weights, monkeypatch):
    """Two real and two noise images (InceptionV3 at 299×299 costs ~6 GFLOP an image)."""
    from fgan_bench.datasets import get_dataset
    from fgan_bench.metrics import fid_inception

    monkeypatch.setenv(fid_inception.WEIGHTS_ENV, str(random_inception_weights))
    digits = get_dataset("digits")
    real = digits.test_array[:2]
    resized = fid_inception.inception_inputs(real, digits.value_range)
    assert tuple(resized.shape) == (2, 299, 299, 3)
    assert float(np.min(resized)) == pytest.approx(-1.0) and float(np.max(resized)) <= 1.0 + 1e-6
    noise = RNG.uniform(-1, 1, size=real.shape).astype(np.float32)
    values = evaluate(digits, noise, ["fid_inception"], real=real)
    assert values["inception_fid"] > 0 and math.isfinite(values["inception_kid"])
    assert values["inception_n_real"] == values["inception_n_fake"] == 2


def test_frechet_distance_with_fewer_samples_than_dimensions_matches_the_matrix_square_root():
    from scipy import linalg

    from fgan_bench.metrics.samples import frechet_distance

    x, y = RNG.normal(size=(30, 50)), RNG.normal(size=(40, 50)) * 1.3 + 0.2
    cov_x, cov_y = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    reference = (np.sum((x.mean(0) - y.mean(0)) ** 2) + np.trace(cov_x) + np.trace(cov_y)
                 - 2 * np.trace(np.real(linalg.sqrtm(cov_x @ cov_y))))
    assert frechet_distance(x, y) == pytest.approx(reference, rel=1e-6)
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-9)
