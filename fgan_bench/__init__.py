"""fgan-bench: a pluggable f-divergence benchmark suite for GANs.

Public API::

    import fgan_bench
    kl = fgan_bench.get_divergence("kl")
    fgan_bench.list_divergences()
    fgan_bench.register_divergence(my_divergence)      # validated first
    fgan_bench.validate_divergence(kl).ok
    fgan_bench.register_model(fgan_bench.Model(...))   # a generator/critic architecture
    fgan_bench.load_plugins(["divergences/"])

    result = fgan_bench.run(fgan_bench.RunConfig(divergence="kl", dataset="ring8"))
    fgan_bench.evaluate("ring8", samples)               # every default metric that applies
    gan = fgan_bench.FGAN(generator, critic, kl)       # a keras.Model
    fgan_bench.ConditionalFGAN(fgan_bench.conditional_generator(generator, 10),
                               fgan_bench.projection_critic(critic, 10), kl)   # G(z, y), V(x, y)
    fgan_bench.losses.GENERATOR_LOSSES                  # generator objectives, name → pure function
    fgan_bench.get_baseline("wgan_gp")                  # non-f baselines: WGAN-GP, hinge, LSGAN
    fgan_bench.register_baseline(fgan_bench.Baseline(...))   # checked first
    fgan_bench.verdicts.decide(scores, "lower")         # verdicts, intervals and P(best) of a comparison
    fgan_bench.aggregate.across_datasets(scores, direction_of)   # IQM and P(improvement) across datasets

The package is lazy, as Keras and SciPy are: each public name is imported from its module on
first use (module-level ``__getattr__``, PEP 562), so ``python -m fgan_bench list ...`` and
``--help`` answer without importing TensorFlow, while :class:`FGAN`, the callbacks and the
models are ordinary classes in modules that import Keras at the top. Importing the package
makes TensorFlow's later first import quiet (no CUDA, oneDNN or CPU-feature lines unless
``FGAN_BENCH_DEBUG=1``): a script imports ``fgan_bench`` before ``keras``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import fgan_bench._isolation  # noqa: F401 - first: under `python -m`, drop the working directory from sys.path
from fgan_bench._lazy import install_quiet_import
from fgan_bench._version import __version__

install_quiet_import()  # TensorFlow's first import, by anyone (a script's `import keras`), prints no start-up lines


#: Public name → the module that defines it.
_EXPORTS = {
    "RunConfig": "fgan_bench.config",
    "Baseline": "fgan_bench.baselines",
    "get_baseline": "fgan_bench.baselines",
    "list_baselines": "fgan_bench.baselines",
    "register_baseline": "fgan_bench.baselines",
    "unregister_baseline": "fgan_bench.baselines",
    "Dataset": "fgan_bench.datasets",
    "get_dataset": "fgan_bench.datasets",
    "list_datasets": "fgan_bench.datasets",
    "register_dataset": "fgan_bench.datasets",
    "Divergence": "fgan_bench.divergences",
    "DivergenceFamily": "fgan_bench.divergences",
    "Interval": "fgan_bench.divergences",
    "ValidationReport": "fgan_bench.divergences",
    "get_divergence": "fgan_bench.divergences",
    "list_divergences": "fgan_bench.divergences",
    "register_divergence": "fgan_bench.divergences",
    "unregister_divergence": "fgan_bench.divergences",
    "validate_divergence": "fgan_bench.divergences",
    "ConfigError": "fgan_bench.errors",
    "FganBenchError": "fgan_bench.errors",
    "InvalidDivergenceError": "fgan_bench.errors",
    "PluginError": "fgan_bench.errors",
    "RegistrationError": "fgan_bench.errors",
    "SpecError": "fgan_bench.errors",
    "UnknownNameError": "fgan_bench.errors",
    "evaluate_run": "fgan_bench.evaluation",
    "Metric": "fgan_bench.metrics",
    "cheap_metrics": "fgan_bench.metrics",
    "evaluate": "fgan_bench.metrics",
    "get_metric": "fgan_bench.metrics",
    "list_metrics": "fgan_bench.metrics",
    "metric_of_output": "fgan_bench.metrics",
    "register_metric": "fgan_bench.metrics",
    "Model": "fgan_bench.models",
    "get_model": "fgan_bench.models",
    "list_models": "fgan_bench.models",
    "register_model": "fgan_bench.models",
    "load_plugins": "fgan_bench.plugins",
    "PopulationTrainer": "fgan_bench.population",
    "register_stacked_layer": "fgan_bench.population",
    "run_population": "fgan_bench.population",
    "run": "fgan_bench.runner",
    "ResolvedRun": "fgan_bench.resolved",
    "RunResult": "fgan_bench.run_records",
    "Outcome": "fgan_bench.run_records",
    "RunDirectory": "fgan_bench.rundir",
    "FGAN": "fgan_bench.trainer",
    "ConditionalFGAN": "fgan_bench.conditional",
    "SemiSupervisedFGAN": "fgan_bench.semisupervised",
    "conditional_generator": "fgan_bench.models.conditional",
    "projection_critic": "fgan_bench.models.conditional",
    "classifier_critic": "fgan_bench.models.conditional",
    "balanced_subset": "fgan_bench.datasets.labels",
    "labelled_training_batches": "fgan_bench.datasets.labels",
}

__all__ = [
    "Baseline",
    "ConditionalFGAN",
    "ConfigError",
    "Dataset",
    "Divergence",
    "DivergenceFamily",
    "FGAN",
    "FganBenchError",
    "Interval",
    "InvalidDivergenceError",
    "Metric",
    "Model",
    "Outcome",
    "PluginError",
    "PopulationTrainer",
    "RegistrationError",
    "ResolvedRun",
    "RunConfig",
    "RunDirectory",
    "RunResult",
    "SemiSupervisedFGAN",
    "SpecError",
    "UnknownNameError",
    "ValidationReport",
    "__version__",
    "aggregate",
    "balanced_subset",
    "cheap_metrics",
    "classifier_critic",
    "conditional_generator",
    "evaluate",
    "evaluate_run",
    "get_baseline",
    "get_dataset",
    "get_divergence",
    "get_metric",
    "get_model",
    "list_baselines",
    "labelled_training_batches",
    "list_datasets",
    "list_divergences",
    "list_metrics",
    "list_models",
    "load_plugins",
    "losses",
    "metric_of_output",
    "objectives",
    "register_baseline",
    "projection_critic",
    "register_dataset",
    "register_divergence",
    "register_metric",
    "register_model",
    "register_stacked_layer",
    "run",
    "run_population",
    "stats",
    "unregister_baseline",
    "unregister_divergence",
    "validate_divergence",
    "verdicts",
]


#: Public submodules, imported on first use too.
_SUBMODULES = ("aggregate", "losses", "objectives", "stats", "verdicts")


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"fgan_bench.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fgan_bench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS, *_SUBMODULES})


if TYPE_CHECKING:  # for type checkers and IDEs; never run
    from fgan_bench.baselines import Baseline, get_baseline, list_baselines, register_baseline, unregister_baseline
    from fgan_bench.conditional import ConditionalFGAN
    from fgan_bench.config import RunConfig
    from fgan_bench.datasets import Dataset, get_dataset, list_datasets, register_dataset
    from fgan_bench.datasets.labels import balanced_subset, labelled_training_batches
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
        ConfigError,
        FganBenchError,
        InvalidDivergenceError,
        PluginError,
        RegistrationError,
        SpecError,
        UnknownNameError,
    )
    from fgan_bench.evaluation import evaluate_run
    from fgan_bench.metrics import (
        Metric,
        cheap_metrics,
        evaluate,
        get_metric,
        list_metrics,
        metric_of_output,
        register_metric,
    )
    from fgan_bench.models import Model, get_model, list_models, register_model
    from fgan_bench.models.conditional import classifier_critic, conditional_generator, projection_critic
    from fgan_bench.plugins import load_plugins
    from fgan_bench.population import PopulationTrainer, register_stacked_layer, run_population
    from fgan_bench.resolved import ResolvedRun
    from fgan_bench.run_records import Outcome, RunResult
    from fgan_bench.rundir import RunDirectory
    from fgan_bench.runner import run
    from fgan_bench.semisupervised import SemiSupervisedFGAN
    from fgan_bench.trainer import FGAN
