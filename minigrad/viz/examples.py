"""The worked examples of ``python -m minigrad.viz --example NAME``.

Each builds a small computation inside a ``viz.trace`` and returns a ``Drawing``: what
to draw and how. Shapes are tiny so the pictures stay readable; the walkthrough
(docs/wgan-gp-walkthrough.md) runs the same computations and checks their numbers.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import nn
from ..autograd import grad
from ..nn import functional as F
from ..random import Generator, rand, randn
from ..tensor import Tensor
from .render import make_dot, save
from .trace import trace as viz_trace


@dataclass
class Drawing:
    """What ``make_dot`` needs for one picture."""

    outputs: dict[str, Tensor]
    trace: viz_trace
    title: str
    params: dict[str, Tensor] | None = None
    depth: int | None = None


class TinyCritic(nn.Module):
    """D(x) = fc2(tanh(fc1(x))) on 2-D points, (N, 2) -> (N,): the README's critic."""

    def __init__(self, hidden: int = 4):
        super().__init__()
        self.fc1 = nn.Linear(2, hidden)
        self.fc2 = nn.Linear(hidden, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.fc1(x).tanh()).squeeze(1)


def seeded_tiny_critic(rng: Generator) -> TinyCritic:
    """A float64 ``TinyCritic`` with N(0, 1) weights and biases drawn from ``rng``."""
    critic = TinyCritic().double()
    for p in critic.parameters():
        p.array[...] = randn(*p.shape, generator=rng, dtype="float64").array
    return critic


def interpolates(batch: int, rng: Generator) -> Tensor:
    """x_hat = alpha real + (1 - alpha) fake for 2-D points, (batch, 2), a leaf that
    requires grad: where WGAN-GP evaluates the critic's input-gradient."""
    real = randn(batch, 2, generator=rng, dtype="float64")
    fake = randn(batch, 2, generator=rng, dtype="float64") + 3.0
    alpha = rand(batch, 1, generator=rng, dtype="float64")
    return (alpha * real + (1.0 - alpha) * fake).requires_grad_()


def input_gradient_penalty(critic: Callable[[Tensor], Tensor], x_hat: Tensor) -> Tensor:
    """mean_i (||dD/dx_hat_i|| - 1)^2 with the eps-safe norm; the input-gradient is
    recorded (``create_graph=True``) so the penalty can be differentiated to the weights."""
    (g,) = grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((F.safe_norm(g) - 1.0) ** 2).mean()


def gradient_penalty() -> Drawing:
    """A tiny critic, its input-gradient, the penalty, and the second backward to fc2's
    weight (recorded with create_graph=True so it can be drawn)."""
    rng = Generator(0)
    critic = seeded_tiny_critic(rng)
    x_hat = interpolates(3, rng)
    with viz_trace(critic) as t:
        penalty = input_gradient_penalty(critic, x_hat)
        # training runs this backward with create_graph=False: the same walk, unrecorded
        (grad_w2,) = grad(penalty, critic.fc2.weight, create_graph=True)
    return Drawing({"penalty": penalty, "dP/dfc2.weight": grad_w2}, t,
                   "the WGAN-GP penalty of a tiny critic, and its second backward to fc2.weight",
                   params={**dict(critic.named_parameters()), "x_hat": x_hat})


def critic_forward() -> Drawing:
    """The graph the tiny critic's forward records: what create_graph later builds on."""
    rng = Generator(0)
    critic = seeded_tiny_critic(rng)
    x_hat = interpolates(3, rng)
    with viz_trace(critic) as t:
        score = critic(x_hat).sum()
    return Drawing({"sum D(x_hat)": score}, t, "the tiny critic's forward",
                   params={**dict(critic.named_parameters()), "x_hat": x_hat})


def conv_trio() -> Drawing:
    """conv2d's gradient as a conv_transpose2d and a weight-gradient conv, and theirs."""
    rng = Generator(0)
    x = randn(1, 1, 5, 5, generator=rng, dtype="float64", requires_grad=True)
    w = randn(2, 1, 3, 3, generator=rng, dtype="float64", requires_grad=True)
    with viz_trace() as t:
        y = F.conv2d(x, w, stride=2, padding=1)
        gx, gw = grad((y * y).sum() / 2, [x, w], create_graph=True)
        (gxw,) = grad((gx * gx).sum() / 2, w, create_graph=True)
    return Drawing({"dL/dx": gx, "dL/dw": gw, "dM/dw, M = |dL/dx|^2 / 2": gxw}, t,
                   "conv2d, its gradient and the gradient's: three kernels at every order",
                   params={"x": x, "w": w})


def batchnorm_higher_order() -> Drawing:
    """A training-mode batch norm differentiated twice: the batch statistics stay in the
    graph as functions of x at every order (nothing cached as a constant)."""
    x = randn(4, 2, generator=Generator(0), dtype="float64", requires_grad=True)
    with viz_trace() as t:
        y = F.batch_norm(x, None, None, training=True)
        (g1,) = grad((y ** 3).sum(), x, create_graph=True)
        (g2,) = grad(g1.sum(), x, create_graph=True)
    return Drawing({"d2/dx2 sum y^3": g2}, t, "batch_norm, differentiated twice", {"x": x})


EXAMPLES: dict[str, Callable[[], Drawing]] = {
    "gradient-penalty": gradient_penalty,
    "critic-forward": critic_forward,
    "conv-trio": conv_trio,
    "batchnorm-higher-order": batchnorm_higher_order,
}


def render_example(name: str, path) -> Path:
    """Build example ``name`` and write its picture to ``path`` (the suffix picks the format)."""
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; expected one of {', '.join(EXAMPLES)}")
    drawing = EXAMPLES[name]()
    dot = make_dot(drawing.outputs, drawing.params, drawing.trace, drawing.depth, drawing.title)
    return save(dot, path)
