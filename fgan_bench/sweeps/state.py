"""A sweep folder's own record: ``sweep.toml`` (the file as run) and ``sweep.json`` (its resolved
runs), so that ``report`` needs nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fgan_bench import rundir
from fgan_bench.config import RunConfig
from fgan_bench.errors import FganBenchError
from fgan_bench.sweeps.definition import Sweep

STATE = "sweep.json"


def write_sweep_state(
    sweep: Sweep, configs: Sequence[RunConfig], sweep_dir: Path, protocol: dict[str, Any] | None = None
) -> None:
    """Writes ``sweep.toml`` and ``sweep.json`` (each atomically): the one writer of both.

    ``protocol``: a protocol's own record (its storage, budget, metrics, space, seeds, studies
    and each run's phase; :func:`fgan_bench.sweeps.protocol.protocol_record`), None for a grid.
    """
    rundir.make_directory(sweep_dir)
    rundir.write_bytes_atomically(sweep_dir / "sweep.toml", sweep.text.encode())
    state = {
        "name": sweep.name,
        "description": sweep.description,
        "source": str(sweep.path),
        "varying": list(sweep.grid),
        "configs": [c.to_dict() for c in configs],
    }
    if protocol is not None:
        state["protocol"] = protocol
    rundir.write_json_atomically(sweep_dir / STATE, state)


def load_sweep_state(sweep_dir: str | Path) -> dict[str, Any]:
    """The sweep's name, varying options, resolved run configs and file text, from its folder."""
    sweep_dir = Path(sweep_dir)
    if not (sweep_dir / STATE).is_file():
        raise FganBenchError(
            f"{sweep_dir} is not a sweep folder (no {STATE}); run `python -m fgan_bench sweep FILE` first"
        )
    state = rundir.read_json(sweep_dir / STATE)
    state["configs"] = [RunConfig.from_dict(c) for c in state["configs"]]
    state["text"] = (sweep_dir / "sweep.toml").read_text() if (sweep_dir / "sweep.toml").exists() else ""
    return state
