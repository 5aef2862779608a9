"""What one run ends with, as frozen records: :class:`RunResult` (``result.json``) and a sweep's
:class:`Outcome` for one run (what a worker reports to the sweep).

Each record is built in one place (the runner's :func:`~fgan_bench.runner.finish_session` and
the sweep executors) and read back through :meth:`RunResult.from_json`, which is tolerant of
older files: a missing optional key takes its default, and a key this version does not know
is kept in ``extra`` and written back unchanged.

Both are read-only mappings over their JSON form too (``result["status"]``,
``outcome.get("reason")``), so code written against the plain dicts of earlier versions keeps
working; new code uses the attributes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any


class _JsonView(Mapping):
    """The read-only mapping view of a record's JSON form (plus its in-memory flags)."""

    def _view(self) -> dict[str, Any]:
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        return self._view()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._view())

    def __len__(self) -> int:
        return len(self._view())


#: Keys every ``result.json`` of this version holds (an older file's missing ones are defaulted).
_ALWAYS = ("status", "run_id", "steps", "final_metrics", "wall_time_s", "steps_per_second", "versions", "device",
           "strategy", "replicas")


@dataclasses.dataclass(frozen=True, eq=False)
class RunResult(_JsonView):
    """A finished run's ``result.json``: a run is done exactly when this file exists and reads.

    ``status`` is ``completed``, ``diverged`` (``diverged``: the step and, for exploded final
    values, the reason) or ``pruned`` (``pruned``: its protocol's pruner stopped it at a step;
    no final evaluation). ``steps`` is the step the run ended at. ``quality`` holds the final
    metrics of the generated samples, ``skipped_metrics`` the metrics too few samples skipped
    (with the reason). ``already_done`` is not stored: it says that the run was found finished
    rather than trained by this call.
    """

    status: str
    run_id: str = ""
    steps: int | None = None
    final_metrics: dict[str, float] = dataclasses.field(default_factory=dict)
    wall_time_s: float | None = None
    steps_per_second: float | None = None
    versions: dict[str, str] = dataclasses.field(default_factory=dict)
    device: str = ""
    strategy: str = "default"
    replicas: int = 1
    diverged: dict[str, Any] | None = None
    pruned: dict[str, Any] | None = None
    samples_finite: bool | None = None
    quality: dict[str, float] | None = None
    evaluation_seconds: dict[str, float] | None = None
    skipped_metrics: dict[str, str] | None = None
    generator_density: dict[str, list[float]] | None = None
    warnings: tuple[str, ...] | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    already_done: bool = False

    def to_json(self) -> dict[str, Any]:
        """The ``result.json`` content: the keys every result has, the optional ones that are set, then ``extra``."""
        values: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name in ("extra", "already_done") or (value is None and field.name not in _ALWAYS):
                continue
            values[field.name] = list(value) if isinstance(value, tuple) else value
        return {**values, **self.extra}

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> RunResult:
        """The record of a ``result.json`` (of this version or an older one); ``ValueError`` without a status."""
        if not isinstance(values, Mapping) or not isinstance(values.get("status"), str):
            raise ValueError("no status")
        known = {f.name for f in dataclasses.fields(cls)} - {"extra", "already_done"}
        fields = {k: v for k, v in values.items() if k in known}
        if fields.get("warnings") is not None:
            fields["warnings"] = tuple(fields["warnings"])
        return cls(**fields, extra={k: v for k, v in values.items() if k not in known})

    def found_done(self) -> RunResult:
        """This result, marked as found finished (not trained by this call)."""
        return dataclasses.replace(self, already_done=True)

    def _view(self) -> dict[str, Any]:
        return {**self.to_json(), **({"already_done": True} if self.already_done else {})}


@dataclasses.dataclass(frozen=True, eq=False)
class Outcome(_JsonView):
    """One run's outcome in a sweep: its ``status`` (a result's, or ``failed`` with a one-line
    ``reason``), whether it was ``already_done``, and how long it took (``seconds`` in all;
    ``train_seconds`` and ``evaluation_seconds`` of it, where known)."""

    run_id: str
    status: str
    already_done: bool = False
    reason: str | None = None
    seconds: float | None = None
    train_seconds: float | None = None
    evaluation_seconds: float | None = None

    @classmethod
    def of_result(cls, run_id: str, result: RunResult, seconds: float | None = None) -> Outcome:
        """The outcome of a run that ended with ``result`` (found finished, or trained in ``seconds``)."""
        if result.already_done:
            return cls(run_id, result.status, already_done=True)
        evaluation = sum((result.evaluation_seconds or {}).values()) if seconds is not None else None
        return cls(run_id, result.status, seconds=seconds, train_seconds=result.wall_time_s,
                   evaluation_seconds=evaluation)

    @classmethod
    def failed(cls, run_id: str, reason: str) -> Outcome:
        return cls(run_id, "failed", reason=reason)

    def to_json(self) -> dict[str, Any]:
        """The outcome as a dict: the set fields only (``already_done`` when true)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) not in (None, False)}

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> Outcome:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    def _view(self) -> dict[str, Any]:
        return self.to_json()
