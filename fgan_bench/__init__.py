"""fgan-bench: a pluggable f-divergence benchmark suite for GANs.

Public API::

    import fgan_bench
    kl = fgan_bench.get_divergence("kl")
    fgan_bench.list_divergences()
    fgan_bench.register_divergence(my_divergence)      # validated first
    fgan_bench.validate_divergence(kl).ok
    fgan_bench.load_plugins(["divergences/"])

    result = fgan_bench.run(fgan_bench.RunConfig(divergence="kl", dataset="ring8"))
    fgan_bench.evaluate("ring8", samples)               # every default metric that applies
    fgan_bench.losses.GENERATOR_LOSSES                  # generator objectives, name → pure function
"""

from fgan_bench import losses
from fgan_bench.config import RunConfig
from fgan_bench.datasets import Dataset, get_dataset, list_datasets, register_dataset
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
from fgan_bench.evaluation import evaluate_run
from fgan_bench.metrics import Metric, evaluate, get_metric, list_metrics, register_metric
from fgan_bench.plugins import load_plugins
from fgan_bench.runner import run
from fgan_bench.trainer import FGAN

__version__ = "0.1.0"

__all__ = [
    "FGAN",
    "Dataset",
    "Divergence",
    "DivergenceFamily",
    "FganBenchError",
    "Interval",
    "InvalidDivergenceError",
    "Metric",
    "PluginError",
    "RegistrationError",
    "RunConfig",
    "SpecError",
    "UnknownNameError",
    "ValidationReport",
    "__version__",
    "evaluate",
    "evaluate_run",
    "get_dataset",
    "get_divergence",
    "get_metric",
    "list_datasets",
    "list_divergences",
    "list_metrics",
    "load_plugins",
    "losses",
    "register_dataset",
    "register_divergence",
    "register_metric",
    "run",
    "unregister_divergence",
    "validate_divergence",
]
