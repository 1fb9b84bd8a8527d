"""Critic and generator objectives of the three GAN families, and the auxiliary class loss.

Scores are the critic's raw outputs (N,), never passed through a sigmoid here: the ``gan``
losses take them as logits (binary cross-entropy with logits, the stable form), the
Wasserstein losses use them as they are.

=========  ==========================================  ==========================
loss       critic minimises                            generator minimises
=========  ==========================================  ==========================
gan        BCE(D(real), 1) + BCE(D(fake), 0)           BCE(D(fake), 1) (non-saturating)
wgan       E[D(fake)] - E[D(real)]   (+ clipping)      -E[D(fake)]
wgan-gp    E[D(fake)] - E[D(real)] + lambda * GP       -E[D(fake)]
=========  ==========================================  ==========================

GP = E[(||grad_x D(x_hat)||_2 - 1)^2] on x_hat = a real + (1 - a) fake, a ~ U[0, 1) per sample;
the critic's weight gradient of GP goes through ``minigrad.grad(create_graph=True)`` inside
``minigrad.nn.functional.gradient_penalty``.
"""
from __future__ import annotations

from collections.abc import Callable

import minigrad
from minigrad.nn import functional as F


def critic_loss(loss: str, real_scores: minigrad.Tensor, fake_scores: minigrad.Tensor) -> minigrad.Tensor:
    """The critic's adversarial objective (without penalty). Scores: (N,) -> scalar."""
    if loss == "gan":
        ones, zeros = minigrad.ones_like(real_scores), minigrad.zeros_like(fake_scores)
        return (F.binary_cross_entropy_with_logits(real_scores, ones)
                + F.binary_cross_entropy_with_logits(fake_scores, zeros))
    if loss in ("wgan", "wgan-gp"):
        return fake_scores.mean() - real_scores.mean()
    raise ValueError(f"unknown loss {loss!r}")


def generator_loss(loss: str, fake_scores: minigrad.Tensor) -> minigrad.Tensor:
    """The generator's adversarial objective. Scores (N,) of generated samples -> scalar."""
    if loss == "gan":
        return F.binary_cross_entropy_with_logits(fake_scores, minigrad.ones_like(fake_scores))
    if loss in ("wgan", "wgan-gp"):
        return -fake_scores.mean()
    raise ValueError(f"unknown loss {loss!r}")


def gradient_penalty(score: Callable[[minigrad.Tensor], minigrad.Tensor], real: minigrad.Tensor,
                     fake: minigrad.Tensor, generator: minigrad.Generator
                     ) -> tuple[minigrad.Tensor, minigrad.Tensor]:
    """(GP scalar, per-sample input-gradient norms (N,), detached) for ``score``: x -> (N,).

    The interpolation weights are drawn from ``generator``.
    """
    return F.gradient_penalty(score, real, fake, generator=generator, return_norms=True)


def class_loss(logits: minigrad.Tensor, labels: minigrad.Tensor) -> minigrad.Tensor:
    """The auxiliary classifier's cross-entropy: logits (N, 10), int64 labels (N,) -> scalar."""
    return F.cross_entropy(logits, labels)
