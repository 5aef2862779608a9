"""The run contract: a run is resolved once; its result and a sweep's outcome are frozen records
that round-trip through JSON and read older result files; the run directory's one implementation."""

import dataclasses
import json

import pytest

from fgan_bench import objectives
from fgan_bench.config import RunConfig
from fgan_bench.datasets import builtin, register_dataset, unregister_dataset
from fgan_bench.run_records import Outcome, RunResult
from fgan_bench.rundir import RunDirectory
from fgan_bench.runner import run

TINY = {"steps": 20, "log_every": 10, "steps_per_execution": 10, "width": 8, "depth": 1, "batch_size": 32,
        "num_samples": 200}


@pytest.fixture
def counted_dataset():
    """ring8 registered under a name of its own, counting how often it is built."""
    builds = []

    def counted_ring():
        builds.append(1)
        return dataclasses.replace(builtin.ring8(), name="counted_ring")

    register_dataset("counted_ring", counted_ring)
    yield builds
    unregister_dataset("counted_ring")


def test_one_run_builds_its_dataset_once_and_resolves_its_divergence_once(tmp_path, monkeypatch, counted_dataset):
    resolutions = []
    real_resolve = objectives.resolve

    def counting_resolve(spec):
        if isinstance(spec, str):
            resolutions.append(spec)
        return real_resolve(spec)

    monkeypatch.setattr(objectives, "resolve", counting_resolve)
    result = run(RunConfig(divergence="reverse_kl", dataset="counted_ring", **TINY), tmp_path, progress=False)
    assert result.status == "completed" and result.quality
    assert len(counted_dataset) == 1, f"the dataset was built {len(counted_dataset)} times"
    assert resolutions == ["reverse_kl"]


def test_a_resolved_run_is_reused_as_it_is(counted_dataset):
    resolved = RunConfig(divergence="kl", dataset="counted_ring", **TINY).resolve()
    assert resolved.config == resolved.config.resolved() and resolved.divergence.name == "kl"
    assert resolved.skipped_metrics is resolved.skipped_metrics  # computed once
    assert resolved.run_id == resolved.config.run_id and resolved.dataset.name == "counted_ring"


#: A result.json as written before RunResult existed: no steps_per_second, replicas or versions,
#: and a key this version does not know.
OLD_RESULT = {"status": "completed", "run_id": "ring8-kl-s0-0123abcd", "steps": 200,
              "final_metrics": {"step": 200.0, "divergence_estimate": 0.4}, "wall_time_s": 3.5,
              "quality": {"mmd2": 0.01}, "warnings": ["critic saturated"], "legacy_note": "kept"}


def test_run_result_round_trips_through_json_and_reads_older_files(tmp_path):
    result = RunResult.from_json(OLD_RESULT)
    assert result.steps_per_second is None and result.versions == {}
    assert (result.strategy, result.replicas, result.device) == ("default", 1, "")
    assert result.warnings == ("critic saturated",) and result.extra == {"legacy_note": "kept"}
    written = result.to_json()
    assert written["legacy_note"] == "kept" and written["warnings"] == ["critic saturated"]
    assert "diverged" not in written and "already_done" not in written
    assert RunResult.from_json(json.loads(json.dumps(written))) == result  # a mapping equal to its JSON form
    assert result["status"] == "completed" and result.get("pruned") is None  # dict-style reads still work

    directory = RunDirectory(tmp_path / "run").make()
    directory.write_result(result)
    again = directory.read_result()
    assert again.to_json() == written and not again.already_done and again.found_done()["already_done"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        again.status = "diverged"


def test_a_corrupt_or_statusless_result_is_no_result_with_the_problem_named(tmp_path):
    directory = RunDirectory(tmp_path / "run").make()
    assert directory.read_result() is None and directory.result_problem() is None
    directory.result.write_text('{"status": "comp')
    assert directory.read_result() is None and "is corrupt (JSONDecodeError" in directory.result_problem()
    directory.result.write_text(json.dumps({"quality": {}}))
    assert directory.read_result() is None and directory.result_problem().endswith("is corrupt (no status)")


def test_outcomes_are_frozen_records_with_their_set_fields_only():
    trained = RunResult.from_json({**OLD_RESULT, "evaluation_seconds": {"mmd2": 0.25, "fid": 0.5}})
    outcome = Outcome.of_result("r1", trained, seconds=4.0)
    assert outcome.to_json() == {"run_id": "r1", "status": "completed", "seconds": 4.0, "train_seconds": 3.5,
                                 "evaluation_seconds": 0.75}
    assert Outcome.of_result("r1", trained.found_done()).to_json() == {"run_id": "r1", "status": "completed",
                                                                       "already_done": True}
    failed = Outcome.failed("r2", "disk full")
    assert failed["reason"] == "disk full" and not failed.get("already_done")
    assert Outcome.from_json(failed.to_json()) == failed


def test_a_run_directory_receives_an_archive_result_last(tmp_path):
    source = RunDirectory(tmp_path / "source").make()
    for name, text in (("config.json", "{}"), ("metrics.csv", "step\n1\n"), ("result.json", '{"status": "completed"}'),
                       (".lock", "pid 1")):
        (source / name).write_text(text)
    target = RunDirectory(tmp_path / "target").make()
    names = target.receive(source.pack())
    assert names[-1] == "result.json" and ".lock" not in names
    assert target.read_result().status == "completed" and (target / "metrics.csv").read_text() == "step\n1\n"
