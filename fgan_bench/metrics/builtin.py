"""The built-in metrics, each a :class:`~fgan_bench.metrics.Metric` over :class:`EvaluationInputs`.

=====================  ==================================================  =========================
name                   outputs                                             applies to
=====================  ==================================================  =========================
variational_estimate   ``variational_estimate`` F = E_P[g_f(V)] −          a critic is given
                       E_Q[f*(g_f(V))] on held-out data
mmd                    ``mmd2`` (Gaussian kernel, median heuristic)         every dataset
kid                    ``kid`` (cubic kernel, unbiased, subsets)            every dataset
precision_recall       ``precision``, ``recall`` (k = 3)                    every dataset
sliced_wasserstein     ``sliced_wasserstein``                               every dataset
modes                  ``modes_captured``, ``high_quality_fraction``,       mixtures with modes
                       ``mode_kl``                                          (ring8, grid25)
true_divergence        ``true_<spec>`` = D_f(P‖Q̂) for every registered      1-D/2-D, known density
                       divergence, ``kde_bandwidth``
parzen                 ``parzen_log_likelihood`` (± ``_sem``)               images
memorisation           ``memorisation_share``, ``memorisation_ratio``,      finite data with a
                       ``memorisation_p_value``                             held-out split
fid_inception          ``inception_fid``, ``inception_kid`` (not default;   images, weights on disk
                       InceptionV3 weights from disk)
classifier             ``classifier_frechet_distance``, ``classifier_kid``,  images with labels
                       ``classifier_precision``, ``classifier_recall``,
                       ``classifier_accuracy``
=====================  ==================================================  =========================

``sliced_wasserstein`` and ``modes`` are ``cheap`` (milliseconds for 10,000 examples, where the
kernel, k-NN and density metrics take seconds): a protocol's search trials evaluate them too.
"""

from __future__ import annotations

import numpy as np

from fgan_bench.metrics import density, parzen, samples
from fgan_bench.metrics.base import EvaluationInputs, Metric
from fgan_bench.metrics.fid_inception import fid_inception
from fgan_bench.metrics.memorisation import memorisation
from fgan_bench.metrics.modes import mode_metrics

#: Parzen's validation split: this many training examples (never the test split).
PARZEN_VALIDATION_SIZE = 300


def _variational_estimate(inputs: EvaluationInputs) -> dict[str, float]:
    from fgan_bench.objectives import as_objective

    v_real = np.asarray(inputs.critic(inputs.real), np.float64).reshape(-1)
    v_fake = np.asarray(inputs.critic(inputs.fake), np.float64).reshape(-1)
    size = min(len(v_real), len(v_fake))
    values = np.asarray(as_objective(inputs.divergence).estimate(v_real[:size], v_fake[:size]), np.float64)
    return {"variational_estimate": float(values.mean())}


def _precision_recall(inputs: EvaluationInputs) -> dict[str, float]:
    precision, recall = samples.precision_recall(inputs.real, inputs.fake, seed=inputs.seed)
    return {"precision": precision, "recall": recall}


def _modes(inputs: EvaluationInputs) -> dict[str, float]:
    values = mode_metrics(inputs.fake, inputs.dataset.modes, inputs.dataset.mode_std)
    del values["modes_total"]
    return values


def _true_divergence(inputs: EvaluationInputs) -> dict[str, float]:
    """``true_<spec>`` for every example divergence, or only those asked (``inputs.outputs``): one
    quadrature per divergence, over the grid and KDE they share."""
    from fgan_bench.divergences import example_divergences

    asked = inputs.outputs
    return density.true_divergences(
        inputs.dataset,
        inputs.fake,
        [d for d in example_divergences() if asked is None or f"true_{d.spec}" in asked],
        real=inputs.real,
        generator_density=inputs.generator_density,
        seed=inputs.seed,
    )


def _parzen(inputs: EvaluationInputs) -> dict[str, float]:
    dataset = inputs.dataset
    rng = np.random.default_rng(inputs.seed)
    validation = dataset.array[
        rng.choice(len(dataset.array), min(PARZEN_VALIDATION_SIZE, len(dataset.array)), replace=False)
    ]
    unit = lambda x: parzen.to_unit_range(x, dataset.value_range)  # noqa: E731
    return parzen.parzen_window(unit(inputs.fake), unit(validation), unit(inputs.real))


def _classifier(inputs: EvaluationInputs) -> dict[str, float]:
    from fgan_bench.metrics.classifier import classifier_features, feature_classifier

    model, accuracy = feature_classifier(inputs.dataset, inputs.cache_dir)
    real, fake = classifier_features(model, inputs.real), classifier_features(model, inputs.fake)
    precision, recall = samples.precision_recall(real, fake, seed=inputs.seed)
    return {
        "classifier_frechet_distance": samples.frechet_distance(real, fake),
        "classifier_kid": samples.kid(real, fake, seed=inputs.seed),
        "classifier_precision": precision,
        "classifier_recall": recall,
        "classifier_accuracy": accuracy,
    }


def _memorisation(inputs: EvaluationInputs) -> dict[str, float]:
    return memorisation(inputs.dataset.array, inputs.real, inputs.fake, seed=inputs.seed)


def _has_held_out_split(inputs: EvaluationInputs) -> bool:
    return not inputs.dataset.synthetic and inputs.dataset.test_array is not None


def _is_image(inputs: EvaluationInputs) -> bool:
    return inputs.dataset.kind == "image"


BUILTIN_METRICS = (
    Metric(
        "variational_estimate",
        _variational_estimate,
        "the critic's lower bound F = E_P[g_f(V)] − E_Q[f*(g_f(V))] of D_f on held-out data "
        "(a baseline: minus its critic loss, WGAN-GP's E_P[V] − E_Q[V])",
        where="every run (uses the trained critic)",
        applies_to=lambda inputs: inputs.critic is not None and inputs.divergence is not None,
    ),
    Metric(
        "mmd",
        lambda inputs: {"mmd2": samples.mmd2(inputs.real, inputs.fake, seed=inputs.seed)},
        "unbiased MMD² with a Gaussian kernel, median-heuristic bandwidth",
        where="every dataset",
        directions={"mmd2": "lower"},
    ),
    Metric(
        "kid",
        lambda inputs: {"kid": samples.kid(inputs.real, inputs.fake, seed=inputs.seed)},
        "unbiased MMD² with the cubic kernel (x·y/d + 1)³, mean over subsets",
        where="every dataset",
        directions={"kid": "lower"},
    ),
    Metric(
        "precision_recall",
        _precision_recall,
        "improved precision and recall, k = 3 nearest neighbours",
        where="every dataset",
        directions={"precision": "higher", "recall": "higher"},
        min_samples=4,
        min_samples_reason="k-NN with k = 3",
    ),
    Metric(
        "sliced_wasserstein",
        lambda inputs: {"sliced_wasserstein": samples.sliced_wasserstein(inputs.real, inputs.fake, seed=inputs.seed)},
        "W₁ averaged over random 1-D projections",
        where="every dataset",
        directions={"sliced_wasserstein": "lower"},
        cheap=True,
    ),
    Metric(
        "modes",
        _modes,
        "modes captured and high-quality fraction (within 3σ of a mode), KL to uniform over modes",
        where="data with known modes (ring8, grid25, PacGAN's)",
        applies_to=lambda inputs: inputs.dataset.modes is not None,
        directions={"modes_captured": "higher", "high_quality_fraction": "higher", "mode_kl": "lower"},
        cheap=True,
    ),
    Metric(
        "true_divergence",
        _true_divergence,
        "D_f(P‖Q̂) for every registered divergence, Q̂ exact or a KDE, by grid quadrature",
        where="1-D/2-D data with a known density",
        applies_to=lambda inputs: inputs.dataset.synthetic and inputs.dataset.dimension <= 2,
        directions={"true_*": "lower"},
    ),
    Metric(
        "parzen",
        _parzen,
        "Parzen-window test log-likelihood, bandwidth chosen on a validation split",
        where="finite images (mnist, digits, your image files)",
        applies_to=lambda inputs: _is_image(inputs) and not inputs.dataset.synthetic,
        directions={"parzen_log_likelihood": "higher"},
    ),
    Metric(
        "classifier",
        _classifier,
        "Fréchet distance, KID and precision/recall in a locally trained classifier's feature space",
        where="images with class labels (class sub-folders, mnist, digits)",
        applies_to=lambda inputs: _is_image(inputs) and inputs.dataset.labelled,
        directions={
            "classifier_frechet_distance": "lower",
            "classifier_kid": "lower",
            "classifier_precision": "higher",
            "classifier_recall": "higher",
        },
        min_samples=4,
        min_samples_reason="k-NN with k = 3 on features",
    ),
    Metric(
        "memorisation",
        _memorisation,
        "share of samples nearer a training example than any of as many held-out ones (½: none; 1: copying)",
        where="finite data with a held-out split (your files by default)",
        applies_to=_has_held_out_split,
    ),
    Metric(
        "fid_inception",
        lambda inputs: fid_inception(inputs.real, inputs.fake, inputs.dataset.value_range, seed=inputs.seed),
        "FID and KID in InceptionV3 pool features, weights from $FGAN_BENCH_INCEPTION_WEIGHTS (never downloaded)",
        where="images, with the Inception weights on disk",
        applies_to=_is_image,
        default=False,
        directions={"inception_fid": "lower", "inception_kid": "lower"},
    ),
)
