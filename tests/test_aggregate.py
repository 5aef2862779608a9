"""The across-dataset view: IQM, probability of improvement, normalisation, the stratified bootstrap, coverage."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import trim_mean

from fgan_bench.aggregate import (
    across_datasets,
    improvement_estimate,
    iqm,
    iqm_estimate,
    normalise,
    probability_of_improvement,
)


def test_the_iqm_is_the_25_percent_trimmed_mean():
    scores = np.array([8.0, 1.0, 100.0, 3.0, 5.0, 2.0, 7.0, 4.0])
    assert iqm(scores) == pytest.approx(trim_mean(scores, 0.25))
    assert iqm(scores) == pytest.approx(np.mean([3.0, 4.0, 5.0, 7.0]))  # 1, 2 and 8, 100 trimmed
    batch = np.random.default_rng(0).normal(size=(4, 12))
    assert np.allclose(iqm(batch, axis=1), [trim_mean(row, 0.25) for row in batch])


def test_probability_of_improvement_on_known_cases():
    x = np.array([0.1, 0.4, 0.9])
    assert probability_of_improvement(x, x) == pytest.approx(0.5)  # identical: no improvement either way
    assert probability_of_improvement(x + 1.0, x) == 1.0 and probability_of_improvement(x, x + 1.0) == 0.0
    assert probability_of_improvement([1.0, 3.0], [2.0, 3.0]) == pytest.approx((0 + 0 + 1 + 0.5) / 4)  # a tie counts ½
    # Averaged over datasets: dominated on one, dominating on the other.
    estimate = improvement_estimate(("a", "b"), [x + 1, x], [x, x + 1])
    assert estimate.value == pytest.approx(0.5)


def test_normalisation_puts_the_best_value_at_1_whatever_the_direction():
    assert np.allclose(normalise([0.2, 0.4, 0.6], "lower"), [1.0, 0.5, 0.0])
    assert np.allclose(normalise([0.2, 0.4, 0.6], "higher"), [0.0, 0.5, 1.0])
    assert np.allclose(normalise([0.2, np.inf, 0.6], "lower"), [1.0, 0.0, 0.0])  # a divergent value is the worst
    assert np.allclose(normalise([3.0, 3.0], "lower"), [0.5, 0.5])


def test_the_bootstrap_resamples_within_each_dataset_never_pooled():
    # Divergence x scores 0 on every run of one dataset and 1 on every run of the other. Resampled within
    # each dataset, every resample has three 0s and three 1s: the IQM is 0.5 in all of them. A pooled
    # bootstrap would draw e.g. six 0s and give a wide interval.
    zeros, ones = np.zeros(3), np.ones(3)
    estimate = iqm_estimate("x", [zeros, ones])
    assert (estimate.value, estimate.ci_low, estimate.ci_high) == (0.5, 0.5, 0.5)
    improvement = improvement_estimate(("x", "y"), [zeros, ones], [np.full(3, 0.5)] * 2)
    assert (improvement.value, improvement.ci_low, improvement.ci_high) == (0.5, 0.5, 0.5)
    varied = iqm_estimate("x", [np.array([0.0, 0.5, 1.0]), ones])  # values that do vary get an interval
    assert varied.ci_low < varied.value < varied.ci_high


def test_the_iqm_interval_covers_the_true_iqm_95_percent_of_the_time():
    # Two datasets, 10 values each, different spreads around a common centre 0: the pooled distribution is
    # symmetric, so its true IQM is 0. 400 simulated comparisons; Monte-Carlo sd of the coverage ≈ 0.011.
    rng = np.random.default_rng(0)
    covered = [estimate.ci_low <= 0.0 <= estimate.ci_high for estimate in
               (iqm_estimate("x", [rng.normal(0, 0.5, 10), rng.normal(0, 2.0, 10)], seed=s) for s in range(400))]
    assert np.mean(covered) == pytest.approx(0.95, abs=0.03)


def test_across_datasets_orders_by_iqm_and_says_when_it_cannot_separate():
    rng = np.random.default_rng(1)
    rows = [{"dataset": dataset, "divergence": name, "value": mean + 0.01 * rng.normal()}
            for dataset in ("ring8", "mixture1d") for name, mean in (("kl", 0.1), ("reverse_kl", 0.2), ("gan", 0.9))
            for _ in range(4)]
    rows += [{"dataset": "ring8", "divergence": "chi2", "value": 0.05}]  # on one dataset only: left out
    view = across_datasets(pd.DataFrame(rows), lambda dataset: "lower")
    assert [e.divergence for e in view.iqm] == ["kl", "reverse_kl", "gan"] and view.left_out == ("chi2",)
    assert view.has_intervals and view.inseparable_from_best() == ("kl",)
    kl_over_gan = next(e for e in view.improvement if (e.divergence, e.versus) == ("kl", "gan"))
    assert kl_over_gan.value == 1.0 and kl_over_gan.datasets == 2
    table = view.table()
    assert list(table["statistic"]).count("probability_of_improvement") == 3 and len(table) == 6
    same = pd.DataFrame([{"dataset": d, "divergence": n, "value": rng.normal()} for d in ("a", "b")
                         for n in ("kl", "gan") for _ in range(5)])
    assert len(across_datasets(same, lambda dataset: "lower").inseparable_from_best()) == 2
    assert across_datasets(same[same["dataset"] == "a"], lambda dataset: "lower") is None  # one dataset: no view


def test_the_report_sentence_names_a_shared_best_iqm_and_missing_intervals():
    from fgan_bench.sweeps.across import separation_sentence

    tied = pd.DataFrame([{"dataset": d, "divergence": n, "value": v} for d, n, v in
                         (("a", "kl", 0.1), ("a", "gan", 0.2), ("b", "kl", 0.2), ("b", "gan", 0.1))])
    sentence = separation_sentence(across_datasets(tied, lambda dataset: "lower"), "search replicate")
    assert sentence.startswith("No intervals: they need 3 search replicates")
    assert "kl, gan share the best IQM" in sentence
