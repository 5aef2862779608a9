"""Every built-in divergence on ring8 with the default settings, several seeds: the table
of modes captured and high-quality fraction (issue "Training", done-when).

    python benchmarks/ring8_table.py [--seeds 0 1 2] [--out reports/ring8-table]

Runs already done (their result.json exists) are not trained again, so the script can be
interrupted and re-run. Prints a table (mean ± std over seeds) and writes
``table.csv`` under ``--out``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pandas as pd  # noqa: E402

from fgan_bench.config import RunConfig  # noqa: E402
from fgan_bench.runner import run  # noqa: E402

SPECS = ["total_variation", "kl", "reverse_kl", "pearson", "neyman", "squared_hellinger", "jeffrey",
         "jensen_shannon", "gan", "js_weighted:0.3", "alpha:-1", "alpha:0.5", "alpha:2", "alpha:3"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--divergences", nargs="+", default=SPECS)
    parser.add_argument("--out", default="reports/ring8-table")
    args = parser.parse_args()
    rows = []
    for spec in args.divergences:
        for seed in args.seeds:
            result = run(RunConfig(divergence=spec, dataset="ring8", seed=seed), args.out, progress=False)
            quality = result.get("quality", {})
            rows.append({"divergence": spec, "seed": seed, "status": result["status"],
                         "modes_captured": quality.get("modes_captured"),
                         "high_quality_fraction": quality.get("high_quality_fraction"),
                         "mode_kl": quality.get("mode_kl"), "wall_time_s": result["wall_time_s"]})
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    table.to_csv(Path(args.out) / "table.csv", index=False)
    summary = table.groupby("divergence", sort=False).agg(
        completed=("status", lambda s: f"{(s == 'completed').sum()}/{len(s)}"),
        modes=("modes_captured", lambda s: f"{s.mean():.1f} ± {s.std():.1f} (min {s.min():.0f})"),
        high_quality=("high_quality_fraction", lambda s: f"{100 * s.mean():.0f} ± {100 * s.std():.0f} %"),
        seconds=("wall_time_s", "mean"),
    )
    print(summary.to_string())


if __name__ == "__main__":
    main()
