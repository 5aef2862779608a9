"""A run's status: a saturated critic is a warning, exploded losses or metrics are divergence."""

from fgan_bench.run_status import explain, judge


def _completed(**final):
    return {"status": "completed", "steps": 10000,
            "final_metrics": {"critic_loss": -2.1, "divergence_estimate": 2.1, "t_real": -0.3, **final},
            "quality": {"mmd2": 0.2, "kid": 6.6}}


def test_a_saturated_critic_on_reverse_kl_is_a_warning_not_divergence():
    result = _completed(t_fake=-7.32e8)  # the run of issue 16: reverse KL's critic certain on fakes
    judge(result)
    assert result["status"] == "completed"
    assert result["warnings"] == [
        "critic saturated: t_fake = -7.32e+08 (certain on one side; losses and samples are finite)"]
    assert explain(result).startswith("completed: trained every step")
    assert explain(result).endswith("(1 warning above, not a failure)")


def test_exploded_losses_or_metrics_still_diverge():
    for key, value in (("critic_loss", 3e9), ("generator_loss", float("inf")), ("t_fake", float("nan"))):
        result = _completed(**{key: value})
        judge(result)
        assert result["status"] == "diverged", key
        assert explain(result).startswith(f"diverged: {key}")
    blown = _completed(t_fake=-7e8)
    blown["quality"]["kid"] = 3.8e29  # saturated critic *and* exploded samples: diverged
    judge(blown)
    assert blown["status"] == "diverged" and "kid = 3.8e+29" in explain(blown)


def test_every_status_is_explained_in_one_line():
    guard = {"status": "diverged", "diverged": {"step": 40, "last_finite": {}}}
    assert explain(guard) == "diverged: non-finite loss or weights at step 40"
    for status in ("pruned", "failed", "unfinished"):
        line = explain({"status": status})
        assert line.startswith(f"{status}: ") and len(line) > len(status) + 10 and "\n" not in line
