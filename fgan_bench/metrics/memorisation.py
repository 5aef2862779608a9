"""Memorisation: are generated samples closer to the training split than to held-out data?

A generator that copies its training examples (a failure the GAN lecture notes name) can
score well on every distance to the data distribution. Its tell: generated samples lie
closer to *training* examples than to equally many *held-out* examples of the same
distribution. With n training and n held-out examples (the same n, so nearest-neighbour
distances are comparable), for each generated sample x:

    d_train(x) = min_i ‖x − train_i‖,     d_held_out(x) = min_j ‖x − held_out_j‖.

Outputs:

* ``memorisation_share``: the share of samples with d_train < d_held_out — about ½ for a
  generator of the true distribution, 1 for one that copies training examples;
* ``memorisation_ratio``: median d_train / median d_held_out — about 1, → 0 when copying;
* ``memorisation_p_value``: the one-sided binomial test of share > ½ (small: memorising).
  With thousands of samples a mild preference for the training split is already
  significant, so read the share and ratio too.

Applies to finite data with a held-out split (images, a user's file with a test split).
Distances are Euclidean in the data space (pixels for images), by scikit-learn's exact
nearest neighbours.
"""

from __future__ import annotations

import numpy as np


def nearest_distances(reference: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Euclidean distance from each query to its nearest row of ``reference``."""
    from sklearn.neighbors import NearestNeighbors

    reference = np.asarray(reference, np.float64).reshape(len(reference), -1)
    queries = np.asarray(queries, np.float64).reshape(len(queries), -1)
    distances, _ = NearestNeighbors(n_neighbors=1).fit(reference).kneighbors(queries)
    return distances[:, 0]


def memorisation(train: np.ndarray, held_out: np.ndarray, fake: np.ndarray, *, seed: int = 0) -> dict[str, float]:
    """``memorisation_share``, ``memorisation_ratio`` and ``memorisation_p_value`` (see the module).

    The larger of ``train`` and ``held_out`` is subsampled (seeded) to the smaller's size.
    """
    from scipy import stats

    rng = np.random.default_rng(seed)
    size = min(len(train), len(held_out))
    train = train[rng.choice(len(train), size, replace=False)] if len(train) > size else train
    held_out = held_out[rng.choice(len(held_out), size, replace=False)] if len(held_out) > size else held_out
    to_train, to_held_out = nearest_distances(train, fake), nearest_distances(held_out, fake)
    closer = int(np.sum(to_train < to_held_out))
    median_held_out = float(np.median(to_held_out))
    return {
        "memorisation_share": closer / len(fake),
        "memorisation_ratio": float(np.median(to_train)) / median_held_out if median_held_out > 0 else float("nan"),
        "memorisation_p_value": float(stats.binomtest(closer, len(fake), 0.5, alternative="greater").pvalue),
    }
