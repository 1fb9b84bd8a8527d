"""Activations: leaky_relu, softplus, elu, dropout, softmax and log_softmax.

Every backward is written with minigrad ops, so each is differentiable again.
Non-smooth points follow PyTorch at every order it defines:

* leaky_relu'(0) = negative_slope (the x <= 0 branch); higher derivatives are 0.
* elu'(0) = alpha (the x <= 0 branch), but elu''(0) = 0: PyTorch's double
  backward switches on x < 0. The same holds for softplus at beta*x == threshold:
  the first derivative is sigmoid(threshold), the second is 0.

Both quirks are reproduced by letting the gradient reach x only through
``where(strict condition, x, constant)``, which has the same value as x on the
boundary but passes no gradient there.
"""
from __future__ import annotations

import numbers

from ..autograd import Function
from ..random import Generator, rand
from ..tensor import Tensor
from ._export import export
from .elementwise import MaskedScale, exp, sigmoid, where
from .reduce import sum
from .shape import _norm_dim


class LeakyRelu(Function):
    """y = x if x > 0 else negative_slope * x; dx = gy * (1 if x > 0 else negative_slope).

    The derivative is a constant mask, so the backward is ``MaskedScale`` and
    every higher derivative is zero.
    """

    negative_slope: float

    def forward(self, x):
        # the backend's kernel (one fused launch on a GPU); the mask only when recorded
        y, self.mask = self.backend.kernels.leaky_relu(x, self.negative_slope, with_mask=self.recording)
        return y

    def backward(self, gy):
        return MaskedScale.apply(gy, mask=self.mask)

    def release_saved(self):
        self.mask = None


@export(functional=True)
def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """max(x, 0) + negative_slope * min(x, 0), elementwise; any shape."""
    return LeakyRelu.apply(x, negative_slope=negative_slope)


class Softplus(Function):
    """y = log(1 + exp(beta x)) / beta, and y = x where beta x > threshold (PyTorch).

    dx = gy * sigmoid(beta x) on beta x <= threshold and gy elsewhere. The
    forward uses max(z, 0) + log1p(exp(-|z|)) (z = beta x), which never
    overflows, so ``threshold=inf`` gives the exact softplus for any input
    (``binary_cross_entropy_with_logits`` relies on that).
    """

    beta: float
    threshold: float

    def forward(self, x):
        xp = self.xp
        self.save_inputs(0)
        z = x * self.beta
        soft = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / self.beta
        return xp.where(z > self.threshold, x, soft).astype(x.dtype, copy=False)

    def backward(self, gy):
        x = self.saved_input(0)
        z = x * self.beta
        above = z.array > self.threshold
        # on z == threshold the slope is sigmoid(threshold) but its derivative is 0 (PyTorch)
        z_inner = where(z.array < self.threshold, z, Tensor._make(z.array))
        return gy * where(above, 1.0, sigmoid(z_inner))


@export(functional=True)
def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Smooth relu ``log(1 + exp(beta x)) / beta``, linear above ``threshold``; any shape."""
    return Softplus.apply(x, beta=beta, threshold=threshold)


class Elu(Function):
    """y = x if x > 0 else alpha (exp(x) - 1); dx = gy * (1 if x > 0 else alpha exp(x)).

    In the backward, exp sees ``where(x < 0, x, 0)``: no overflow for large
    positive x (a NaN there would survive the masking of a product), and the
    slope alpha at x = 0 has zero derivative, as in PyTorch.
    """

    alpha: float

    def forward(self, x):
        xp = self.xp
        self.save_inputs(0)
        negative = self.alpha * xp.expm1(xp.minimum(x, 0))
        return xp.where(x > 0, x, negative).astype(x.dtype, copy=False)

    def backward(self, gy):
        x = self.saved_input(0)
        slope = where(x.array > 0, 1.0, self.alpha * exp(where(x.array < 0, x, 0.0)))
        return gy * slope


@export(functional=True)
def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """Exponential linear unit; any shape."""
    return Elu.apply(x, alpha=alpha)


@export(functional=True)
def dropout(x: Tensor, p: float = 0.5, training: bool = True, generator: Generator | None = None) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p); any shape.

    The keep mask is drawn from ``generator`` (the default generator if None),
    uniform u < 1 - p, and is a constant: y = x * mask, dx = gy * mask, and
    higher derivatives are zero. Identity when not training or p = 0; zeros
    (x * 0) when p = 1.
    """
    if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p has to be between 0 and 1, but got p={p}")
    if not training or p == 0.0:
        return x
    xp = x._backend.xp
    if p == 1.0:
        return MaskedScale.apply(x, mask=xp.zeros(x.shape, dtype=x.dtype))
    u = rand(*x.shape, generator=generator, dtype=x.dtype, device=x.device).array
    mask = (u < 1.0 - p).astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))
    return MaskedScale.apply(x, mask=mask)


def _row_max(xp, x, dim):
    """max over ``dim`` (kept) for shifting exp into range; 0 where it is not finite, so a
    row of -inf gives NaN as in PyTorch instead of an inf - inf inside the shift."""
    m = x.max(axis=dim, keepdims=True)
    return xp.where(xp.isfinite(m), m, 0)


class LogSoftmax(Function):
    """y = x - log(sum_dim exp(x)); dx = gy - exp(y) * sum_dim(gy).

    The backward uses ``self.output`` (y as a node of this graph), so it is
    differentiable again: exp(y) is softmax(x) and its derivative comes back
    through this op's own backward.
    """

    dim: int

    def forward(self, x):
        xp = self.xp
        shifted = x - _row_max(xp, x, self.dim)
        self.save_output()
        return shifted - xp.log(xp.exp(shifted).sum(axis=self.dim, keepdims=True))

    def backward(self, gy):
        return gy - exp(self.output) * sum(gy, self.dim, keepdim=True)


class Softmax(Function):
    """y = exp(x) / sum_dim exp(x); dx = y * (gy - sum_dim(gy * y)), written with
    ``self.output`` so that it is differentiable again."""

    dim: int

    def forward(self, x):
        xp = self.xp
        e = xp.exp(x - _row_max(xp, x, self.dim))
        e /= e.sum(axis=self.dim, keepdims=True)
        self.save_output()
        return e

    def backward(self, gy):
        y = self.output
        return y * (gy - sum(gy * y, self.dim, keepdim=True))


@export(functional=True)
def log_softmax(x: Tensor, dim: int) -> Tensor:
    """log(softmax(x)) along ``dim``, computed stably (max shifted out); x's shape."""
    return LogSoftmax.apply(x, dim=_norm_dim(dim, x.ndim, "log_softmax"))


@export(functional=True)
def softmax(x: Tensor, dim: int) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, computed stably; x's shape."""
    return Softmax.apply(x, dim=_norm_dim(dim, x.ndim, "softmax"))
