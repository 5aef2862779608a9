"""fgan-bench: a pluggable f-divergence benchmark suite for GANs.

Public API::

    import fgan_bench
    kl = fgan_bench.get_divergence("kl")
    fgan_bench.list_divergences()
    fgan_bench.register_divergence(my_divergence)      # validated first
    fgan_bench.validate_divergence(kl).ok
    fgan_bench.load_plugins(["divergences/"])
"""

from fgan_bench.divergences import (
    Divergence,
    DivergenceFamily,
    Interval,
    ValidationReport,
    get_divergence,
    list_divergences,
    register_divergence,
    unregister_divergence,
    validate_divergence,
)
from fgan_bench.errors import (
    FganBenchError,
    InvalidDivergenceError,
    PluginError,
    RegistrationError,
    SpecError,
    UnknownNameError,
)
from fgan_bench.plugins import load_plugins

__version__ = "0.1.0"

__all__ = [
    "Divergence",
    "DivergenceFamily",
    "FganBenchError",
    "Interval",
    "InvalidDivergenceError",
    "PluginError",
    "RegistrationError",
    "SpecError",
    "UnknownNameError",
    "ValidationReport",
    "__version__",
    "get_divergence",
    "list_divergences",
    "load_plugins",
    "register_divergence",
    "unregister_divergence",
    "validate_divergence",
]
