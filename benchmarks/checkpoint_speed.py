"""Checkpoint speed: ms per ``checkpoint.weights.h5``, Keras' ``save_weights`` against
:class:`fgan_bench.weights_file.WeightsFile` (the same file, written with h5py).

    python benchmarks/checkpoint_speed.py [--repeats 30]

For the ring8 MLP FGAN and the DCGAN on digits (default sizes), each trained a few steps so
that its optimizers are built: the two writers alternate, one call each per repeat, into a
temporary folder (the writer's call only: the fsync and rename of a checkpoint are the same
for both). Prints the median and min–max per writer, their ratio, whether the two files hold
the same groups, attrs and datasets, and ``os.getloadavg()`` before and after (the machine's
load moves these figures).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import h5py  # noqa: E402
import numpy as np  # noqa: E402

from fgan_bench.build import build_trainer  # noqa: E402
from fgan_bench.config import RunConfig  # noqa: E402
from fgan_bench.datasets import get_dataset, training_batches  # noqa: E402
from fgan_bench.distribute import make_strategy  # noqa: E402
from fgan_bench.weights_file import WeightsFile  # noqa: E402

MODELS = {"ring8 MLP FGAN": dict(dataset="ring8"), "digits DCGAN": dict(dataset="digits")}


def _trained(options: dict):
    config = RunConfig(divergence="kl", steps=10, steps_per_execution=1, **options).resolved()
    gan = build_trainer(config, make_strategy("default"))
    data = training_batches(get_dataset(config.dataset), batch_size=config.batch_size, real_slots=gan.real_slots,
                            noise_slots=gan.noise_slots, latent_dim=gan.latent_dim, seed=0)
    gan.fit(data, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    return gan


def _contents(path: Path) -> dict:
    found = {}

    def visit(name, item):
        value = np.asarray(item[()]).tobytes() if isinstance(item, h5py.Dataset) else None
        found[name] = (dict(item.attrs), value)

    with h5py.File(path, "r") as file:
        file.visititems(visit)
    return found


def _milliseconds(write, path: Path) -> float:
    started = time.perf_counter()
    write(path)
    return 1000 * (time.perf_counter() - started)


def _summary(times: list[float]) -> str:
    return f"{statistics.median(times):6.1f} ms ({min(times):.1f}–{max(times):.1f})"


def _measure(name: str, gan, repeats: int, folder: Path) -> None:
    fast = WeightsFile(gan)
    writers = {"save_weights": gan.save_weights, "WeightsFile": fast.write}
    paths = {w: folder / f"{w}.weights.h5" for w in writers}
    for writer, write in writers.items():  # first calls (imports, caches) are not measured
        write(paths[writer])
    times: dict[str, list[float]] = {w: [] for w in writers}
    for _ in range(repeats):
        for writer, write in writers.items():
            times[writer].append(_milliseconds(write, paths[writer]))
    same = _contents(paths["save_weights"]) == _contents(paths["WeightsFile"])
    ratio = statistics.median(times["save_weights"]) / statistics.median(times["WeightsFile"])
    print(f"{name} ({len(_contents(paths['WeightsFile']))} groups and datasets, "
          f"h5py replay: {'yes' if fast.replays else 'no, fallback'}):")
    for writer in writers:
        print(f"  {writer:<13} {_summary(times[writer])}")
    print(f"  {'ratio':<13} {ratio:6.1f}x   same file: {'yes' if same else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    trained = {name: _trained(options) for name, options in MODELS.items()}
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"ms per checkpoint, median (min–max) of {args.repeats} alternating calls each:")
    with tempfile.TemporaryDirectory() as folder:
        for name, gan in trained.items():
            _measure(name, gan, args.repeats, Path(folder))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
