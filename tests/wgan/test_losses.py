"""The three objectives on known scores, and the penalty on a critic whose gradient is known."""
import math

import numpy as np
import pytest

import minigrad
from wgan import losses

REAL = [2.0, -1.0, 0.5]
FAKE = [-3.0, 0.0, 1.0]


def softplus(x):
    return math.log1p(math.exp(-abs(x))) + max(x, 0.0)


def t(values):
    return minigrad.tensor(values, requires_grad=True)


def test_gan_losses_are_bce_with_logits_and_non_saturating():
    critic = losses.critic_loss("gan", t(REAL), t(FAKE)).item()
    expected = np.mean([softplus(-r) for r in REAL]) + np.mean([softplus(f) for f in FAKE])
    assert critic == pytest.approx(expected, rel=1e-6)
    generator = losses.generator_loss("gan", t(FAKE)).item()
    assert generator == pytest.approx(np.mean([softplus(-f) for f in FAKE]), rel=1e-6)


@pytest.mark.parametrize("loss", ["wgan", "wgan-gp"])
def test_wasserstein_losses(loss):
    assert losses.critic_loss(loss, t(REAL), t(FAKE)).item() == pytest.approx(np.mean(FAKE) - np.mean(REAL))
    assert losses.generator_loss(loss, t(FAKE)).item() == pytest.approx(-np.mean(FAKE))


def test_unknown_loss():
    with pytest.raises(ValueError, match="unknown loss"):
        losses.critic_loss("lsgan", t(REAL), t(FAKE))


def test_gradient_penalty_of_a_linear_critic():
    """D(x) = x . w has input gradient w everywhere: GP = (||w|| - 1)^2, dGP/dw = 2 (||w|| - 1) w/||w||."""
    w = minigrad.tensor([[3.0], [4.0]], requires_grad=True)
    real = minigrad.tensor([[0.0, 1.0], [2.0, 3.0]])
    fake = minigrad.tensor([[1.0, 1.0], [-1.0, 0.0]])
    penalty, norms = losses.gradient_penalty(lambda x: (x @ w).reshape(-1), real, fake, minigrad.Generator(0))
    assert penalty.item() == pytest.approx(16.0, rel=1e-5)
    assert np.allclose(norms.numpy(), 5.0)
    penalty.backward()
    assert np.allclose(w.grad.numpy(), (2 * 4 * np.array([[3.0], [4.0]]) / 5), rtol=1e-5)


def test_class_loss_is_cross_entropy():
    logits = minigrad.tensor([[2.0, 0.0, -1.0] + [0.0] * 7, [0.0] * 10])
    labels = minigrad.tensor([0, 3])
    row0 = -(2.0 - math.log(math.exp(2) + math.exp(-1) + 8))
    row1 = math.log(10)
    assert losses.class_loss(logits, labels).item() == pytest.approx((row0 + row1) / 2, rel=1e-6)
