"""A model's ``.weights.h5`` file, written with h5py in Keras' own layout: the fast checkpoint.

Keras 3's ``model.save_weights`` walks the whole object graph in Python on every call
(``saving_lib.save_weights_only`` → ``_save_state`` → ``H5IOStore``): ~50 ms for the ring8
MLP trainer, where writing its ~40 arrays with h5py takes a few. :class:`WeightsFile` walks the
graph once: it runs Keras' own ``saving_lib._save_state(model, weights_store=<recorder>, ...)``
with a store (:class:`_Recorder`) that opens no file and records, in order, each entry —
its path, its metadata attrs, the ``(key, value)`` pairs its object's ``save_own_variables``
assigns — and then :meth:`WeightsFile.write` replays the same h5py calls ``H5IOStore`` makes,
with each variable's value read at write time:

* an entry with metadata (Keras passes ``{"name": saveable.name}``) creates the group
  ``<path>/vars`` (root: ``vars``) at once and sets the attrs on it; an entry without is
  created at its first value only, without attrs (so an object that stores nothing and has no
  name leaves no group);
* each value is ``keras.ops.convert_to_numpy(variable)`` (what ``H5IOStore.__setitem__``
  does; on TensorFlow read by ``ReadVariableOp`` on each variable's handle, checked once to
  give the same arrays: :func:`_reader`), stored as ``vars[key] = value``; a bfloat16 value
  is ``create_dataset`` with the attr ``dtype = "bfloat16"``, as Keras does.

The file is the one ``model.save_weights`` writes: the same groups, attrs, dataset names,
dtypes, shapes and values (``tests/test_weights_file.py`` compares them with h5py).

What is relied on from Keras (private, checked at Keras 3.15): ``saving_lib._save_state``'s
signature and that it accepts any ``H5IOStore`` subclass; the store protocol (``make(path,
metadata)``, then ``store[key] = value``; truthiness); ``BaseOptimizer.save_own_variables``
storing ``variables[i].numpy()`` under ``str(i)`` (an optimizer's values are arrays, not
variables: an entry whose path names an optimizer attribute of the model — ``_save_state``
names an object's children by attribute — and whose arrays equal that optimizer's variables
is mapped to them). Anything else — a value that is not a variable (a constant some layer
stores), a store method the recorder lacks (``keys``, ``__contains__``...: it raises), the
recording raising or those private names moving because Keras' internals changed — makes
:meth:`WeightsFile.write` call ``model.save_weights`` for that model instead, silently: the
file is the same either way. The layout is learnt again when the model's or an optimizer's
variable count changes (an optimizer built later).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import h5py
import keras
import numpy as np

try:
    from keras.src.optimizers.base_optimizer import BaseOptimizer
    from keras.src.saving import saving_lib

    _Store = saving_lib.H5IOStore
except ImportError:  # Keras moved them: every write is ``model.save_weights``
    BaseOptimizer, saving_lib, _Store = type(None), None, object


@dataclass
class _Entry:
    """One ``H5IOStore.make(path, metadata)`` and the values set on it, in order."""

    path: str
    metadata: dict | None
    values: list[tuple[str, object]] = field(default_factory=list)


class _Recorder(_Store):
    """An ``H5IOStore`` (``_save_state`` type-checks it) that opens no file and records entries.

    ``__init__`` does not call the parent's (which opens the HDF5 file); the parent's other
    methods need the file or an entry group, absent here, so they raise (→ the fallback)."""

    def __init__(self):  # noqa: D107 - no file
        self.mode = "w"
        self.entries: list[_Entry] = []

    def __bool__(self):
        return True

    def make(self, path, metadata=None):
        self.entries.append(_Entry(path, dict(metadata) if metadata else None))
        return self

    def __setitem__(self, key, value):
        self.entries[-1].values.append((key, value))


class _CannotReplay(Exception):
    """The recorded layout holds something :meth:`WeightsFile.write` cannot read again."""


def _owner(model, path: str):
    """The object at ``path`` (``a/b``: ``model.a.b``), or None."""
    owner = model
    for name in filter(None, path.split("/")):
        owner = getattr(owner, name, None)
    return owner


def _optimizer_variables(model, entry: _Entry) -> list:
    """The variables behind an optimizer entry's arrays (``BaseOptimizer.save_own_variables``
    stores ``variables[i].numpy()``, an array or a NumPy scalar, under ``str(i)``), checked key by key
    and value by value."""
    optimizer = _owner(model, entry.path)
    if not isinstance(optimizer, BaseOptimizer) or (
            type(optimizer).save_own_variables is not BaseOptimizer.save_own_variables):
        raise _CannotReplay(f"{entry.path}: values that are not variables")
    variables = list(optimizer.variables)
    if [key for key, _ in entry.values] != [str(i) for i in range(len(variables))]:
        raise _CannotReplay(f"{entry.path}: keys that are not the optimizer's variables")
    for (_, value), variable in zip(entry.values, variables, strict=True):
        current = keras.ops.convert_to_numpy(variable)
        if not isinstance(value, np.ndarray | np.generic) or value.dtype != current.dtype or (
                not np.array_equal(value, current)):
            raise _CannotReplay(f"{entry.path}: a value that is not its variable's")
    return variables


def _with_variables(model, entry: _Entry) -> _Entry:
    """The entry with every value a variable (an optimizer's arrays mapped to its variables)."""
    if all(isinstance(value, keras.Variable) for _, value in entry.values):
        return entry
    variables = _optimizer_variables(model, entry)
    return _Entry(entry.path, entry.metadata, [(key, v) for (key, _), v in zip(entry.values, variables, strict=True)])


def _learn(model) -> list[_Entry] | None:
    """Keras' layout of ``model``'s weights file with a variable per value; None if it cannot be replayed."""
    if saving_lib is None:
        return None
    recorder = _Recorder()
    try:
        saving_lib._save_state(model, weights_store=recorder, assets_store=None, inner_path="",
                               visited_saveables=set())
        return [_with_variables(model, entry) for entry in recorder.entries]
    except Exception:  # noqa: BLE001 - Keras internals changed, or a value to fall back for
        return None


def _optimizers(model, entries: list[_Entry] | None) -> list:
    return [o for o in (_owner(model, e.path) for e in entries or ()) if isinstance(o, BaseOptimizer)]


def _variable_counts(model, optimizers: list) -> tuple[int, ...]:
    return (len(model.weights), *(len(o.variables) for o in optimizers))


def _set(group: h5py.Group, key: str, value: np.ndarray) -> None:
    """``H5IOStore.__setitem__``: a bfloat16 value is stored with a ``dtype`` attr."""
    if keras.backend.standardize_dtype(value.dtype) == "bfloat16":
        group.create_dataset(key, data=value).attrs["dtype"] = "bfloat16"
    else:
        group[key] = value


def _each(variables: list) -> list[np.ndarray]:
    """``keras.ops.convert_to_numpy`` of each variable: what ``H5IOStore.__setitem__`` stores."""
    return [keras.ops.convert_to_numpy(v) for v in variables]


def _reader(variables: list) -> Callable[[], list[np.ndarray]]:
    """The variables' values as NumPy: on TensorFlow one ``tf.raw_ops.ReadVariableOp`` per
    variable on its resource handle (taken once, here: ~0.6 ms for the ring8 trainer's 42, where
    ``convert_to_numpy``'s read, identity and copy take ~4.5 ms), else one by one (:func:`_each`);
    also :func:`_each` if those reads do not give exactly its arrays (dtype, shape, values;
    checked once, here) or cannot be made (a variable without a handle: autocast, a strategy's)."""
    each = functools.partial(_each, variables)
    if keras.backend.backend() != "tensorflow" or not variables:
        return each
    import tensorflow as tf

    def read_handles() -> list[np.ndarray]:
        return [tf.raw_ops.ReadVariableOp(resource=handle, dtype=dtype).numpy() for handle, dtype in handles]

    try:
        handles = [(v.value.handle, v.value.dtype) for v in variables]
        same = all(a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
                   for a, b in zip(read_handles(), each(), strict=True))
    except Exception:  # noqa: BLE001 - no handle, or a read TensorFlow refuses
        same = False
    return read_handles if same else each


def _new_group(file: h5py.File, path: str, metadata: dict | None) -> h5py.Group:
    """``H5IOStore._create_h5_group``: ``vars`` at the root, else ``<path>/vars``, with the metadata attrs."""
    group = file.create_group("vars") if not path else file.create_group(path).create_group("vars")
    for name, value in (metadata or {}).items():
        group.attrs[name] = value
    return group


def _replay(entries: list[_Entry], values: list[np.ndarray], path: str | os.PathLike) -> None:
    """``H5IOStore``'s calls for ``entries``, in order, with ``values`` (one per variable, in order)."""
    values = iter(values)
    with h5py.File(path, mode="w") as file:
        for entry in entries:
            group = _new_group(file, entry.path, entry.metadata) if entry.metadata else None
            for key, _ in entry.values:
                if group is None:
                    group = _new_group(file, entry.path, None)
                _set(group, key, next(values))


class WeightsFile:
    """Writes ``model.save_weights(path)``'s file, the layout learnt once (see the module docstring)."""

    def __init__(self, model):
        self.model = model
        self._learn()

    def _learn(self) -> None:
        self.entries = _learn(self.model)
        self._optimizers = _optimizers(self.model, self.entries)
        self._counts = _variable_counts(self.model, self._optimizers)
        self._read = _reader([variable for entry in self.entries or () for _, variable in entry.values])

    @property
    def replays(self) -> bool:
        """True when :meth:`write` writes with h5py; False when it calls ``model.save_weights``."""
        return self.entries is not None

    def write(self, path: str | os.PathLike) -> None:
        """Writes the weights file at ``path`` (a ``.weights.h5`` name, as Keras requires)."""
        if _variable_counts(self.model, self._optimizers) != self._counts:
            self._learn()
        if self.entries is None:
            self.model.save_weights(path)
        else:
            _replay(self.entries, self._read(), path)
