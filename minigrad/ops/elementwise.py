"""Elementwise ops with NumPy broadcasting.

Every backward is written with minigrad ops, so it is differentiable again.
Broadcasting is undone by ``sum_to`` (itself differentiable). Non-smooth
points follow PyTorch: relu'(0) = 0, abs'(0) = sign(0) = 0, clamp passes the
gradient on the closed interval [min, max], and maximum/minimum split the
gradient evenly between equal inputs.
"""
from __future__ import annotations

import numbers
from typing import Any

from ..autograd import Function
from ..tensor import Tensor
from ._export import export
from .shape import sum_to, sum_to_array


def _constant(like: Tensor, array) -> Tensor:
    """A constant tensor (no grad) of ``like``'s dtype, e.g. a 0/1 mask."""
    return Tensor._make(array.astype(like.dtype, copy=False))


def _zeros(like: Tensor) -> Tensor:
    """A constant zero tensor shaped like ``like`` (not ``like * 0``, which keeps NaN)."""
    return Tensor._make(like._backend.xp.zeros(like.shape, like.dtype))


class Add(Function):
    """y = a + b."""

    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        return a + b

    def backward(self, gy):
        ga, gb = self.needs_input_grad
        return (sum_to(gy, self.shapes[0]) if ga else None, sum_to(gy, self.shapes[1]) if gb else None)

    def backward_arrays(self, gy):
        ga, gb = self.needs_input_grad
        return (sum_to_array(gy, self.shapes[0]) if ga else None,
                sum_to_array(gy, self.shapes[1]) if gb else None)


class Sub(Function):
    """y = a - b."""

    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        return a - b

    def backward(self, gy):
        ga, gb = self.needs_input_grad
        return (sum_to(gy, self.shapes[0]) if ga else None, sum_to(-gy, self.shapes[1]) if gb else None)

    def backward_arrays(self, gy):
        ga, gb = self.needs_input_grad
        return (sum_to_array(gy, self.shapes[0]) if ga else None,
                sum_to_array(-gy, self.shapes[1]) if gb else None)


class Mul(Function):
    """y = a * b; da = gy * b, db = gy * a (only the needed operand is kept)."""

    def forward(self, a, b):
        ga, gb = self.needs_input_grad
        self.save_inputs(1 if ga else None, 0 if gb else None)
        self.shapes = (a.shape, b.shape)
        return a * b

    def backward(self, gy):
        ga, gb = self.needs_input_grad
        return (
            sum_to(gy * self.saved_input(1), self.shapes[0]) if ga else None,
            sum_to(gy * self.saved_input(0), self.shapes[1]) if gb else None,
        )

    def backward_arrays(self, gy):
        ga, gb = self.needs_input_grad
        return (
            sum_to_array(gy * self.saved_input(1).array, self.shapes[0]) if ga else None,
            sum_to_array(gy * self.saved_input(0).array, self.shapes[1]) if gb else None,
        )


class Div(Function):
    """y = a / b; da = gy / b, db = -gy * a / b^2."""

    def forward(self, a, b):
        self.save_inputs(0 if self.needs_input_grad[1] else None, 1)
        self.shapes = (a.shape, b.shape)
        return a / b

    def backward(self, gy):
        ga, gb = self.needs_input_grad
        b = self.saved_input(1)
        return (
            sum_to(gy / b, self.shapes[0]) if ga else None,
            sum_to(-gy * self.saved_input(0) / (b * b), self.shapes[1]) if gb else None,
        )


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, gy):
        return -gy

    def backward_arrays(self, gy):
        return -gy


class PowScalar(Function):
    """y = a ** c for a constant exponent c; da = gy * c * a ** (c - 1) (zero when c = 0)."""

    exponent: float

    def forward(self, a):
        self.save_inputs(0)
        return a ** self.exponent

    def backward(self, gy):
        c = self.exponent
        if c == 0:
            return _zeros(gy)
        a = self.saved_input(0)
        if c == 1:
            return gy
        return gy * (c * PowScalar.apply(a, exponent=c - 1))


class Pow(Function):
    """y = a ** b for tensors; da = gy * b * a ** (b - 1), db = gy * y * log(a)."""

    def forward(self, a, b):
        self.save_inputs(0, 1)
        self.save_output()
        self.shapes = (a.shape, b.shape)
        return a ** b

    def backward(self, gy):
        ga, gb = self.needs_input_grad
        a, b = self.saved_input(0), self.saved_input(1)
        return (
            sum_to(gy * b * a ** (b - 1.0), self.shapes[0]) if ga else None,
            sum_to(gy * self.output * Log.apply(a), self.shapes[1]) if gb else None,
        )


@export(top=True, method=True)
def pow(a, exponent):
    """``a ** exponent``; a constant (Python number) exponent keeps a lighter graph."""
    if isinstance(exponent, numbers.Number) and isinstance(a, Tensor):
        return PowScalar.apply(a, exponent=exponent)
    return Pow.apply(a, exponent)


class Exp(Function):
    """y = exp(a); da = gy * y."""

    def forward(self, a):
        self.save_output()
        return self.xp.exp(a)

    def backward(self, gy):
        return gy * self.output


class Log(Function):
    """y = log(a); da = gy / a."""

    def forward(self, a):
        self.save_inputs(0)
        return self.xp.log(a)

    def backward(self, gy):
        return gy / self.saved_input(0)


class Sqrt(Function):
    """y = sqrt(a); da = gy / (2 y)."""

    def forward(self, a):
        self.save_output()
        return self.xp.sqrt(a)

    def backward(self, gy):
        return gy / (2.0 * self.output)


class Rsqrt(Function):
    """y = 1 / sqrt(a); da = -gy * y^3 / 2."""

    def forward(self, a):
        self.save_output()
        return 1.0 / self.xp.sqrt(a)

    def backward(self, gy):
        y = self.output
        return gy * (-0.5 * y * y * y)


class Abs(Function):
    """y = |a|; da = gy * sign(a), with sign(0) = 0."""

    def forward(self, a):
        self.save_inputs(0)
        return self.xp.abs(a)

    def backward(self, gy):
        a = self.saved_input(0)
        return gy * _constant(gy, self.xp.sign(a.array))


class Sign(Function):
    """y = sign(a); its derivative is zero everywhere it exists."""

    def forward(self, a):
        return self.xp.sign(a)

    def backward(self, gy):
        return _zeros(gy)


class Tanh(Function):
    """y = tanh(a); da = gy * (1 - y^2)."""

    def forward(self, a):
        self.save_output()
        return self.xp.tanh(a)

    def backward(self, gy):
        y = self.output
        return gy * (1.0 - y * y)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-a)), computed without overflow; da = gy * y * (1 - y)."""

    def forward(self, a):
        self.save_output()
        xp = self.xp
        # exp of a non-positive number never overflows: with e = exp(-|a|), y is 1 / (1 + e)
        # where a >= 0 and e / (1 + e) elsewhere. The numerator, 1 or e, is chosen by the
        # 0/1 masks, e * [a < 0] + [a >= 0], which is exact (e * 1 + 0 == e, e * 0 + 1 == 1)
        # and several times faster than xp.where's per-element branch.
        e = xp.abs(a)
        xp.negative(e, out=e)
        xp.exp(e, out=e)
        denominator = e + 1.0
        negative = a < 0
        xp.multiply(e, negative, out=e)
        xp.add(e, ~negative, out=e)
        return xp.divide(e, denominator, out=e)

    def backward(self, gy):
        y = self.output
        return gy * (y * (1.0 - y))

    def backward_arrays(self, gy):
        y = self.output.array
        return gy * (y * (1.0 - y))


class MaskedScale(Function):
    """y = a * mask for a constant mask; the derivative of relu, clamp, leaky_relu..."""

    mask: Any  # a backend array of a's dtype, broadcastable to a

    def forward(self, a):
        return a * self.mask

    def backward(self, gy):
        return MaskedScale.apply(gy, mask=self.mask)

    def backward_arrays(self, gy):
        return gy * self.mask

    def release_saved(self):
        self.mask = None


class Relu(Function):
    """y = max(a, 0); da = gy * [a > 0] (so relu'(0) = 0, as in PyTorch)."""

    def forward(self, a):
        if not self.recording:  # no graph (e.g. G(z) in a critic step): skip the mask
            return self.xp.maximum(a, 0)
        self.mask = (a > 0).astype(a.dtype)
        return a * self.mask

    def backward(self, gy):
        return MaskedScale.apply(gy, mask=self.mask)

    def backward_arrays(self, gy):
        return gy * self.mask

    def release_saved(self):
        self.mask = None


class Clamp(Function):
    """y = min(max(a, lo), hi); the gradient passes where lo <= a <= hi (PyTorch)."""

    lo: float | None
    hi: float | None

    def forward(self, a):
        xp = self.xp
        mask = xp.ones(a.shape, dtype=bool)
        if self.lo is not None:
            mask &= a >= self.lo
        if self.hi is not None:
            mask &= a <= self.hi
        self.mask = mask.astype(a.dtype)
        return xp.clip(a, self.lo, self.hi)

    def backward(self, gy):
        return MaskedScale.apply(gy, mask=self.mask)

    def release_saved(self):
        self.mask = None


@export(top=("clamp", "clip"), method=("clamp", "clip"))
def clamp(a: Tensor, min=None, max=None) -> Tensor:
    """a limited to [min, max] (either may be None), elementwise (``Clamp``)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp.apply(a, lo=min, hi=max)


class Where(Function):
    """y = cond ? a : b for a constant boolean ``cond`` (broadcast)."""

    cond: Any  # a boolean backend array (or a bool), broadcast with a and b

    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        return self.xp.where(self.cond, a, b)

    def backward(self, gy):
        ga, gb = self.needs_input_grad
        zero = _zeros(gy)
        return (
            sum_to(Where.apply(gy, zero, cond=self.cond), self.shapes[0]) if ga else None,
            sum_to(Where.apply(zero, gy, cond=self.cond), self.shapes[1]) if gb else None,
        )


@export(top=True)
def where(condition, a, b) -> Tensor:
    """Elementwise ``a`` where ``condition`` else ``b`` (condition is not differentiated)."""
    cond = condition.array if isinstance(condition, Tensor) else condition
    return Where.apply(a, b, cond=cond)


class _Extremum(Function):
    """maximum/minimum: the winner takes the gradient; equal inputs split it evenly."""

    is_max: bool

    def forward(self, a, b):
        xp = self.xp
        wins = a > b if self.is_max else a < b
        tie = a == b
        self.weight_a = wins.astype(a.dtype) + 0.5 * tie.astype(a.dtype)
        self.shapes = (a.shape, b.shape)
        return xp.maximum(a, b) if self.is_max else xp.minimum(a, b)

    def backward(self, gy):
        ga, gb = self.needs_input_grad
        w = self.weight_a
        return (
            sum_to(MaskedScale.apply(gy, mask=w), self.shapes[0]) if ga else None,
            sum_to(MaskedScale.apply(gy, mask=1.0 - w), self.shapes[1]) if gb else None,
        )

    def release_saved(self):
        self.weight_a = None


@export(top=True, method=True)
def maximum(a, other) -> Tensor:
    """The larger of a and other, elementwise, broadcast (``_Extremum``; ties split the gradient)."""
    return _Extremum.apply(a, other, is_max=True)


@export(top=True, method=True)
def minimum(a, other) -> Tensor:
    """The smaller of a and other, elementwise, broadcast (``_Extremum``; ties split the gradient)."""
    return _Extremum.apply(a, other, is_max=False)


class Cast(Function):
    """Change the floating dtype; the gradient is cast back."""

    to: Any  # the floating dtype of the output

    def forward(self, a):
        self.in_dtype = a.dtype
        return a.astype(self.to)

    def backward(self, gy):
        return Cast.apply(gy, to=self.in_dtype)


# ----- functional forms: one declaration each gives the op its public names (see _export) -----
@export(top=True, method=True)
def exp(a) -> Tensor:
    """e^a, elementwise (``Exp``)."""
    return Exp.apply(a)


@export(top=True, method=True)
def log(a) -> Tensor:
    """The natural logarithm of a, elementwise (``Log``)."""
    return Log.apply(a)


@export(top=True, method=True)
def sqrt(a) -> Tensor:
    """The square root of a, elementwise (``Sqrt``)."""
    return Sqrt.apply(a)


@export(top=True, method=True)
def rsqrt(a) -> Tensor:
    """1 / sqrt(a), elementwise (``Rsqrt``)."""
    return Rsqrt.apply(a)


@export(top=True, method=True)
def abs(a) -> Tensor:
    """|a|, elementwise (``Abs``)."""
    return Abs.apply(a)


@export(top=True, method=True)
def sign(a) -> Tensor:
    """-1, 0 or 1 by the sign of a, elementwise (``Sign``)."""
    return Sign.apply(a)


@export(top=True, method=True, functional=True)
def tanh(a) -> Tensor:
    """tanh(a), elementwise (``Tanh``)."""
    return Tanh.apply(a)


@export(top=True, method=True, functional=True)
def sigmoid(a) -> Tensor:
    """1 / (1 + exp(-a)), elementwise (``Sigmoid``)."""
    return Sigmoid.apply(a)


@export(top=True, method=True, functional=True)
def relu(a) -> Tensor:
    """max(a, 0), elementwise (``Relu``)."""
    return Relu.apply(a)


@export(top=True)
def neg(a) -> Tensor:
    """-a, elementwise (``Neg``)."""
    return Neg.apply(a)


@export(top=True)
def add(a, b) -> Tensor:
    """a + b, elementwise, broadcast (``Add``)."""
    return Add.apply(a, b)


@export(top=True)
def sub(a, b) -> Tensor:
    """a - b, elementwise, broadcast (``Sub``)."""
    return Sub.apply(a, b)


@export(top=True)
def mul(a, b) -> Tensor:
    """a * b, elementwise, broadcast (``Mul``)."""
    return Mul.apply(a, b)


@export(top=True)
def div(a, b) -> Tensor:
    """a / b, elementwise, broadcast (``Div``)."""
    return Div.apply(a, b)
