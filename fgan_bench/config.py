"""The complete configuration of one training run, its validation and its identity.

:class:`RunConfig` holds every option of ``python -m fgan_bench run``; each field carries an
:class:`Option` (help, choices, value check, how its default is stated), from which the
command line's ``run`` flags are generated. Options left ``None`` are filled from the
dataset's suggestions, the model's and the global defaults by :meth:`resolved`;
the resolved config is what ``config.json`` stores, so re-running from it reproduces the
run. Validation happens here, before TensorFlow starts: every error is a
:class:`~fgan_bench.errors.ConfigError` (option, value, reason).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from fgan_bench import distribute, losses, objectives
from fgan_bench.baselines import is_baseline
from fgan_bench.datasets import Dataset, get_dataset
from fgan_bench.datasets.fingerprint import run_id_label
from fgan_bench.datasets.labels import label_problem
from fgan_bench.divergences import get_divergence
from fgan_bench.errors import ConfigError, FganBenchError
from fgan_bench.models.base import MODEL_OPTIONS
from fgan_bench.plugins import content_fingerprint

if TYPE_CHECKING:
    from fgan_bench.resolved import ResolvedRun

#: Defaults by data kind, used where neither the user, the model nor the dataset chose. The
#: vector defaults are one setting for every divergence, chosen on ring8 (see the README's table).
KIND_DEFAULTS: dict[str, dict[str, Any]] = {
    "vector": {
        "model": "mlp",
        "steps": 10000,
        "batch_size": 256,
        "latent_dim": 16,
        "generator_lr": 2e-4,
        "critic_lr": 2e-4,
        "num_samples": 2500,
        "optimizer": "adam",
        "clip_norm": 1.0,
    },
    "image": {
        "model": "dcgan",
        "steps": 3000,
        "batch_size": 64,
        "latent_dim": 32,
        "generator_lr": 2e-4,
        "critic_lr": 2e-4,
        "num_samples": 10000,
        "optimizer": "adam",
        "clip_norm": 0.0,
    },
}
#: Defaults for every kind of data, unless a baseline publishes its own (WGAN-GP: alternating, 5, 0, 0.9).
TRAINING_DEFAULTS: dict[str, Any] = {"schedule": "simultaneous", "critic_steps": 1, "beta1": 0.5, "beta2": 0.999}
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("simultaneous", "alternating")
_FILL = (
    "model",
    "steps",
    "batch_size",
    "latent_dim",
    "width",
    "depth",
    "filters",
    "generator_lr",
    "critic_lr",
    "num_samples",
    "optimizer",
    "clip_norm",
    *TRAINING_DEFAULTS,
)


# Value checks: each returns the reason a value is invalid, or None.
def _positive(value) -> str | None:
    return None if value > 0 else "must be positive"


def _at_least_zero(value) -> str | None:
    return None if value >= 0 else "must be ≥ 0"


def _unit_interval(value) -> str | None:
    return None if 0 <= value < 1 else "must be in [0, 1)"


def _seed(value) -> str | None:
    return None if 0 <= value < 2**32 else "must be in [0, 2**32)"


@dataclasses.dataclass(frozen=True)
class Option:
    """How a :class:`RunConfig` field is typed, documented, checked and offered on the command line.

    Args:
        help: one line for ``run --help``.
        group: the ``--help`` section.
        choices: the allowed values (a callable: looked up when needed, e.g. a registry).
        check: ``value -> reason or None``, applied to every value that is set.
        default_text: how ``--help`` states a default that depends on the data or model.
        identity: part of the run's identity (its id hash); output-only options are not.
        identity_when_set: part of it only when set (not at its default), so that adding the
            option kept the ids of the runs made before.
        cli: offered as a ``run`` flag.
    """

    help: str
    group: str = "training"
    choices: tuple[str, ...] | Callable[[], Sequence[str]] | None = None
    check: Callable[[Any], str | None] | None = None
    default_text: str | None = None
    identity: bool = True
    cli: bool = True
    identity_when_set: bool = False


def option(default, help: str, **kwargs) -> Any:  # noqa: A002 - mirrors argparse
    return dataclasses.field(default=default, metadata={"option": Option(help, **kwargs)})


def _by_kind(name: str, model_note: bool = True) -> str:
    """``"10000 (vector data) / 3000 (images), 20000 with --model linear"``: a default that depends on the data."""
    text = f"{KIND_DEFAULTS['vector'][name]:g} (vector data) / {KIND_DEFAULTS['image'][name]:g} (images)" \
        if not isinstance(KIND_DEFAULTS["vector"][name], str) else \
        f"{KIND_DEFAULTS['vector'][name]} (vector data) / {KIND_DEFAULTS['image'][name]} (images)"
    if model_note:
        from fgan_bench.models import LINEAR_DEFAULTS

        if name in LINEAR_DEFAULTS:
            text += f", {LINEAR_DEFAULTS[name]:g} with --model linear"
    return text


def _or_baseline(name: str) -> str:
    """``0.5; a baseline's published value (see: list baselines)``."""
    return f"{TRAINING_DEFAULTS[name]}; a baseline's published value (see: list baselines)"


def _model_names() -> Sequence[str]:
    from fgan_bench.models import list_models

    return list_models()


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Every option of a training run (``None``: the dataset's, the model's or the global default)."""

    divergence: str = option(None, "divergence spec, e.g. reverse_kl, alpha:0.5, or a non-f baseline: wgan_gp, "
                             "hinge, lsgan (required)", group="data",
                             default_text="none: required")
    dataset: str = option("ring8", "dataset spec: ring8, grid25, spiral, mixture1d, digits, mnist5k, mnist, "
                          "fashion_mnist, ring8_pacgan, grid25_pacgan, tfds:NAME, file:path=FILE (see: list datasets)",
                          group="data")
    steps: int | None = option(None, "training steps (generator updates)", check=_positive,
                               default_text=_by_kind("steps"))
    batch_size: int | None = option(None, "examples per batch", check=_positive,
                                    default_text=_by_kind("batch_size"))
    latent_dim: int | None = option(None, "generator noise dimension", group="model", check=_positive,
                                    default_text=_by_kind("latent_dim", model_note=False)
                                    + ", the data's dimension with --model linear")
    model: str | None = option(None, "generator/critic architecture (see: list models)", group="model",
                               choices=_model_names,
                               default_text="mlp (vector data) / dcgan (images); linear for mixture1d")
    width: int | None = option(None, "MLP hidden units", group="model", check=_positive, default_text="128 (mlp)")
    depth: int | None = option(None, "MLP hidden layers", group="model", check=_at_least_zero,
                               default_text="2 (mlp)")
    filters: int | None = option(None, "DCGAN base filters", group="model", check=_positive,
                                 default_text="64 (dcgan)")
    optimizer: str | None = option(None, "optimizer of both networks", choices=OPTIMIZERS,
                                   default_text="adam")
    generator_lr: float | None = option(None, "generator learning rate", check=_positive,
                                        default_text=_by_kind("generator_lr"))
    critic_lr: float | None = option(None, "critic learning rate", check=_positive,
                                     default_text=_by_kind("critic_lr"))
    beta1: float | None = option(None, "Adam's β₁", check=_unit_interval, default_text=_or_baseline("beta1"))
    beta2: float | None = option(None, "Adam's β₂", check=_unit_interval, default_text=_or_baseline("beta2"))
    momentum: float = option(0.9, "SGD momentum", check=_unit_interval)
    clip_norm: float | None = option(None, "clip each network's gradient to this global norm; 0: none",
                                     check=_at_least_zero, default_text=_by_kind("clip_norm"))
    objective: str = option("saddle", "generator objective (maximum_likelihood minimises KL(P‖Q), log_ratio "
                            "KL(Q‖P))", choices=losses.OBJECTIVES)
    generator_divergence: str | None = option(
        None, "divergence spec the generator minimises through the critic's density ratio (Poole et al., 2016; "
        "saddle/nonsaturating)", default_text="the critic's own")
    schedule: str | None = option(None, "simultaneous (f-GAN single-step) or alternating", choices=SCHEDULES,
                                  default_text=_or_baseline("schedule"))
    critic_steps: int | None = option(None, "critic updates per generator update (alternating)", check=_positive,
                                      default_text=_or_baseline("critic_steps"))
    seed: int = option(0, "random seed", check=_seed)
    conditional: bool = option(False, "conditional f-GAN: G(z, y) and a projection critic V(x, y) on labelled data "
                               "(docs/conditional.md)", group="data", identity_when_set=True)
    labelled: int = option(0, "semi-supervised f-GAN: a K-class critic trained with a class-balanced subset of "
                           "N labels (0: off)", group="data", check=_at_least_zero, identity_when_set=True)
    strategy: str = option("default", "tf.distribute strategy (multiworker: from TF_CONFIG)", group="execution",
                           choices=distribute.STRATEGIES)
    mixed_precision: bool = option(False, "mixed_bfloat16 compute", group="execution")
    jit: bool = option(False, "XLA-compile the training step", group="execution")
    steps_per_execution: int = option(50, "training steps per tf.function call", group="execution",
                                      check=_positive)
    log_every: int | None = option(None, "steps per metrics row and checkpoint", group="execution",
                                   check=_positive, default_text="steps/20 (about 20 rows)")
    num_samples: int | None = option(None, "final samples to save and evaluate", group="execution",
                                     check=_positive, default_text=_by_kind("num_samples", model_note=False))
    eval_every: int = option(0, "evaluate the metrics every N steps too (0: at the end only)", group="execution",
                             check=_at_least_zero)
    metrics: tuple[str, ...] = option((), "the metrics evaluated: registered metric names (all their outputs) or "
                                      "metric outputs (true_jensen_shannon: only it); empty: every default metric "
                                      "that applies (a protocol's search trials: docs/protocol.md)",
                                      group="execution", default_text="every default metric that applies",
                                      identity=False, cli=False)
    tensorboard: bool = option(False, "write TensorBoard scalars and sample images to <run>/tensorboard/",
                               group="output", identity=False)
    isolate: bool = option(False, "sweeps: train this run in a fresh process of its own", identity=False,
                           cli=False)
    population: int = option(1, "sweeps: train up to this many compatible runs in one compiled step "
                             "(see docs/population.md)", check=_positive, identity=False, cli=False)
    plugins: tuple[str, ...] = option((), "plugin paths the run needs", cli=False)

    def check_types(self) -> None:
        """Every set value has its field's type (a TOML string where a number belongs fails here)."""
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None:
                continue
            expected = _field_type(field)
            if expected is bool:
                ok = isinstance(value, bool)
            elif expected is int:
                ok = isinstance(value, int) and not isinstance(value, bool)
            elif expected is float:
                ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            elif expected is str:
                ok = isinstance(value, str)
            else:
                ok = isinstance(value, tuple | list) and all(isinstance(v, str) for v in value)
            if not ok:
                noun = {bool: "true or false", int: "an integer", float: "a finite number", str: "a string"}
                listed = "a list of paths" if field.name == "plugins" else "a list of names"
                raise ConfigError(field.name, value, f"must be {noun.get(expected, listed)}")

    def resolved(self) -> RunConfig:
        """Validates the options and fills every ``None``; raises a one-line ConfigError."""
        return self.resolve().config

    def resolved_with_dataset(self) -> tuple[RunConfig, Dataset]:
        """:meth:`resolved`, and the :class:`Dataset` it resolved."""
        run = self.resolve()
        return run.config, run.dataset

    def resolve(self) -> ResolvedRun:
        """The run resolved once: these options validated with every ``None`` filled, and the
        dataset, divergence, generator divergence and model they name, built once to be handed
        down (:class:`~fgan_bench.resolved.ResolvedRun`); raises a one-line ConfigError."""
        from fgan_bench.models import get_model
        from fgan_bench.resolved import ResolvedRun

        self.check_types()
        divergence, generator_divergence = self._resolved_losses()
        try:
            dataset = get_dataset(self.dataset)
        except FganBenchError as error:
            raise ConfigError("dataset", self.dataset, str(error)) from None
        if (reason := label_problem(dataset, conditional=self.conditional, labelled=self.labelled)) is not None:
            raise ConfigError("labelled" if self.labelled else "conditional",
                              self.labelled or self.conditional, reason)
        model_name = self.model or dataset.defaults.get("model") or KIND_DEFAULTS[dataset.kind]["model"]
        try:
            model = get_model(model_name)
        except FganBenchError as error:
            raise ConfigError("model", model_name, str(error)) from None
        if model.kind != dataset.kind:
            raise ConfigError(
                "model", model_name,
                f"dataset {dataset.name!r} is {dataset.kind} data but model {model_name!r} is for "
                f"{model.kind} data; use --model {KIND_DEFAULTS[dataset.kind]['model']}",
            )
        for name in MODEL_OPTIONS:
            if getattr(self, name) is not None and name not in model.options:
                raise ConfigError(name, getattr(self, name), f"does not apply to model {model_name!r}")
        defaults = {**TRAINING_DEFAULTS, **KIND_DEFAULTS[dataset.kind], **model.defaults, **dataset.defaults,
                    **getattr(divergence, "run_defaults", {}), "model": model_name}
        values = {
            name: getattr(self, name) if getattr(self, name) is not None else defaults.get(name) for name in _FILL
        }
        for name in MODEL_OPTIONS:
            if name not in model.options:
                values[name] = None  # so that a resolved config resolves again to itself
        if model.latent_is_data_dimension:
            values["latent_dim"] = dataset.dimension
        spe = 1 if self.strategy in ("mirrored", "multiworker") else self.steps_per_execution
        if isinstance(values["steps"], int) and values["steps"] > 0 and spe > 0:
            log_every = self.log_every or _default_log_every(values["steps"], spe)
        else:
            log_every = self.log_every
        config = dataclasses.replace(
            self,
            divergence=divergence.spec,
            generator_divergence=None if generator_divergence is None else generator_divergence.spec,
            dataset=dataset.spec,
            log_every=log_every,
            steps_per_execution=min(spe, log_every or spe),
            plugins=tuple(self.plugins),
            **values,
        )
        config.check()
        _check_metrics(config.metrics, dataset)
        return ResolvedRun(config, dataset, divergence, generator_divergence, model)

    def _resolved_losses(self):
        """The divergence or baseline, and the generator's divergence, after checking they go together."""
        if self.divergence is None:
            raise ConfigError("divergence", None, "is required, e.g. reverse_kl (see: list divergences)")
        try:
            divergence = objectives.resolve(self.divergence)
        except FganBenchError as error:
            raise ConfigError("divergence", self.divergence, str(error)) from None
        try:
            generator_divergence = None if self.generator_divergence is None else get_divergence(
                self.generator_divergence)
        except FganBenchError as error:
            raise ConfigError("generator_divergence", self.generator_divergence, str(error)) from None
        try:
            objectives.as_objective(divergence, self.objective, generator_divergence)
        except ValueError as error:
            raise ConfigError("objective", self.objective, str(error)) from None
        return divergence, generator_divergence

    def check(self) -> None:
        """Types, ranges and choices of every set value, then the relations between options."""
        self.check_values()
        self._check_relations()

    def check_values(self) -> None:
        """Types, ranges and choices of every set value, each option on its own."""
        self.check_types()
        for field in dataclasses.fields(self):
            meta = field.metadata["option"]
            value = getattr(self, field.name)
            if value is None:
                continue
            if meta.check is not None and (reason := meta.check(value)) is not None:
                raise ConfigError(field.name, value, reason)
            choices = meta.choices() if callable(meta.choices) else meta.choices
            if choices is not None and value not in choices:
                raise ConfigError(field.name, value, f"must be one of {', '.join(choices)}")

    def _check_relations(self) -> None:
        """The options that must agree with each other."""
        if self.steps % self.log_every:
            raise ConfigError("steps", self.steps, f"must be a multiple of --log-every ({self.log_every})")
        if self.eval_every % self.log_every:
            raise ConfigError("eval_every", self.eval_every,
                              f"must be 0 (at the end only) or a multiple of --log-every ({self.log_every})")
        if self.schedule == "simultaneous" and self.critic_steps != 1:
            raise ConfigError("critic_steps", self.critic_steps,
                              "> 1 needs --schedule alternating (simultaneous makes one of each)")
        labels = "conditional" if self.conditional else "labelled" if self.labelled else None
        if labels and is_baseline(self.divergence):
            raise ConfigError(labels, getattr(self, labels), f"applies to f-divergences, not the baseline "
                              f"{self.divergence} (its critic takes no label); choose an f-divergence")

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise FganBenchError(f"unknown run option(s) {', '.join(sorted(unknown))}")
        values = {k: tuple(v) if k in ("plugins", "metrics") and isinstance(v, list) else v for k, v in values.items()}
        return cls(**values)

    @property
    def run_id(self) -> str:
        """``<dataset>-<divergence>-s<seed>-<hash of the whole config>``: stable, readable, unique.

        The dataset part is :func:`~fgan_bench.datasets.fingerprint.run_id_label`: a user data
        file appears as its stem and a fingerprint of its content (never its whole path), so a
        changed file at the same path is a new run and the folder name stays short. Plugins count
        by their files' content too (:func:`~fgan_bench.plugins.content_fingerprint`).
        """
        identity = {k: v for k, v in self.to_dict().items()
                    if OPTIONS[k].identity and (v or not OPTIONS[k].identity_when_set)}
        if identity.get("plugins"):  # by content, not by where the files live
            identity["plugins"] = content_fingerprint(identity["plugins"])
        digest = hashlib.sha1(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:8]
        readable = f"{run_id_label(self.dataset)}-{self.divergence}-s{self.seed}"
        return re.sub(r"[^A-Za-z0-9_.\-]+", "_", readable.replace(":", "_").replace("=", "-")) + f"-{digest}"


#: Each field's :class:`Option`.
OPTIONS: dict[str, Option] = {f.name: f.metadata["option"] for f in dataclasses.fields(RunConfig)}


def _field_type(field: dataclasses.Field) -> type:
    """``int`` for ``int | None`` etc. (annotations are strings under ``from __future__``)."""
    text = str(field.type)
    for kind in (bool, int, float, str):
        if text == kind.__name__ or text.startswith(f"{kind.__name__} |"):
            return kind
    return tuple


def field_type(name: str) -> type:
    return _field_type(next(f for f in dataclasses.fields(RunConfig) if f.name == name))


def _check_metrics(names: Sequence[str], dataset: Dataset) -> None:
    """Each of ``metrics`` is a registered metric or metric output that applies to ``dataset``."""
    if names:
        from fgan_bench.metrics import check_metric_names

        try:
            check_metric_names(names, dataset)
        except FganBenchError as error:
            raise ConfigError("metrics", list(names), str(error)) from None


def _default_log_every(steps: int, steps_per_execution: int) -> int:
    """About 20 log rows per run, each a whole number of executions dividing ``steps``."""
    for rows in (20, 25, 10, 40, 50, 5, 4, 2, 1):
        if steps % rows == 0 and (steps // rows) % steps_per_execution == 0:
            return steps // rows
    return steps


def describe(dataset: Dataset) -> str:
    return f"{dataset.name}: {dataset.description}"
