"""The full WGAN-GP critic loss differentiated through the gradient penalty matches PyTorch.

loss = E[D(fake)] - E[D(real)] + 10 * E[(||dD/dx_hat|| - 1)^2] on per-sample interpolates; its
gradient with respect to every critic parameter (a double backward through convs, norms and
activations) must agree with torch in float64 to 1e-10, for the three critic families of the
seed posts: the WGAN-GP paper's MNIST critic, a DCGAN-style critic with LayerNorm, and one with
BatchNorm in training mode.
"""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from tests.opcheck import relative_error

torch = pytest.importorskip("torch")
tnn = torch.nn

DIM = 4
LAMBDA = 10.0


class TorchSamePad(tnn.Module):
    """TensorFlow SAME padding for a 5x5 stride-2 conv on an even input: 1 before, 2 after."""

    def forward(self, x):
        pad_h = max((-(-x.shape[2] // 2) - 1) * 2 + 5 - x.shape[2], 0)
        pad_w = max((-(-x.shape[3] // 2) - 1) * 2 + 5 - x.shape[3], 0)
        return torch.nn.functional.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))


def wgangp_mnist_critics():
    ours = nn.Sequential(
        nn.Conv2d(1, DIM, 5, stride=2, padding="same"), nn.LeakyReLU(0.2),
        nn.Conv2d(DIM, 2 * DIM, 5, stride=2, padding="same"), nn.LeakyReLU(0.2),
        nn.Conv2d(2 * DIM, 4 * DIM, 5, stride=2, padding="same"), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(4 * 4 * 4 * DIM, 1),
    )
    theirs = tnn.Sequential(
        TorchSamePad(), tnn.Conv2d(1, DIM, 5, stride=2), tnn.LeakyReLU(0.2),
        TorchSamePad(), tnn.Conv2d(DIM, 2 * DIM, 5, stride=2), tnn.LeakyReLU(0.2),
        TorchSamePad(), tnn.Conv2d(2 * DIM, 4 * DIM, 5, stride=2), tnn.LeakyReLU(0.2),
        tnn.Flatten(), tnn.Linear(4 * 4 * 4 * DIM, 1),
    )
    return ours, theirs


def layernorm_critics():
    def build(lib, norm):
        return lib.Sequential(
            lib.Conv2d(1, DIM, 5, stride=2, padding=2), norm([DIM, 14, 14]), lib.LeakyReLU(0.2),
            lib.Conv2d(DIM, 2 * DIM, 5, stride=2, padding=2), norm([2 * DIM, 7, 7]), lib.LeakyReLU(0.2),
            lib.Flatten(), lib.Linear(2 * DIM * 7 * 7, 1),
        )

    return build(nn, nn.LayerNorm), build(tnn, tnn.LayerNorm)


def batchnorm_critics():
    def build(lib):
        return lib.Sequential(
            lib.Conv2d(1, DIM, 3, stride=2, padding=1), lib.BatchNorm2d(DIM), lib.LeakyReLU(0.01),
            lib.Conv2d(DIM, 2 * DIM, 3, stride=2, padding=1), lib.BatchNorm2d(2 * DIM), lib.LeakyReLU(0.01),
            lib.Flatten(), lib.Linear(2 * DIM * 7 * 7, 1),
        )

    return build(nn), build(tnn)


def same_weights(ours, theirs, rng):
    """Random float64 weights (non-trivial norm affines too), identical in both."""
    theirs.double()
    ours.double()
    state = {}
    # matched by position: the torch critic has extra padding modules that shift the names
    for our_name, (name, t) in zip(ours.state_dict(), theirs.state_dict().items(), strict=True):
        if name.endswith("num_batches_tracked"):
            state[our_name] = t.numpy()
            continue
        value = rng.normal(0.0, 0.3, size=tuple(t.shape))
        if name.endswith(("running_var",)):
            value = np.abs(value) + 0.5
        state[our_name] = value
        t.copy_(torch.from_numpy(value))
    ours.load_state_dict({k: mg.tensor(v) for k, v in state.items()})


def critic_loss_grads_ours(critic, real, fake, alpha):
    real, fake = mg.tensor(real), mg.tensor(fake)
    x_hat = (mg.tensor(alpha) * real + (1 - mg.tensor(alpha)) * fake).requires_grad_()
    (g,) = mg.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    penalty = ((g.flatten(1).norm(dim=1) - 1.0) ** 2).mean()
    loss = critic(fake).mean() - critic(real).mean() + LAMBDA * penalty
    params = list(critic.parameters())
    return loss, mg.grad(loss, params, allow_unused=True)


def critic_loss_grads_torch(critic, real, fake, alpha):
    real, fake, alpha = map(torch.from_numpy, (real, fake, alpha))
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_()
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    penalty = ((g.flatten(1).norm(dim=1) - 1.0) ** 2).mean()
    loss = critic(fake).mean() - critic(real).mean() + LAMBDA * penalty
    return loss, torch.autograd.grad(loss, list(critic.parameters()), allow_unused=True)


@pytest.mark.parametrize("make", [wgangp_mnist_critics, layernorm_critics, batchnorm_critics],
                         ids=["wgangp-mnist", "layernorm-dcgan", "batchnorm-training"])
def test_wgan_gp_critic_gradients_match_torch(make):
    rng = np.random.default_rng(0)
    ours, theirs = make()
    same_weights(ours, theirs, rng)
    ours.train()
    theirs.train()
    real = rng.uniform(0, 1, (3, 1, 28, 28))
    fake = rng.uniform(0, 1, (3, 1, 28, 28))
    alpha = rng.uniform(0, 1, (3, 1, 1, 1))
    loss, grads = critic_loss_grads_ours(ours, real, fake, alpha)
    t_loss, t_grads = critic_loss_grads_torch(theirs, real, fake, alpha)
    assert relative_error(loss.item(), t_loss.item()) <= 1e-10
    names = [n for n, _ in theirs.named_parameters()]
    # a conv bias right before BatchNorm has an analytically zero gradient (the batch mean
    # removes it): both sides give rounding noise there, so errors are also measured
    # against the largest gradient of the critic
    largest = max(float(np.abs(tg.numpy()).max()) for tg in t_grads)
    for name, g, tg in zip(names, grads, t_grads, strict=True):
        g = np.zeros(tg.shape) if g is None else g.numpy()
        err = min(relative_error(g, tg.numpy()), float(np.abs(g - tg.numpy()).max()) / largest)
        assert err <= 1e-10, f"{name}: gradient differs from torch by {err:.2e}"
