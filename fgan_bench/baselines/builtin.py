"""The built-in baselines: WGAN-GP, hinge and LSGAN, each as two pure per-example loss functions.

v is the critic's raw output V(x), unbounded; every loss is per example (reduce it with
``tf.nn.compute_average_loss``).

WGAN-GP (Gulrajani et al., 2017)
    critic:    V(x̃) − V(x) + λ·(‖∇V(x̂)‖ − 1)²       generator: −V(x̃)
    published: λ = 10, n_critic = 5 (``--schedule alternating --critic-steps 5``), Adam with
    learning rate 1e-4, β₁ = 0, β₂ = 0.9; these fill the run options a user leaves unset.

Hinge (Lim & Ye, 2017; SNGAN, BigGAN)
    critic:    max(0, 1 − V(x)) + max(0, 1 + V(x̃))     generator: −V(x̃)

LSGAN (Mao et al., 2017), targets a (fake), b (real), c (what the generator wants)
    critic:    ½(V(x) − b)² + ½(V(x̃) − a)²            generator: ½(V(x̃) − c)²
    With b − c = 1 and b − a = 2 — e.g. ``lsgan:a=-1,b=1,c=0`` — the generator at the optimal
    critic D* = (b·p + a·q)/(p + q) minimises a Pearson χ² divergence (Mao et al., Theorem 1):
    ½E_P[(D* − c)²] + ½E_Q[(D* − c)²] = ½∫(p − q)²/(p + q) = χ²_Pearson(Q ‖ M), M = (P + Q)/2,
    in this project's convention D_f(Q‖M) = ∫ m f(q/m), f(u) = (u − 1)² (Mao writes it as
    χ²_Pearson(P + Q ‖ 2Q), twice that, with his argument order). Checked by quadrature in the tests.
    The default a = 0, b = c = 1 is the common choice (the paper's own experiments).
"""

from __future__ import annotations

from fgan_bench._lazy import tf
from fgan_bench.baselines.base import Baseline


def wasserstein_critic_loss(v_real, v_fake):
    """V(x̃) − V(x): the critic maximises E_P[V] − E_Q[V] (the penalty is added separately)."""
    return v_fake - v_real


def wasserstein_generator_loss(v_fake):
    """−V(x̃)."""
    return -v_fake


def hinge_critic_loss(v_real, v_fake):
    """max(0, 1 − V(x)) + max(0, 1 + V(x̃))."""
    return tf.nn.relu(1.0 - v_real) + tf.nn.relu(1.0 + v_fake)


def least_squares_critic_loss(v_real, v_fake, a: float = 0.0, b: float = 1.0, c: float = 1.0):
    """½(V(x) − b)² + ½(V(x̃) − a)²."""
    return 0.5 * tf.square(v_real - b) + 0.5 * tf.square(v_fake - a)


def least_squares_generator_loss(v_fake, a: float = 0.0, b: float = 1.0, c: float = 1.0):
    """½(V(x̃) − c)²."""
    return 0.5 * tf.square(v_fake - c)


def _wgan_critic(v_real, v_fake, gp: float = 10.0):
    return wasserstein_critic_loss(v_real, v_fake)


def _wgan_generator(v_fake, gp: float = 10.0):
    return wasserstein_generator_loss(v_fake)


WGAN_GP = Baseline(
    "wgan_gp",
    "Wasserstein GAN, gradient penalty λ = gp on interpolates; n_critic = 5, Adam(1e-4, 0, 0.9)",
    _wgan_critic,
    _wgan_generator,
    parameters=(("gp", 10.0),),
    penalty_weight="gp",
    run_defaults={"schedule": "alternating", "critic_steps": 5, "generator_lr": 1e-4, "critic_lr": 1e-4,
                  "beta1": 0.0, "beta2": 0.9},
    reference="Gulrajani et al. 2017, Improved Training of Wasserstein GANs",
    aliases=("wgan-gp",),
)

HINGE = Baseline(
    "hinge",
    "hinge loss: critic max(0, 1 − V(x)) + max(0, 1 + V(x̃)), generator −V(x̃)",
    hinge_critic_loss,
    wasserstein_generator_loss,
    reference="Lim & Ye 2017, Geometric GAN; Miyato et al. 2018 (SNGAN)",
)

LSGAN = Baseline(
    "lsgan",
    "least squares GAN, targets a (fake), b (real), c (generator); a=-1,b=1,c=0: Pearson χ²",
    least_squares_critic_loss,
    least_squares_generator_loss,
    parameters=(("a", 0.0), ("b", 1.0), ("c", 1.0)),
    reference="Mao et al. 2017, Least Squares Generative Adversarial Networks",
)

BUILTIN_BASELINES = (WGAN_GP, HINGE, LSGAN)
