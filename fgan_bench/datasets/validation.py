"""Checks on data the user brings: what is refused before a run starts, and why.

Every check raises :class:`~fgan_bench.errors.DataError` (a one-line ``FganBenchError``) that
names the file and the fix. User data is refused when it is

* not read as numbers: a file that is not NumPy's ``.npy``/``.npz`` whatever its suffix says
  (a ``.npy`` file named ``.npz`` is read by its content), an empty file, an image that does
  not decode, complex or non-numeric values;
* empty: no examples (0 rows) or zero-sized examples;
* not finite: any NaN or ±inf (the message counts them);
* of absurd magnitude: any ``|value| > MAX_ABS_VALUE`` (10⁶; the message counts them) —
  the networks start at unit scale and such data makes every loss overflow; standardise it;
* images a DCGAN cannot make: sides that are not positive multiples of 4 (its two
  stride-2 layers), e.g. 2×2 "images".

Dataset parameters are checked against the builder's annotations
(:func:`coerce_parameters`): ``mixture1d:sigma1=abc`` is refused naming the parameter and
the type it expects.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from fgan_bench.errors import DataError, SpecError

#: Largest magnitude accepted in user data. Above it the data is almost surely not
#: standardised (or is a sentinel such as 1e30 for "missing"), and f-GAN losses overflow.
MAX_ABS_VALUE = 1e6

#: Image sides must be positive multiples of this (the DCGAN's two stride-2 layers).
IMAGE_SIDE_MULTIPLE = 4


def check_examples(data: Any, source: str) -> np.ndarray:
    """Returns ``data`` as a real array after refusing what cannot be trained on.

    Args:
        data: the examples, shape ``(n, ...)``.
        source: what the data is, for messages (a file or folder path).

    Raises:
        DataError: complex or non-numeric values, no examples, NaN/inf values, or values
            beyond :data:`MAX_ABS_VALUE`.
    """
    array = np.asarray(data)
    if np.iscomplexobj(array):
        raise DataError(f"{source}: holds complex values; pass real data (e.g. real and imaginary parts as features)")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise DataError(f"{source}: holds {array.dtype} values, not numbers; save a numeric array")
    if array.ndim == 0 or array.shape[0] == 0 or array.size == 0:
        raise DataError(f"{source}: holds no examples (array shape {array.shape}); save at least one row of data")
    finite = np.isfinite(array)
    if not finite.all():
        bad = int(array.size - np.count_nonzero(finite))
        raise DataError(f"{source}: {bad} of {array.size} values are NaN or infinite; remove or impute them")
    if array.size and not np.issubdtype(array.dtype, np.bool_):
        large = np.abs(array.astype(np.float64, copy=False)) > MAX_ABS_VALUE
        if large.any():
            raise DataError(
                f"{source}: {int(np.count_nonzero(large))} values exceed {MAX_ABS_VALUE:g} in magnitude "
                f"(largest {float(np.abs(array).max()):.3g}); "
                "standardise the data (subtract the mean, divide by the std)"
            )
    return array


def check_image_shape(shape: tuple[int, ...], source: str) -> None:
    """Refuses images whose sides a DCGAN cannot generate (``shape``: one image, H × W[ × C])."""
    height, width = shape[:2]
    if height % IMAGE_SIDE_MULTIPLE or width % IMAGE_SIDE_MULTIPLE or min(height, width) <= 0:
        raise DataError(
            f"{source}: {height}×{width} images; image sides must be multiples of {IMAGE_SIDE_MULTIPLE} "
            "(e.g. 8, 28, 32): "
            f"resize or pad them, or save shape (n, d) to train on them as vectors"
        )


def load_numpy_file(file, keys: tuple[str, ...] = ()) -> np.ndarray | Mapping[str, np.ndarray]:
    """The array in a ``.npy`` file, or the arrays of a ``.npz`` archive (as a dict), by content.

    NumPy reads either format whatever the suffix; pickled objects are never loaded.

    Raises:
        DataError: the file is empty or not a NumPy file.
    """
    try:
        loaded = np.load(file, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        reason = "it is empty" if _is_empty(file) else f"{type(error).__name__}: {error}"
        raise DataError(
            f"{file}: not a readable NumPy .npy/.npz file ({reason}); save the data with numpy.save or numpy.savez"
        ) from None
    if isinstance(loaded, np.ndarray):
        return loaded
    try:
        with loaded as archive:
            return {name: archive[name] for name in archive.files}
    except (ValueError, OSError, EOFError) as error:
        raise DataError(f"{file}: a damaged .npz archive ({error}); save it again with numpy.savez") from None


def _is_empty(file) -> bool:
    try:
        return file.stat().st_size == 0
    except (OSError, AttributeError):
        return False


def read_image(file) -> np.ndarray:
    """One image file as an array, or a one-line error naming it."""
    from matplotlib import image as mpimg

    try:
        return np.asarray(mpimg.imread(file), np.float32)
    except Exception as error:  # noqa: BLE001 - Pillow raises many types for a broken file
        reason = f"{type(error).__name__}: {error}"
        raise DataError(f"{file}: not a readable image ({reason}); remove or re-save it") from None


_TYPE_NAMES = {float: "a number", int: "an integer", str: "text"}


def coerce_parameters(build: Callable[..., Any], name: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Spec parameters converted to the builder's annotated types (``float``, ``int``, ``str``).

    A spec's values arrive as float or text (``mixture1d:sigma1=abc`` gives ``"abc"``).
    Parameters without a usable annotation pass unchanged.

    Raises:
        SpecError: naming the parameter and the type expected.
    """
    try:
        hints = typing.get_type_hints(build)
    except Exception:  # noqa: BLE001 - a plugin's unresolvable annotations: no coercion
        hints = {}
    parameters = inspect.signature(build).parameters
    coerced = dict(kwargs)
    for key, value in kwargs.items():
        expected = _plain_type(hints.get(key))
        if expected is None or value is None:
            continue
        if expected is float and isinstance(value, int | float) and not isinstance(value, bool):
            coerced[key] = float(value)
        elif expected is int and isinstance(value, int | float) and float(value).is_integer():
            coerced[key] = int(value)
        elif expected is str and isinstance(value, str):
            continue
        elif expected is str and isinstance(value, float):
            coerced[key] = f"{value:g}"
        else:
            default = parameters[key].default if key in parameters else inspect.Parameter.empty
            example = "" if default is inspect.Parameter.empty or default is None else f", e.g. {key}={default}"
            expects = _TYPE_NAMES[expected]
            raise SpecError(f"dataset {name!r}: parameter {key} expects {expects}, got {value!r}{example}")
    return coerced


def _plain_type(annotation) -> type | None:
    """``float``/``int``/``str`` from an annotation such as ``float`` or ``str | None``."""
    if annotation in _TYPE_NAMES:
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        plain = [a for a in typing.get_args(annotation) if a is not type(None)]
        return plain[0] if len(plain) == 1 and plain[0] in _TYPE_NAMES else None
    return None
