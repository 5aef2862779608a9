"""The compiled trainer a resolved run config asks for: :class:`~fgan_bench.FGAN`, or the
conditional or semi-supervised one when the run takes labels, inside a ``tf.distribute`` strategy.

It sits above the trainers it chooses from (:mod:`fgan_bench.trainer`, :mod:`fgan_bench.conditional`,
:mod:`fgan_bench.semisupervised`), so none of them imports another back.
"""

from __future__ import annotations

from fgan_bench.conditional import ConditionalFGAN
from fgan_bench.models import build_models
from fgan_bench.resolved import resolve
from fgan_bench.semisupervised import SemiSupervisedFGAN
from fgan_bench.trainer import FGAN, make_optimizer


def build_trainer(run, strategy, dataset=None) -> FGAN:
    """The compiled :class:`FGAN` for a run, inside ``strategy``.

    ``run`` is a :class:`~fgan_bench.resolved.ResolvedRun` (its dataset and divergences are
    used as they are) or a :class:`~fgan_bench.config.RunConfig`, resolved here (``dataset``:
    a dataset built already, used instead of the config's).
    """
    run = resolve(run)
    config, dataset = run.config, run.dataset if dataset is None else dataset
    jit_everything = config.jit and strategy.num_replicas_in_sync == 1
    with strategy.scope():
        generator, critic = build_models(
            config.model,
            shape=dataset.shape,
            latent_dim=config.latent_dim,
            width=config.width,
            depth=config.depth,
            filters=config.filters,
        )
        trainer_class, generator, critic = _with_labels(config, dataset, generator, critic)
        gan = trainer_class(
            generator,
            critic,
            run.divergence,
            objective=config.objective,
            generator_divergence=run.generator_divergence,
            schedule=config.schedule,
            critic_steps=config.critic_steps,
            jit_gradients=config.jit and not jit_everything,
            penalty_seed=config.seed,
        )
        gan.compile(
            generator_optimizer=make_optimizer(config, config.generator_lr),
            critic_optimizer=make_optimizer(config, config.critic_lr),
            steps_per_execution=config.steps_per_execution,
            jit_compile=jit_everything,
        )
    return gan


def _with_labels(config, dataset, generator, critic):
    """The trainer class and networks of a conditional (``--conditional``) or semi-supervised
    (``--labelled N``) run, the label entering through :mod:`fgan_bench.models.conditional`;
    a plain run's unchanged."""
    if not getattr(config, "conditional", False) and not getattr(config, "labelled", 0):
        return FGAN, generator, critic
    from fgan_bench.datasets.labels import class_count
    from fgan_bench.models import conditional as conditioning

    classes = class_count(dataset)
    if config.conditional:
        return (ConditionalFGAN, conditioning.conditional_generator(generator, classes),
                conditioning.projection_critic(critic, classes))
    return SemiSupervisedFGAN, generator, conditioning.classifier_critic(critic, classes)
