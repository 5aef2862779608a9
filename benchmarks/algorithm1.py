"""Algorithm 1 (Goodfellow et al., 2014) as the notes teach it, beside the f-GAN single-step method.

    python -m fgan_bench sweep benchmarks/algorithm1.toml --jobs 2
    python -m fgan_bench sweep benchmarks/algorithm1_fgan.toml --jobs 2
    python benchmarks/algorithm1.py [--out reports]

Reads both sweeps' ``results.csv`` (``<out>/algorithm1/`` and ``<out>/algorithm1_fgan/``) and
prints, per divergence, each metric's mean ± std over seeds for the two methods side by side;
writes ``<out>/algorithm1/comparison.md``. Both methods make the same number of generator
updates on the same data and seeds; Algorithm 1 makes k critic updates per generator update.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

SWEEPS = {"Algorithm 1 (alternating, k critic steps, SGD + momentum)": "algorithm1",
          "f-GAN single step (simultaneous, Adam)": "algorithm1_fgan"}
METRICS = ("mmd2", "sliced_wasserstein", "modes_captured", "high_quality_fraction", "mode_kl", "wall_time_s")


def comparison(out: Path) -> pd.DataFrame:
    frames = []
    for method, name in SWEEPS.items():
        path = out / name / "results.csv"
        if not path.exists():
            raise SystemExit(f"{path} not found: run `python -m fgan_bench sweep benchmarks/{name}.toml` first")
        results = pd.read_csv(path)
        finished = results[results["status"] == "completed"]
        timing = finished.drop_duplicates("run_id").assign(metric="wall_time_s", value=lambda f: f["wall_time_s"])
        table = pd.concat([finished, timing])
        table = table[table["metric"].isin(METRICS)].assign(method=method)
        frames.append(table)
    tidy = pd.concat(frames)
    summary = tidy.groupby(["divergence", "method", "metric"])["value"].agg(["mean", "std", "count"]).reset_index()
    summary["cell"] = [f"{m:.4g} ± {s:.2g}" for m, s in zip(summary["mean"], summary["std"].fillna(0), strict=True)]
    wide = summary.pivot(index=["divergence", "method"], columns="metric", values="cell")
    counts = summary.groupby(["divergence", "method"])["count"].max().rename("seeds")
    return wide[[m for m in METRICS if m in wide.columns]].join(counts).reset_index()


def to_markdown(table: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="reports", help="the sweeps' output root")
    args = parser.parse_args()
    markdown = to_markdown(comparison(Path(args.out)))
    (Path(args.out) / "algorithm1" / "comparison.md").write_text(markdown + "\n")
    print(markdown)


if __name__ == "__main__":
    main()
