"""In-place tensor methods (``add_``, ``mul_``, ``clamp_``, ``copy_``, ``fill_``, ``normal_``, ...,
and ``+=``), with PyTorch's rules for autograd.

Each method computes the new value with the out-of-place ops, writes it into the tensor's
array (so every tensor sharing that array, ``.data`` and ``detach()``, sees it) and bumps the
tensor's version. The rules, as in PyTorch:

* With grad mode on, a leaf that requires grad cannot be changed in place (RuntimeError);
  change it under ``no_grad()`` or through ``.data``, as optimizers and ``nn.init`` do.
* A node that saved the tensor for its backward raises at backward ("modified by an inplace
  operation"), since its saved value is gone, instead of giving wrong gradients.
* When the change is recorded (grad mode on, and the tensor or the other operand requires
  grad), the tensor's history is rebased: its ``grad_fn`` becomes the node of the new value,
  which was computed from a copy of the old one, so gradients flow through the change.

Two cases torch supports raise here instead, with a message saying so: a recorded change of
a tensor whose array is a view of another array (torch also rewrites the history of the
base, which minigrad does not track), and ``fill_``/``zero_``/``normal_``/``uniform_`` on a
tensor that is part of a graph.
"""
from __future__ import annotations

from collections.abc import Callable

from ..autograd import is_grad_enabled
from .. import random as _random
from ..tensor import Tensor
from ._export import export
from .elementwise import clamp


def _requires_grad(operand) -> bool:
    return isinstance(operand, Tensor) and operand.requires_grad


def _check_recordable(t: Tensor, name: str, differentiable: bool) -> None:
    """Raise where a recorded in-place change is not supported (see the module docstring)."""
    if not differentiable:
        raise RuntimeError(
            f"{name}: minigrad does not support {name} on a tensor that is part of a graph (it "
            "has a grad_fn); call it on .detach() or .data, under no_grad(), or build a new tensor"
        )
    if t.array.base is not None:
        raise RuntimeError(
            f"{name}: minigrad does not support an in-place change recorded for autograd on a "
            "tensor whose array is a view of another (torch would also rewrite the history of "
            "the base); use the out-of-place op, or change a .clone()"
        )


def _update(t: Tensor, name: str, new_value: Callable, *operands, differentiable: bool = True) -> Tensor:
    """Set ``t`` to ``new_value(old, *operands)`` in place by the rules above; return ``t``."""
    grad_mode = is_grad_enabled()
    if grad_mode and t.requires_grad and t.grad_fn is None:
        raise RuntimeError(
            f"{name}: a leaf Variable that requires grad is being used in an in-place operation; "
            "change it under minigrad.no_grad() or through .data"
        )
    recorded = grad_mode and (t.requires_grad or any(_requires_grad(o) for o in operands))
    old = t
    if recorded:
        _check_recordable(t, name, differentiable)
        # the new value's node may save its input: give it a copy that this write leaves alone
        old = Tensor._make(t.array.copy(), t.requires_grad, t.grad_fn, t._output_nr)
    value = new_value(old, *operands)
    if value.shape != t.shape:
        raise RuntimeError(f"{name}: output with shape {list(t.shape)} doesn't match the "
                           f"broadcast shape {list(value.shape)}")
    t._backend.xp.copyto(t.array, value.array, casting="same_kind")
    t._bump_version()
    if recorded:
        t.grad_fn, t._output_nr, t.requires_grad = value.grad_fn, value._output_nr, value.requires_grad
    return t


def _scaled(other, alpha):
    return other if alpha == 1 else other * alpha


@export(method=("add_", "__iadd__"))
def add_(self: Tensor, other, *, alpha=1) -> Tensor:
    """self += alpha * other, in place (other broadcasts to self's shape)."""
    return _update(self, "add_", lambda old, o: old + _scaled(o, alpha), other)


@export(method=("sub_", "__isub__"))
def sub_(self: Tensor, other, *, alpha=1) -> Tensor:
    """self -= alpha * other, in place."""
    return _update(self, "sub_", lambda old, o: old - _scaled(o, alpha), other)


@export(method=("mul_", "__imul__"))
def mul_(self: Tensor, other) -> Tensor:
    """self *= other, in place."""
    return _update(self, "mul_", lambda old, o: old * o, other)


@export(method=("div_", "__itruediv__"))
def div_(self: Tensor, other) -> Tensor:
    """self /= other, in place."""
    return _update(self, "div_", lambda old, o: old / o, other)


@export(method=("clamp_", "clip_"))
def clamp_(self: Tensor, min=None, max=None) -> Tensor:  # noqa: A002  (torch's names)
    """self = clamp(self, min, max), in place (WGAN weight clipping: ``p.data.clamp_(-c, c)``)."""
    return _update(self, "clamp_", lambda old: clamp(old, min, max))


@export(method=True)
def copy_(self: Tensor, src) -> Tensor:
    """self = src (broadcast to self's shape, cast to its dtype, moved to its device), in place;
    differentiable with respect to ``src``."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_: expected a Tensor as src, got {type(src).__name__}")
    if src.device != self.device:
        src = src.to(self.device)
    return _update(self, "copy_", lambda old, s: s.astype(self.dtype).expand(*self.shape), src)


def _fill(self: Tensor, name: str, make: Callable[[], Tensor]) -> Tensor:
    return _update(self, name, lambda old: make(), differentiable=False)


@export(method=True)
def fill_(self: Tensor, value) -> Tensor:
    """Every element of self = value (a number or a one-element tensor), in place."""
    if isinstance(value, Tensor):
        value = value.item()
    return _fill(self, "fill_", lambda: Tensor._make(self._backend.xp.full(self.shape, value, self.dtype)))


@export(method=True)
def zero_(self: Tensor) -> Tensor:
    """Every element of self = 0, in place."""
    return _fill(self, "zero_", lambda: Tensor._make(self._backend.xp.zeros(self.shape, self.dtype)))


@export(method=True)
def normal_(self: Tensor, mean=0.0, std=1.0, *, generator=None) -> Tensor:
    """self = samples of N(mean, std^2), in place (``generator`` as in ``minigrad.randn``)."""
    def draw():  # on a CPU stream, drawn as nn.init.normal_ draws, so both give the same numbers
        host = _random._host_stream(generator, self.device)
        if host is None:  # a GPU (Philox) generator: drawn on the device
            z = _random.randn(*self.shape, generator=generator, dtype=self.dtype, device=self.device)
            return z * std + mean
        return _random._placed(host.normal(mean, std, size=self.shape), self.dtype, self.device)
    return _fill(self, "normal_", draw)


@export(method=True)
def uniform_(self: Tensor, from_=0.0, to=1.0, *, generator=None) -> Tensor:
    """self = samples of U[from_, to), in place."""
    def draw():
        host = _random._host_stream(generator, self.device)
        if host is None:  # a GPU (Philox) generator: drawn on the device
            u = _random.rand(*self.shape, generator=generator, dtype=self.dtype, device=self.device)
            return u * (to - from_) + from_
        return _random._placed(host.uniform(from_, to, size=self.shape), self.dtype, self.device)
    return _fill(self, "uniform_", draw)


def _raw(index):
    """An index with its tensors (masks, index lists) replaced by their arrays."""
    if isinstance(index, tuple):
        return tuple(_raw(i) for i in index)
    return index.array if isinstance(index, Tensor) else index


@export(method=("__setitem__",))
def setitem(self: Tensor, index, value) -> None:
    """self[index] = value, in place, with NumPy's indexing (``w.data[0, 1] = 2.5``, a mask,
    an index list); value is a number, an array or a tensor that broadcasts to the selection.
    Not recorded for autograd: on a tensor of a graph it raises, as ``fill_`` does."""

    def assigned(old: Tensor, v) -> Tensor:
        out = old.array.copy()
        out[_raw(index)] = v.array if isinstance(v, Tensor) else v
        return Tensor._make(out)

    _update(self, "__setitem__", assigned, value, differentiable=False)
