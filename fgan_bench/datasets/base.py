"""The :class:`Dataset` object: what the trainer, the models and the metrics need to know.

A dataset is either *synthetic* — an exact density as a TensorFlow Probability
distribution, sampled afresh every batch — or *finite*: an array of examples (images, a
user's file). Either way it knows its kind (``"vector"`` or ``"image"``), the shape of one
example and the range its values lie in (generators end in an activation matching it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np

from fgan_bench.registry import quote_value

Kind = Literal["vector", "image"]


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """One dataset.

    Args:
        name: registry name, e.g. ``"ring8"``.
        kind: ``"vector"`` (MLP models) or ``"image"`` (convolutional models).
        shape: the shape of one example, e.g. ``(2,)`` or ``(8, 8, 1)``.
        value_range: (low, high) bounds of the values; ``(-inf, inf)`` for unbounded data.
        description: one line.
        distribution: for synthetic data, a zero-argument function returning the exact
            density as a ``tfp.distributions.Distribution`` with event shape ``shape``.
        sampler: optional fast in-graph sampler ``(n, seed) -> tensor (n, *shape)`` with a
            stateless int32 seed of shape (2,); defaults to ``distribution().sample``.
        array: for finite data, the training examples, shape ``(n, *shape)``, float32 in
            ``value_range``.
        labels: class labels of ``array`` (integers), where the data has them.
        test_array: held-out examples the generator never trains on (metrics use them).
        test_labels: class labels of ``test_array``.
        modes: mixture component centres, where quality is "near a mode" (ring8, grid25).
        mode_std: the components' standard deviation.
        defaults: run options this dataset suggests (model, steps, learning rates, ...).
        parameters: parameter values of a parameterised dataset.
        fingerprint: for data read from the user's files, a short hash of their bytes
            (:func:`fgan_bench.datasets.fingerprint.content_fingerprint`); ``None`` otherwise.
    """

    name: str
    kind: Kind
    shape: tuple[int, ...]
    value_range: tuple[float, float]
    description: str = ""
    distribution: Callable[[], Any] | None = None
    sampler: Callable[[Any, Any], Any] | None = None
    array: np.ndarray | None = None
    labels: np.ndarray | None = None
    test_array: np.ndarray | None = None
    test_labels: np.ndarray | None = None
    modes: np.ndarray | None = None
    mode_std: float | None = None
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    fingerprint: str | None = None

    def __post_init__(self):
        if self.kind not in ("vector", "image"):
            raise ValueError(f"dataset {self.name!r}: kind must be 'vector' or 'image', got {self.kind!r}")
        if (self.distribution is None) == (self.array is None):
            raise ValueError(f"dataset {self.name!r}: give exactly one of distribution (synthetic) or array (finite)")
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))
        if self.array is not None:
            array = np.asarray(self.array, dtype=np.float32)
            if array.shape[1:] != self.shape:
                raise ValueError(
                    f"dataset {self.name!r}: array examples have shape {array.shape[1:]}, expected {self.shape}"
                )
            object.__setattr__(self, "array", array)
        if self.test_array is not None:
            test = np.asarray(self.test_array, dtype=np.float32)
            if test.shape[1:] != self.shape:
                raise ValueError(
                    f"dataset {self.name!r}: test examples have shape {test.shape[1:]}, expected {self.shape}"
                )
            object.__setattr__(self, "test_array", test)
        for field, examples in (("labels", self.array), ("test_labels", self.test_array)):
            labels = getattr(self, field)
            if labels is not None:
                labels = np.asarray(labels).astype(np.int64).reshape(-1)
                if examples is None or len(labels) != len(examples):
                    raise ValueError(f"dataset {self.name!r}: {field} must label each of its examples")
                object.__setattr__(self, field, labels)

    @property
    def synthetic(self) -> bool:
        """True when the exact density is known (and training data is sampled from it)."""
        return self.distribution is not None

    @property
    def dimension(self) -> int:
        return int(np.prod(self.shape))

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` examples as a NumPy array: fresh samples, or drawn from the finite array."""
        if self.synthetic:
            from fgan_bench._lazy import tf

            return np.asarray(self.draw(n, tf.constant([seed, 0], tf.int32)), dtype=np.float32)
        rng = np.random.default_rng(seed)
        return self.array[rng.choice(len(self.array), size=n, replace=n > len(self.array))]

    @property
    def labelled(self) -> bool:
        """True when training and held-out examples both carry class labels (classifier metrics)."""
        return self.labels is not None and self.test_labels is not None

    def held_out(self, n: int, seed: int = 0) -> np.ndarray:
        """Up to ``n`` real examples for evaluation, never trained on where the data allows.

        Synthetic data: ``n`` fresh samples from a seed stream training never uses. Finite
        data: the test split (all of it if smaller than ``n``), or the training examples
        when the data has no test split.
        """
        if self.synthetic:
            return self.sample(n, seed=seed + 1_000_003)
        pool = self.test_array if self.test_array is not None else self.array
        if len(pool) <= n:
            return pool
        return pool[np.random.default_rng(seed).choice(len(pool), size=n, replace=False)]

    def draw(self, n, seed):
        """``n`` fresh synthetic samples in-graph, from a stateless int32 seed of shape (2,)."""
        if self.sampler is not None:
            return self.sampler(n, seed)
        return self.distribution().sample(n, seed=seed)

    @property
    def spec(self) -> str:
        if not self.parameters:
            return self.name
        return f"{self.name}:" + ",".join(f"{k}={quote_value(v)}" for k, v in self.parameters.items())
