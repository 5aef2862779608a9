"""The lecture notes' warning, measured: gradient descent–ascent on v(a, b) = a·b orbits.

    nice -n 10 python benchmarks/bilinear_game.py [--out reports/bilinear_game] [--steps 200]

Player a minimises v, player b maximises it; the only equilibrium is (0, 0). With step size η:

* simultaneous: (a, b) ← (a − ηb, b + ηa). The update matrix [[1, −η], [η, 1]] is √(1 + η²)
  times a rotation, so the radius √(a² + b²) grows by exactly √(1 + η²) every step: the orbit
  spirals out, for every η > 0.
* alternating: a ← a − ηb, then b ← b + ηa with the new a. The matrix [[1, −η], [η, 1 − η²]]
  has determinant 1 and, for η < 2, complex eigenvalues of modulus 1: the orbit is a closed
  ellipse — bounded, but it never converges either.

Writes ``trajectories.csv`` (``method, step_size, step, a, b, radius``) and ``trajectories.png``,
and prints the measured radius growth per step, (r_N / r_0)^{1/N}, beside √(1 + η²).

The same diagnostic for a real f-GAN (``--gan-steps``, 0 to skip): the paper's 1-D experiment
(mixture1d, the linear generator G(z) = μ + σz, critic 64×2 tanh) trained with the GAN
divergence under both schedules, recording the distance ‖(μ, σ) − (μ*, σ*)‖ to the exact best
fit θ* = argmin D_f(P‖Q_θ) (:func:`fgan_bench.metrics.density.best_gaussian_fit`) every
``--log-every`` steps, both players on plain SGD with one step size: ``gan_distance.csv`` and a
third panel in the figure.
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

METHODS = ("simultaneous", "alternating")


def play(method: str, step_size: float, steps: int, start: tuple[float, float] = (1.0, 0.5)) -> pd.DataFrame:
    """The trajectory of one gradient descent–ascent run on v(a, b) = a·b (∂v/∂a = b, ∂v/∂b = a)."""
    a, b = start
    rows = [(0, a, b)]
    for step in range(1, steps + 1):
        if method == "simultaneous":
            a, b = a - step_size * b, b + step_size * a
        else:
            a = a - step_size * b
            b = b + step_size * a
        rows.append((step, a, b))
    frame = pd.DataFrame(rows, columns=["step", "a", "b"])
    frame.insert(0, "step_size", step_size)
    frame.insert(0, "method", method)
    frame["radius"] = np.hypot(frame["a"], frame["b"])
    return frame


def growth_table(trajectories: pd.DataFrame) -> pd.DataFrame:
    """Per (method, η): measured growth per step (r_N/r_0)^{1/N}, max radius / r_0, and √(1 + η²)."""
    rows = []
    for (method, eta), run in trajectories.groupby(["method", "step_size"], sort=False):
        r = run["radius"].to_numpy()
        steps = int(run["step"].iloc[-1])
        rows.append(
            {
                "method": method,
                "step_size": eta,
                "growth_per_step": (r[-1] / r[0]) ** (1.0 / steps),
                "sqrt(1+eta^2)": math.sqrt(1.0 + eta**2),
                "max_radius/r0": r.max() / r[0],
                "final_radius/r0": r[-1] / r[0],
            }
        )
    return pd.DataFrame(rows)


def gan_distances(steps: int, log_every: int, seed: int, learning_rate: float) -> pd.DataFrame:
    """‖(μ, σ) − θ*‖ over training of the linear-generator GAN on mixture1d, per schedule.

    Plain SGD (no momentum) at the same step size for both players and both schedules, as in
    the bilinear analysis; the trainer is :func:`fgan_bench.build.build_trainer`'s, trained
    with Keras ``fit`` (no final evaluation, to stay short).
    """
    import keras

    from fgan_bench import get_divergence
    from fgan_bench.build import build_trainer
    from fgan_bench.config import RunConfig
    from fgan_bench.datasets import get_dataset, training_batches
    from fgan_bench.distribute import make_strategy
    from fgan_bench.metrics.density import best_gaussian_fit

    dataset = get_dataset("mixture1d")
    # One start near the optimum keeps Nelder–Mead to a few seconds; GAN's fit has one minimum.
    best = best_gaussian_fit(get_divergence("gan"), dataset, starts=[(1.0, 1.5)])[0]
    rows = []
    for schedule in METHODS:

        class Trace(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None, schedule=schedule):
                layer = self.model.generator.get_layer("location_scale")
                mu, sigma = float(layer.mu.numpy()[0]), float(layer.sigma.numpy()[0])
                distance = math.hypot(mu - best["mu"], abs(sigma) - best["sigma"])
                rows.append((schedule, (epoch + 1) * log_every, mu, sigma, distance))

        config = RunConfig(
            divergence="gan",
            dataset="mixture1d",
            schedule=schedule,
            steps=steps,
            log_every=log_every,
            batch_size=256,
            optimizer="sgd",
            momentum=0.0,
            generator_lr=learning_rate,
            critic_lr=learning_rate,
            seed=seed,
        ).resolved()
        keras.utils.set_random_seed(seed)
        gan = build_trainer(config, make_strategy(config.strategy), dataset)
        data = training_batches(
            dataset,
            batch_size=config.batch_size,
            real_slots=gan.real_slots,
            noise_slots=gan.noise_slots,
            latent_dim=gan.latent_dim,
            seed=seed,
        )
        epochs = steps // log_every
        gan.fit(data, epochs=epochs, steps_per_epoch=log_every, callbacks=[Trace()], verbose=0, shuffle=False)
    frame = pd.DataFrame(rows, columns=["schedule", "step", "mu", "sigma", "distance_to_best_fit"])
    frame.attrs["best"] = best
    return frame


def plot(trajectories: pd.DataFrame, distances: pd.DataFrame | None, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 3 if distances is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4.5))
    for ax, method in zip(axes, METHODS, strict=False):
        for eta, run in trajectories[trajectories["method"] == method].groupby("step_size"):
            ax.plot(run["a"], run["b"], lw=0.8, label=f"η = {eta:g}")
        ax.plot([0], [0], "k*", ms=10)
        ax.set_title(f"{method} GDA on v(a, b) = ab")
        ax.set_xlabel("a (minimises)")
        ax.set_ylabel("b (maximises)")
        ax.set_aspect("equal", adjustable="datalim")
        ax.legend(fontsize=8)
    if distances is not None:
        ax = axes[2]
        for schedule, run in distances.groupby("schedule", sort=False):
            ax.plot(run["step"], run["distance_to_best_fit"], label=schedule)
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel("‖(μ, σ) − (μ*, σ*)‖")
        ax.set_title("GAN, mixture1d, linear generator")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="reports/bilinear_game")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--step-sizes", type=float, nargs="+", default=[0.05, 0.1, 0.2, 0.5])
    parser.add_argument("--gan-steps", type=int, default=1000, help="f-GAN diagnostic steps (0: skip)")
    parser.add_argument("--gan-lr", type=float, default=0.05, help="SGD step size of both players")
    parser.add_argument("--log-every", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    trajectories = pd.concat([play(m, eta, args.steps) for m in METHODS for eta in args.step_sizes], ignore_index=True)
    trajectories.to_csv(out / "trajectories.csv", index=False)
    table = growth_table(trajectories)
    print(f"radius growth per step over {args.steps} steps, from (a, b) = (1, 0.5):")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.6f}"))
    distances = None
    if args.gan_steps:
        distances = gan_distances(args.gan_steps, args.log_every, args.seed, args.gan_lr)
        distances.to_csv(out / "gan_distance.csv", index=False)
        best = distances.attrs["best"]
        print(f"\nGAN on mixture1d, linear generator: exact best fit μ* = {best['mu']:.4f}, σ* = {best['sigma']:.4f}")
        summary = distances.groupby("schedule", sort=False).agg(
            final_mu=("mu", "last"),
            final_sigma=("sigma", "last"),
            final_distance=("distance_to_best_fit", "last"),
            min_distance=("distance_to_best_fit", "min"),
            mean_distance_last_quarter=(
                "distance_to_best_fit",
                lambda d: float(np.mean(d.to_numpy()[-max(1, len(d) // 4) :])),
            ),
        )
        print(summary.to_string(float_format=lambda x: f"{x:.4f}"))
    plot(trajectories, distances, out / "trajectories.png")
    print(f"\nwrote {out / 'trajectories.csv'}, {out / 'trajectories.png'} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
