"""The complete configuration of one training run, its validation and its identity.

:class:`RunConfig` holds every option of ``python -m fgan_bench run``. Options left ``None``
are filled from the dataset's suggestions and the global defaults by :meth:`resolved`;
the resolved config is what ``config.json`` stores, so re-running from it reproduces the
run. Validation happens here, before TensorFlow starts: every error is one line.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any

from fgan_bench import distribute, losses, models, trainer
from fgan_bench.datasets import Dataset, get_dataset
from fgan_bench.divergences import get_divergence
from fgan_bench.errors import FganBenchError

#: Defaults by data kind, used where neither the user nor the dataset chose. The vector
#: defaults are one setting for every divergence, chosen on ring8 (see the README's table).
KIND_DEFAULTS: dict[str, dict[str, Any]] = {
    "vector": {
        "model": "mlp",
        "steps": 10000,
        "batch_size": 256,
        "latent_dim": 16,
        "width": 128,
        "depth": 2,
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
        "filters": 64,
        "generator_lr": 2e-4,
        "critic_lr": 2e-4,
        "num_samples": 10000,
        "optimizer": "adam",
        "clip_norm": 0.0,
    },
}
#: The paper's 1-D experiment (the ``linear`` model): single-step updates, batches of 1024. The
#: paper's step size 0.01, taken as Adam's, saturates the tanh critic: reverse KL then ends with
#: (μ̂, σ̂) 0.46 from the exact best fit; Adam at 1e-3 for 20,000 steps lands within 0.011.
LINEAR_DEFAULTS = {
    "steps": 20000,
    "batch_size": 1024,
    "generator_lr": 1e-3,
    "critic_lr": 1e-3,
    "optimizer": "adam",
    "clip_norm": 0.0,
}

OPTIMIZERS = ("adam", "sgd")
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
)


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Every option of a training run (``None``: the dataset's or the global default)."""

    divergence: str
    dataset: str = "ring8"
    steps: int | None = None
    batch_size: int | None = None
    latent_dim: int | None = None
    model: str | None = None
    width: int | None = None
    depth: int | None = None
    filters: int | None = None
    optimizer: str | None = None
    generator_lr: float | None = None
    critic_lr: float | None = None
    beta1: float = 0.5
    beta2: float = 0.999
    momentum: float = 0.9
    clip_norm: float | None = None
    objective: str = "saddle"
    #: the divergence the generator minimises through the critic's density-ratio estimate
    #: (Poole et al., 2016); None: the critic's own (or the one the objective fixes)
    generator_divergence: str | None = None
    schedule: str = "simultaneous"
    critic_steps: int = 1
    seed: int = 0
    strategy: str = "default"
    mixed_precision: bool = False
    jit: bool = False
    steps_per_execution: int = 50
    log_every: int | None = None
    num_samples: int | None = None
    eval_every: int = 0
    plugins: tuple[str, ...] = ()

    def resolved(self) -> RunConfig:
        """Validates the options and fills every ``None``; raises a one-line FganBenchError."""
        divergence = get_divergence(self.divergence)
        dataset = get_dataset(self.dataset)
        model = self.model or dataset.defaults.get("model") or KIND_DEFAULTS[dataset.kind]["model"]
        if model not in models.MODELS:
            raise FganBenchError(f"unknown model {model!r}; choose one of {', '.join(models.MODELS)}")
        if models.MODEL_KINDS[model] != dataset.kind:
            raise FganBenchError(
                f"dataset {dataset.name!r} is {dataset.kind} data but model {model!r} is for "
                f"{models.MODEL_KINDS[model]} data; use --model {'dcgan' if dataset.kind == 'image' else 'mlp'}"
            )
        _check_model_options(self, model)
        defaults = {
            **KIND_DEFAULTS[dataset.kind],
            **(LINEAR_DEFAULTS if model == "linear" else {}),
            **dataset.defaults,
            "model": model,
        }
        values = {
            name: getattr(self, name) if getattr(self, name) is not None else defaults.get(name) for name in _FILL
        }
        for option, owner in MODEL_ONLY_OPTIONS.items():
            if model != owner:
                values[option] = None  # so that a resolved config resolves again to itself
        if model == "linear":
            values["latent_dim"] = dataset.dimension
        spe = 1 if self.strategy in ("mirrored", "multiworker") else self.steps_per_execution
        log_every = self.log_every or _default_log_every(values["steps"], spe)
        generator_divergence = None if self.generator_divergence is None else get_divergence(self.generator_divergence)
        config = dataclasses.replace(
            self,
            divergence=divergence.spec,
            generator_divergence=None if generator_divergence is None else generator_divergence.spec,
            dataset=dataset.spec,
            log_every=log_every,
            steps_per_execution=min(spe, log_every),
            plugins=tuple(self.plugins),
            **values,
        )
        config.check()
        try:
            losses.check_generator_objective(divergence, config.objective, generator_divergence)
        except ValueError as error:
            raise FganBenchError(str(error)) from None
        return config

    def check(self) -> None:
        """Range checks of a resolved config."""
        positive = (
            "steps",
            "batch_size",
            "latent_dim",
            "critic_steps",
            "steps_per_execution",
            "log_every",
            "num_samples",
        )
        for name in positive:
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise FganBenchError(f"--{name.replace('_', '-')} must be a positive integer, got {value!r}")
        if not self.clip_norm >= 0:
            raise FganBenchError(f"--clip-norm must be ≥ 0 (0: no clipping), got {self.clip_norm!r}")
        for name in ("generator_lr", "critic_lr"):
            if not getattr(self, name) > 0:
                raise FganBenchError(f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)!r}")
        if self.steps % self.log_every:
            raise FganBenchError(f"--steps ({self.steps}) must be a multiple of --log-every ({self.log_every})")
        if not isinstance(self.eval_every, int) or self.eval_every < 0 or self.eval_every % self.log_every:
            raise FganBenchError(f"--eval-every must be 0 (at the end only) or a multiple of --log-every "
                                 f"({self.log_every}), got {self.eval_every!r}")
        choices = {
            "objective": losses.OBJECTIVES,
            "schedule": trainer.SCHEDULES,
            "strategy": distribute.STRATEGIES,
            "optimizer": OPTIMIZERS,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise FganBenchError(f"--{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if self.schedule == "simultaneous" and self.critic_steps != 1:
            raise FganBenchError("--critic-steps > 1 needs --schedule alternating (simultaneous makes one of each)")

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise FganBenchError(f"unknown run option(s) {', '.join(sorted(unknown))}")
        values = {k: tuple(v) if k == "plugins" else v for k, v in values.items()}
        return cls(**values)

    @property
    def run_id(self) -> str:
        """``<dataset>-<divergence>-s<seed>-<hash of the whole config>``: stable, readable, unique."""
        digest = hashlib.sha1(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:8]
        readable = f"{self.dataset}-{self.divergence}-s{self.seed}"
        return re.sub(r"[^A-Za-z0-9_.\-]+", "_", readable.replace(":", "_").replace("=", "-")) + f"-{digest}"


#: Options that only one model takes.
MODEL_ONLY_OPTIONS = {"width": "mlp", "depth": "mlp", "filters": "dcgan"}


def _check_model_options(config: RunConfig, model: str) -> None:
    for option, owner in MODEL_ONLY_OPTIONS.items():
        if getattr(config, option) is not None and model != owner:
            raise FganBenchError(f"--{option} applies to the {owner} model only; this run uses model {model!r}")


def _default_log_every(steps: int, steps_per_execution: int) -> int:
    """About 20 log rows per run, each a whole number of executions dividing ``steps``."""
    for rows in (20, 25, 10, 40, 50, 5, 4, 2, 1):
        if steps % rows == 0 and (steps // rows) % steps_per_execution == 0:
            return steps // rows
    return steps


def describe(dataset: Dataset) -> str:
    return f"{dataset.name}: {dataset.description}"
