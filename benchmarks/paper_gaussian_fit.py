"""The f-GAN paper's 1-D experiment (Nowozin et al., 2016, section 4.1) for every built-in divergence.

    python benchmarks/paper_gaussian_fit.py [--out reports/paper_gaussian_fit] [--seed 0]

A Gaussian Q_θ = N(μ, σ²) is fitted to the reference's mixture P = ½N(0, 1) + ½N(2.5, 0.6²)
in two ways:

* exactly: θ* = argmin_θ D_f(P‖Q_θ) by quadrature and Nelder–Mead from several starts
  (every local minimum found is kept: Neyman χ² and α = −1 have two);
* by f-GAN training with the paper's protocol: the linear generator G(z) = μ + σ·z, a critic
  with two hidden layers of 64 tanh units, simultaneous single-step updates, batches of 1024
  (``fgan_bench run --dataset mixture1d --model linear``).

Writes ``fits.csv`` (one row per divergence), ``table.md`` (the paper's layout: a row per
quantity, a column per divergence) and ``fits.png`` (P with the learned Gaussian solid and
the exact best fit dashed, per divergence). Training runs land in ``<out>/runs/`` and are
not repeated when the script runs again.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from fgan_bench import get_divergence  # noqa: E402
from fgan_bench.config import RunConfig  # noqa: E402
from fgan_bench.datasets import get_dataset  # noqa: E402
from fgan_bench.metrics.density import best_gaussian_fit  # noqa: E402
from fgan_bench.runner import run  # noqa: E402

SPECS = [
    "kl",
    "reverse_kl",
    "jensen_shannon",
    "jeffrey",
    "pearson",
    "neyman",
    "squared_hellinger",
    "total_variation",
    "gan",
    "js_weighted:0.3",
    "alpha:-1",
    "alpha:0.5",
    "alpha:2",
]
#: The paper's five, held to |μ̂ − μ*| ≤ 0.05 and |σ̂ − σ*| ≤ 0.05.
PAPER = ("kl", "reverse_kl", "jensen_shannon", "jeffrey", "pearson")
TOLERANCE = 0.05


def fit_one(spec: str, dataset, runs: Path, seed: int) -> dict:
    divergence = get_divergence(spec)
    started = time.perf_counter()
    minima = best_gaussian_fit(divergence, dataset)
    exact_seconds = time.perf_counter() - started
    result = run(RunConfig(divergence=spec, dataset="mixture1d", seed=seed), runs, progress=False)
    best = minima[0]
    learned = result.get("generator_density", {"mean": [math.nan], "std": [math.nan]})
    mu_hat, sigma_hat = float(learned["mean"][0]), float(learned["std"][0])
    quality = result.get("quality", {})
    return {
        "divergence": spec,
        "status": result["status"],
        "D_f(P||Q_theta*)": best["divergence"],
        "F(omega_hat, theta_hat)": quality.get("variational_estimate", math.nan),
        "D_f(P||Q_theta_hat)": quality.get(f"true_{divergence.spec}", math.nan),
        "mu*": best["mu"],
        "mu_hat": mu_hat,
        "sigma*": best["sigma"],
        "sigma_hat": sigma_hat,
        "|mu_hat - mu*|": abs(mu_hat - best["mu"]),
        "|sigma_hat - sigma*|": abs(sigma_hat - best["sigma"]),
        "local_optima": len(minima),
        "other_optima": "; ".join(
            f"μ={m['mu']:.3f}, σ={m['sigma']:.3f}, D_f={m['divergence']:.4f}" for m in minima[1:]
        ),
        "exact_fit_seconds": exact_seconds,
        "training_seconds": result["wall_time_s"],
    }


def paper_table(fits: pd.DataFrame) -> str:
    """Markdown: a row per quantity, a column per divergence (the paper's Table 2 layout)."""
    rows = [
        "D_f(P||Q_theta*)",
        "F(omega_hat, theta_hat)",
        "D_f(P||Q_theta_hat)",
        "mu*",
        "mu_hat",
        "sigma*",
        "sigma_hat",
        "|mu_hat - mu*|",
        "|sigma_hat - sigma*|",
    ]
    header = "| quantity | " + " | ".join(fits["divergence"]) + " |"
    lines = [header, "|" + "---|" * (len(fits) + 1)]
    for row in rows:
        lines.append(f"| {row} | " + " | ".join(f"{v:.4f}" for v in fits[row]) + " |")
    within = [
        ("yes" if r["|mu_hat - mu*|"] <= TOLERANCE and r["|sigma_hat - sigma*|"] <= TOLERANCE else "**no**")
        for _, r in fits.iterrows()
    ]
    lines.append(f"| within {TOLERANCE} | " + " | ".join(within) + " |")
    lines.append(
        "| local optima | "
        + " | ".join(
            str(n) if n == 1 else f"{n} (also {o})"
            for n, o in zip(fits["local_optima"], fits["other_optima"], strict=True)
        )
        + " |"
    )
    return "\n".join(lines)


def plot_fits(fits: pd.DataFrame, dataset, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy import stats

    from fgan_bench.metrics.density import target_log_density

    x = np.linspace(-4.0, 5.5, 800)
    p = np.exp(target_log_density(dataset, x[:, None]))
    columns = 5
    rows = math.ceil(len(fits) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.4 * rows), sharex=True, sharey=True)
    for axis, (_, fit) in zip(axes.ravel(), fits.iterrows(), strict=False):
        axis.fill_between(x, p, color="0.85", label="P")
        axis.plot(x, stats.norm.pdf(x, fit["mu_hat"], fit["sigma_hat"]), color="C0", label="learned θ̂")
        axis.plot(x, stats.norm.pdf(x, fit["mu*"], fit["sigma*"]), color="C3", linestyle="--", label="exact θ*")
        axis.set_title(fit["divergence"], fontsize=10)
    for axis in axes.ravel()[len(fits) :]:
        axis.set_visible(False)
    axes.ravel()[0].legend(fontsize=7)
    figure.suptitle("Gaussian fits to P = ½N(0, 1) + ½N(2.5, 0.6²): f-GAN (solid) vs exact (dashed)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports/paper_gaussian_fit")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--divergences", nargs="+", default=SPECS)
    parser.add_argument(
        "--runs",
        help="where the training runs are (<RUNS>/runs/<run-id>/; default: --out); "
        "e.g. reports/synthetic or reports/paper_gaussian_fit from the sweeps, whose runs are reused",
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dataset = get_dataset("mixture1d")
    started = time.perf_counter()
    rows = []
    for spec in args.divergences:
        rows.append(fit_one(spec, dataset, Path(args.runs) if args.runs else out, args.seed))
        row = rows[-1]
        print(
            f"{spec:16s} μ* {row['mu*']:.4f} μ̂ {row['mu_hat']:.4f}  σ* {row['sigma*']:.4f} σ̂ {row['sigma_hat']:.4f}"
            f"  D_f* {row['D_f(P||Q_theta*)']:.4f} F̂ {row['F(omega_hat, theta_hat)']:.4f}",
            flush=True,
        )
    fits = pd.DataFrame(rows)
    fits.to_csv(out / "fits.csv", index=False)
    table = paper_table(fits)
    (out / "table.md").write_text(table + "\n")
    plot_fits(fits, dataset, out / "fits.png")
    print(table)
    misses = fits[(fits["|mu_hat - mu*|"] > TOLERANCE) | (fits["|sigma_hat - sigma*|"] > TOLERANCE)]
    paper_misses = misses[misses["divergence"].isin(PAPER)]
    print(
        f"\n{len(fits)} divergences in {time.perf_counter() - started:.0f} s; "
        f"outside ±{TOLERANCE}: {', '.join(misses['divergence']) or 'none'}"
        + (f" (of the paper's five: {', '.join(paper_misses['divergence'])})" if len(paper_misses) else "")
    )
    print(f"written: {out / 'fits.csv'}, {out / 'table.md'}, {out / 'fits.png'}")


if __name__ == "__main__":
    main()
