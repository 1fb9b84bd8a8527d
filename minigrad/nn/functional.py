"""Functional layers (``import minigrad.nn.functional as F``), PyTorch's names.

The ops live in ``minigrad.ops`` by family; every one declared ``@export(functional=True)``
there (conv2d, max_pool2d, cross_entropy, ...) is gathered here, and ``linear``, a
composite of matmul, is added.
"""
from __future__ import annotations

from ..ops import public as _public
from ..ops.linalg import matmul
from ..ops.shape import reshape, transpose
from ..tensor import Tensor

_OPS = _public("functional")
globals().update(_OPS)
__all__ = sorted([*_OPS, "linear"])


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x @ weight^T + bias.

    x: (*, in), weight: (out, in), bias: (out,) or None -> y: (*, out).

    ``weight^T`` is a transposed view (matmul takes it without a copy). Inputs
    with more than two dims are flattened to (N, in) first: one matrix product
    instead of a batch of them, and a weight gradient computed as a single
    (out, N) @ (N, in) product rather than per-batch products summed afterwards.
    """
    if x.ndim > 2:
        lead = x.shape[:-1]
        y = matmul(reshape(x, (-1, x.shape[-1])), transpose(weight, 0, 1))
        y = reshape(y, lead + (weight.shape[0],))
    else:
        y = matmul(x, transpose(weight, 0, 1))
    return y if bias is None else y + bias
