"""Benchmark sweeps: TOML definitions, resumable parallel execution, tidy tables, reports."""

from fgan_bench.sweeps.definition import Sweep, load_sweep
from fgan_bench.sweeps.state import load_sweep_state
from fgan_bench.sweeps.sweep import run_sweep, select

__all__ = ["Sweep", "load_sweep", "load_sweep_state", "run_sweep", "select"]
