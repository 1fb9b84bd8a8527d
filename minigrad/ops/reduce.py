"""Reductions: sum, mean, var, std, max/min, amax/amin, logsumexp, norm.

``sum`` is the primitive (its backward is a broadcast); mean, var, std and
logsumexp are compositions, so every order of derivative comes for free.
Ties follow PyTorch: ``max()``/``amax`` split the gradient evenly between equal
maxima; ``max(dim)`` returns ``(values, indices)`` and sends the gradient to
the returned index only.
"""
from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any

from ..autograd import Function
from ..tensor import Tensor
from ._export import export
from .elementwise import MaskedScale, Sqrt, where
from .shape import _norm_dim, broadcast_to, reshape, squeeze

MaxResult = namedtuple("MaxResult", ["values", "indices"])


def _dims(dim, ndim: int, op: str) -> tuple[int, ...]:
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return tuple(sorted({_norm_dim(d, ndim, op) for d in dims}))


def _keep_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


class Sum(Function):
    """y = sum of a over ``dims``; da = gy broadcast back to a's shape."""

    dims: tuple[int, ...]
    keepdim: bool

    def forward(self, a):
        self.in_shape = a.shape
        return a.sum(axis=self.dims, keepdims=self.keepdim)

    def backward(self, gy):
        return broadcast_to(reshape(gy, _keep_shape(self.in_shape, self.dims)), self.in_shape)

    def backward_arrays(self, gy):
        keep = _keep_shape(self.in_shape, self.dims)
        gy = gy if gy.shape == keep else gy.reshape(keep)
        return gy if gy.shape == self.in_shape else self.xp.broadcast_to(gy, self.in_shape)


@export(top=True, method=True)
def sum(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The sum over ``dim`` (an int, a tuple, or None for all dims) (``Sum``)."""
    return Sum.apply(x, dims=_dims(dim, x.ndim, "sum"), keepdim=keepdim)


def _count(x: Tensor, dims) -> int:
    n = 1
    for d in dims:
        n *= x.shape[d]
    return n


@export(top=True, method=True)
def mean(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The mean over ``dim`` (an int, a tuple, or None for all dims): a ``Sum`` times 1/count."""
    dims = _dims(dim, x.ndim, "mean")
    return Sum.apply(x, dims=dims, keepdim=keepdim) * (1.0 / builtins.max(_count(x, dims), 1))


@export(top=True, method=True)
def var(x: Tensor, dim=None, unbiased: bool = True, keepdim: bool = False, correction=None) -> Tensor:
    """Variance with Bessel's correction by default (``correction=1``), as PyTorch."""
    dims = _dims(dim, x.ndim, "var")
    if correction is None:
        correction = 1 if unbiased else 0
    centered = x - mean(x, dims, keepdim=True)
    dof = _count(x, dims) - correction
    return sum(centered * centered, dims, keepdim) * (1.0 / dof if dof > 0 else float("nan"))


@export(top=True, method=True)
def std(x: Tensor, dim=None, unbiased: bool = True, keepdim: bool = False, correction=None) -> Tensor:
    """The standard deviation over ``dim``: sqrt of ``var`` (``Sqrt``)."""
    return Sqrt.apply(var(x, dim, unbiased, keepdim, correction))


class Amax(Function):
    """Max (min if ``is_min``) over ``dims``; the gradient is shared evenly by the
    elements equal to it."""

    dims: tuple[int, ...]
    keepdim: bool
    is_min: bool

    def forward(self, a):
        xp = self.xp
        out = a.max(axis=self.dims, keepdims=True) if not self.is_min else a.min(axis=self.dims, keepdims=True)
        hits = (a == out).astype(a.dtype)
        self.share = hits / hits.sum(axis=self.dims, keepdims=True)
        self.in_shape = a.shape
        return out if self.keepdim else xp.squeeze(out, axis=self.dims)

    def backward(self, gy):
        gy = broadcast_to(reshape(gy, _keep_shape(self.in_shape, self.dims)), self.in_shape)
        return MaskedScale.apply(gy, mask=self.share)

    def release_saved(self):
        self.share = None


@export(top=True, method=True)
def amax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The max over ``dim``, values only; equal maxima share the gradient (``Amax``)."""
    return Amax.apply(x, dims=_dims(dim, x.ndim, "amax"), keepdim=keepdim, is_min=False)


@export(top=True, method=True)
def amin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The min over ``dim``, values only; equal minima share the gradient (``Amax``)."""
    return Amax.apply(x, dims=_dims(dim, x.ndim, "amin"), keepdim=keepdim, is_min=True)


class TakeAlong(Function):
    """y = take_along_axis(a, indices, dim); the gradient goes back to those indices."""

    indices: Any  # an integer backend array, a's ndim
    dim: int

    def forward(self, a):
        self.in_shape = a.shape
        return self.xp.take_along_axis(a, self.indices, axis=self.dim)

    def backward(self, gy):
        return PutAlong.apply(gy, indices=self.indices, dim=self.dim, shape=self.in_shape)


class PutAlong(Function):
    """y = zeros(shape) with a written at ``indices`` along ``dim`` (indices distinct per lane)."""

    indices: Any  # as TakeAlong's
    dim: int
    shape: tuple[int, ...]

    def forward(self, a):
        out = self.xp.zeros(self.shape, dtype=a.dtype)
        self.xp.put_along_axis(out, self.indices, a, axis=self.dim)
        return out

    def backward(self, gy):
        return TakeAlong.apply(gy, indices=self.indices, dim=self.dim)


def _max_along(x: Tensor, dim, keepdim, is_min: bool):
    if dim is None:
        return amin(x) if is_min else amax(x)
    d = _norm_dim(dim, x.ndim, "min" if is_min else "max")
    xp = x._backend.xp
    idx = (xp.argmin if is_min else xp.argmax)(x.array, axis=d)
    idx_keep = xp.expand_dims(idx, d)
    values = TakeAlong.apply(x, indices=idx_keep, dim=d)
    if not keepdim:
        values = squeeze(values, d)
    return MaxResult(values, Tensor._make(idx_keep if keepdim else idx))


@export(top=True, method=True)
def max(x: Tensor, dim=None, keepdim: bool = False):
    """``max(x)``: the largest value; ``max(x, dim)``: ``(values, indices)``."""
    return _max_along(x, dim, keepdim, is_min=False)


@export(top=True, method=True)
def min(x: Tensor, dim=None, keepdim: bool = False):
    """``min(x)``: the smallest value (``Amax``); ``min(x, dim)``: ``(values, indices)`` (``TakeAlong``)."""
    return _max_along(x, dim, keepdim, is_min=True)


@export(top=True, method=True)
def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The index of the first max over ``dim`` (over the flattened x when None); not differentiable."""
    xp = x._backend.xp
    if dim is None:
        return Tensor._make(xp.asarray(xp.argmax(x.array)))
    d = _norm_dim(dim, x.ndim, "argmax")
    idx = xp.argmax(x.array, axis=d)
    return Tensor._make(xp.expand_dims(idx, d) if keepdim else idx)


@export(top=True, method=True)
def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) computed stably: the max is shifted out as a constant."""
    dims = _dims(dim, x.ndim, "logsumexp")
    xp = x._backend.xp
    m = x.array.max(axis=dims, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    shift = Tensor._make(m)
    out = (x - shift).exp().sum(dims, keepdim=True).log() + shift
    return out if keepdim else squeeze(out, dims)


class Norm2(Function):
    """y = sqrt(sum a^2) over ``dims``; da = a * gy / y, taken as 0 where y = 0
    (PyTorch's subgradient: the norm has no derivative at the origin)."""

    dims: tuple[int, ...]
    keepdim: bool

    def forward(self, a):
        self.save_inputs(0)
        self.save_output()
        self.in_shape = a.shape
        return self.xp.sqrt((a * a).sum(axis=self.dims, keepdims=self.keepdim))

    def backward(self, gy):
        a, y = self.saved_input(0), self.output
        zero = y.array == 0
        scale = where(zero, 0.0, gy / where(zero, 1.0, y))
        shape = _keep_shape(self.in_shape, self.dims)
        return a * broadcast_to(reshape(scale, shape), self.in_shape)


@export(top=True, method=True)
def norm(x: Tensor, p=2, dim=None, keepdim: bool = False) -> Tensor:
    """The p-norm; p=2 (default) is a primitive op, other p are compositions."""
    dims = _dims(dim, x.ndim, "norm")
    if p in (2, "fro"):
        return Norm2.apply(x, dims=dims, keepdim=keepdim)
    if p == 1:
        return sum(x.abs(), dims, keepdim)
    return sum(x.abs() ** p, dims, keepdim) ** (1.0 / p)
