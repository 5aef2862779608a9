"""The statistics behind the benchmark's answer: expected max and its band, intervals, CD ranks."""

import itertools

import numpy as np
import pandas as pd
import pytest

from fgan_bench import stats


@pytest.mark.parametrize("direction", ["higher", "lower"])
def test_expected_max_is_the_average_best_over_every_n_tuple_drawn_with_replacement(direction):
    scores = np.array([0.3, 0.9, 0.1, 0.5, 0.5])
    best = max if direction == "higher" else min
    expected, spread = stats.expected_max(scores, [1, 2, 3, 4], direction)
    for n, e, s in zip([1, 2, 3, 4], expected, spread, strict=True):
        maxima = np.array([best(t) for t in itertools.product(scores, repeat=n)])  # every n-tuple, equally likely
        assert e == pytest.approx(maxima.mean(), abs=1e-12)
        assert s == pytest.approx(maxima.std(), abs=1e-12)
    assert expected[0] == pytest.approx(scores.mean())  # n = 1 is the mean
    assert (np.diff(expected) >= 0).all() if direction == "higher" else (np.diff(expected) <= 0).all()


def test_expected_max_keeps_infinite_scores_infinite():
    expected, spread = stats.expected_max([0.2, np.inf, 0.4], [1, 3], "lower")
    assert expected[0] == np.inf and np.isnan(spread[0])  # a trial may be the infinite one
    expected, _ = stats.expected_max([0.2, np.inf, 0.4], [1], "higher")
    assert expected[0] == np.inf


def test_expected_max_table_has_the_documented_columns():
    trials = pd.DataFrame(
        {"dataset": "ring8", "divergence": ["kl"] * 3 + ["gan"] * 2, "metric": "m", "value": [3, 1, 2, 5, 4]}
    )
    table = stats.expected_max_table(trials, lambda metric: "lower")
    assert list(table.columns) == ["dataset", "divergence", "metric", "budget", "expected_best", "spread",
                                   "band_low", "band_high"]
    assert table.groupby("divergence")["budget"].max().to_dict() == {"kl": 3, "gan": 2}
    kl = table[table["divergence"] == "kl"].set_index("budget")["expected_best"]
    assert kl[1] == pytest.approx(2.0) and kl[3] == pytest.approx((1 * 19 + 2 * 7 + 3 * 1) / 27)


def test_bootstrap_intervals_cover_the_true_mean_at_the_nominal_rate():
    # 200 simulated experiments of 30 skewed (exponential, mean 2) values, all bootstrapped at once.
    rng = np.random.default_rng(1)
    data = rng.exponential(2.0, size=(200, 30))
    mean, low, high = stats.bootstrap_ci(data, n_resamples=1000)
    assert np.allclose(mean, data.mean(axis=1)) and (low < mean).all() and (mean < high).all()
    coverage = np.mean((low <= 2.0) & (2.0 <= high))
    assert coverage >= 0.90, coverage


def test_bootstrap_of_one_value_has_no_interval_and_infinity_stays():
    assert np.isnan(stats.bootstrap_ci([0.3])[1:]).all()
    assert np.isnan(stats.bootstrap_ci([0.3, 0.5])[1:]).all()  # 2 values: 3 distinct resamples, no interval
    assert stats.bootstrap_ci([0.3, 0.3, 0.3]) == (0.3, 0.3, 0.3)
    mean, low, high = stats.bootstrap_ci([0.3, 0.4, np.inf])
    assert mean == np.inf and np.isnan(low) and np.isnan(high)


def test_t_intervals_hold_their_level_at_3_and_5_values_where_bca_does_not():
    rng = np.random.default_rng(2)
    for n in (3, 5):
        data = rng.normal(1.0, 0.3, size=(2000, n))
        bounds = np.array([stats.t_interval(row)[1:] for row in data])
        coverage = np.mean((bounds[:, 0] <= 1.0) & (1.0 <= bounds[:, 1]))
        assert 0.93 <= coverage <= 0.97, (n, coverage)
    assert np.isnan(stats.t_interval([0.3, 0.5])[1:]).all()  # 2 values: no interval
    assert stats.t_interval([0.3, 0.3, 0.3]) == (0.3, 0.3, 0.3)
    mean, low, high = stats.t_interval([0.3, 0.4, np.inf])
    assert mean == np.inf and np.isnan(low) and np.isnan(high)


def test_expected_max_band_brackets_the_curve_and_covers_the_true_expected_best():
    rng = np.random.default_rng(3)
    budgets = [1, 5]
    truth = stats.expected_max(rng.normal(size=200_000), budgets, "higher")[0]  # the population's curve
    covered = 0
    for _ in range(40):
        scores = rng.normal(size=30)
        low, high = stats.expected_max_band(scores, budgets, "higher", resamples=200, seed=1)
        curve = stats.expected_max(scores, budgets, "higher")[0]
        assert (low <= curve + 1e-12).all() and (curve <= high + 1e-12).all()
        covered += int(low[0] <= truth[0] <= high[0])
    assert covered >= 34  # ~0.95 nominal for the mean (n = 1)


def test_friedman_nemenyi_needs_enough_datasets():
    table = pd.DataFrame(
        [[0.1, 0.5, 0.9], [0.2, 0.4, 0.8], [0.1, 0.6, np.inf], [0.3, 0.35, 0.7]],
        columns=["a", "b", "c"],
        index=["d1", "d2", "d3", "d4"],
    )
    result = stats.friedman_nemenyi(table, "lower")
    assert result["ranks"].to_dict() == {"a": 1.0, "b": 2.0, "c": 3.0} and result["datasets"] == 4
    assert result["friedman_p"] < 0.05 and result["nemenyi"].shape == (3, 3)
    assert stats.friedman_nemenyi(table.iloc[:3], "lower") is None
