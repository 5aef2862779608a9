"""Benchmark sweeps: TOML definitions, resumable parallel execution, fair protocols, tidy tables, reports."""

from fgan_bench.sweeps.definition import Sweep, load_sweep
from fgan_bench.sweeps.protocol import Protocol, load_protocol, run_protocol
from fgan_bench.sweeps.state import load_sweep_state
from fgan_bench.sweeps.sweep import run_sweep, select

__all__ = [
    "Protocol",
    "Sweep",
    "load_protocol",
    "load_sweep",
    "load_sweep_state",
    "run_protocol",
    "run_sweep",
    "select",
]
