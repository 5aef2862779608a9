"""Fixed cost per run of a sweep: reused workers against a fresh process per run.

    python benchmarks/fixed_cost.py [--runs 30] [--steps 50] [--jobs 1] [--repeats 2]

A sweep of ``--runs`` short ring8 runs (10 divergences × seeds) is run ``--repeats`` times in
each mode, alternating: ``isolated`` (``isolate = true``: every run in a fresh process, as
before workers were reused) and ``reused`` (the default: workers kept across runs, Keras'
state cleared between them). The fixed cost per run is the sweep's wall time × jobs / runs
minus the mean time each run spent training and evaluating (from its ``result.json``):
process start, imports, building the models, loading, writing. Printed per repeat, then the
mean ± std per mode and their ratio. Target: ≤ 3 s per run (reused) on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import time
from pathlib import Path

from fgan_bench import rundir
from fgan_bench.sweeps.state import load_sweep_state
from fgan_bench.sweeps.sweep import run_sweep

DIVERGENCES = ["total_variation", "kl", "reverse_kl", "pearson", "neyman", "squared_hellinger", "jeffrey",
               "jensen_shannon", "gan", "alpha:0.5"]


def sweep_file(folder: Path, runs: int, steps: int, isolate: bool) -> Path:
    divergences = DIVERGENCES[: min(runs, len(DIVERGENCES))]
    seeds = list(range(-(-runs // len(divergences))))
    path = folder / f"fixed_cost_{'isolated' if isolate else 'reused'}.toml"
    path.write_text(
        f'[sweep]\nname = "{path.stem}"\ndatasets = ["ring8"]\ndivergences = {divergences!r}\nseeds = {seeds}\n'
        f"[defaults]\nsteps = {steps}\nlog_every = {steps}\nnum_samples = 500\nwidth = 32\n"
        f"isolate = {'true' if isolate else 'false'}\n"
    )
    return path


def measure(folder: Path, runs: int, steps: int, jobs: int, isolate: bool) -> tuple[float, float, int]:
    """(fixed cost per run, training + evaluation per run, runs) of one sweep, in seconds."""
    path = sweep_file(folder, runs, steps, isolate)
    out = folder / f"out-{time.monotonic_ns()}"
    with contextlib.redirect_stdout(io.StringIO()):
        started = time.perf_counter()
        failed = run_sweep(path, out=out, jobs=jobs, report=False)
        wall = time.perf_counter() - started
    if failed:
        raise SystemExit(f"{failed} runs failed")
    configs = load_sweep_state(out / path.stem)["configs"]
    work = []
    for config in configs:
        result = rundir.read_result(rundir.run_path(out / path.stem, config.run_id))
        work.append(result["wall_time_s"] + sum(result["evaluation_seconds"].values()))
    return wall * jobs / len(configs) - statistics.mean(work), statistics.mean(work), len(configs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    fixed: dict[str, list[float]] = {"isolated": [], "reused": []}
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(args.repeats):
            for mode in ("isolated", "reused"):
                cost, work, runs = measure(Path(folder), args.runs, args.steps, args.jobs, mode == "isolated")
                fixed[mode].append(cost)
                print(f"repeat {repeat + 1} {mode:8s}: {runs} runs, fixed {cost:5.2f} s/run, "
                      f"training + evaluation {work:5.2f} s/run", flush=True)
    for mode, values in fixed.items():
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"{mode:8s}: fixed cost {statistics.mean(values):.2f} ± {spread:.2f} s per run "
              f"(min {min(values):.2f}, max {max(values):.2f}, {len(values)} repeats)")
    print(f"ratio isolated / reused: {statistics.mean(fixed['isolated']) / statistics.mean(fixed['reused']):.1f}×")


if __name__ == "__main__":
    main()
