"""Verdicts: all-pairs Holm, no verdict below 3 values, P(best), contradictions, disagreeing families."""

import numpy as np
import pandas as pd
import pytest

from fgan_bench import verdicts


def _scores(centres: dict[str, float], n: int, sd: float, rng) -> pd.DataFrame:
    return pd.DataFrame(
        [{"divergence": name, "unit": i, "value": centre + sd * rng.standard_normal()}
         for name, centre in centres.items() for i in range(n)]
    )


def test_a_clear_winner_is_best_and_ties_stay_together():
    rng = np.random.default_rng(0)
    table = verdicts.decide(_scores({"good": 0.1, "tied_a": 0.3, "tied_b": 0.3}, 5, 0.02, rng), "lower")
    table = table.set_index("divergence")
    assert table.loc["good", "verdict"] == "best" and table.loc["good", "p_best"] > 0.99
    assert table.loc[["tied_a", "tied_b"], "verdict"].tolist() == ["worse", "worse"]
    assert table.loc["tied_a", "worse_than"] == "good"
    assert table.loc["good", "best_share"] == 1.0
    tied = verdicts.decide(_scores({"tied_a": 0.3, "tied_b": 0.3}, 5, 0.02, rng), "lower")
    assert set(tied["verdict"]) == {"best or not distinguishable"} and tied["p_best"].sum() == pytest.approx(1.0)
    assert verdicts.decide(_scores({"good": 0.1, "bad": 0.3}, 5, 0.02, rng), "higher")["divergence"][0] == "bad"


def test_no_verdict_from_fewer_than_three_values_and_it_says_what_is_missing():
    rng = np.random.default_rng(1)
    scores = _scores({"a": 0.1, "b": 0.9}, 2, 0.01, rng)  # a huge gap, but 2 values each
    table = verdicts.decide(scores, "lower")
    assert set(table["verdict"]) == {"no verdict"} and table["reason"].str.contains("needs 3").all()
    assert table["p_best"].isna().all() and table["ci_low"].isna().all()
    three = pd.concat([scores, _scores({"c": 0.5}, 3, 0.01, rng), _scores({"d": 0.6}, 3, 0.01, rng)])
    table = verdicts.decide(three, "lower").set_index("divergence")
    assert table.loc[["a", "b"], "verdict"].tolist() == ["no verdict", "no verdict"]
    assert table.loc["c", "verdict"] == "best or not distinguishable"  # cannot be "best": a and b are untested
    assert table.loc["d", "verdict"] == "worse"


def test_family_wise_false_worse_rate_stays_below_alpha_with_many_equal_divergences():
    rng = np.random.default_rng(2)
    names = {f"d{i}": 0.0 for i in range(8)}
    false_claims = sum(
        (verdicts.decide(_scores(names, 5, 1.0, rng), "lower", resamples=0)["verdict"] == "worse").any()
        for _ in range(100)
    )
    assert false_claims / 100 <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / 100)


def test_two_runs_contradict_only_on_opposite_claims():
    def table(worse_than: dict[str, str], best: str | None = None):
        return pd.DataFrame({"divergence": list(worse_than), "worse_than": list(worse_than.values()),
                             "verdict": ["best" if n == best else ("worse" if w else "best or not distinguishable")
                                         for n, w in worse_than.items()]})

    first = table({"a": "", "b": "a"})
    assert not verdicts.contradicts(first, table({"a": "", "b": ""}))
    assert verdicts.contradicts(first, table({"a": "b", "b": ""}))
    assert verdicts.contradicts(first, table({"a": "", "b": ""}, best="b"))


def test_disagreeing_families_are_named_and_the_critical_difference_matches_demsar():
    summary = pd.DataFrame({
        "dataset": "ring8", "divergence": ["kl", "reverse_kl"] * 3, "direction": ["lower"] * 2 + ["higher"] * 4,
        "metric": ["true_jensen_shannon"] * 2 + ["modes_captured"] * 2 + ["precision"] * 2,
        "mean": [0.4, 0.2, 8, 3, 0.5, 0.9],
    })
    best = verdicts.best_by_metric(summary)
    disagree = verdicts.disagreements(best, "ring8", "true_jensen_shannon", {"modes_captured": "modes"}.get)
    assert disagree == [{"family": "modes", "metrics": {"modes_captured": "kl"}}]
    assert verdicts.critical_difference(14, 4) == pytest.approx(9.9, abs=0.05)  # Demšar: 14 methods, 4 datasets


def test_the_answer_names_a_likely_rerun_winner_only_from_a_clear_favourite():
    from fgan_bench.sweeps.report_text import _stability_clause

    clear = [{"divergence": "kl", "p_best": 0.95, "best_share": 0.8}, {"divergence": "gan", "p_best": 0.05}]
    assert "a rerun would likely name kl best (95 %)" in _stability_clause(clear, "replicate")
    # 64 % is no likely winner: a real two-seed rerun gave such a favourite 0.4 % (README)
    open_race = [{"divergence": "alpha:2", "p_best": 0.64}, {"divergence": "kl", "p_best": 0.31},
                 {"divergence": "reverse_kl", "p_best": 0.05}, {"divergence": "gan", "p_best": 0.0}]
    clause = _stability_clause(open_race, "replicate")
    assert "would likely" not in clause
    assert "a rerun may name any of alpha:2, kl, reverse_kl best" in clause and "gan best" not in clause
