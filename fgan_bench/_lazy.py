"""Deferred imports of TensorFlow, TensorFlow Probability and Keras.

Importing TensorFlow costs seconds. The command line must answer ``--help``, list
divergences and reject bad options before paying that, so modules that only *call*
these libraries at run time refer to them through a :class:`DeferredModule`: a stand-in
that imports the real module on its first attribute access and forwards every attribute
to it. (The standard library's ``importlib.util.LazyLoader`` was tried first; TensorFlow
Probability's and Keras' own lazy sub-module tricks break under it.)
"""

from __future__ import annotations

import importlib
import os
import types
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class DeferredModule(types.ModuleType):
    """Module ``name``, imported on first attribute access."""

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attribute)


tf = DeferredModule("tensorflow")
tfp = DeferredModule("tensorflow_probability")
keras = DeferredModule("keras")
