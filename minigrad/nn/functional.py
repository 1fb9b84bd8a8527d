"""Functional layers (``import minigrad.nn.functional as F``), PyTorch's names.

The ops live in ``minigrad.ops`` by family; this module gathers them under the
names PyTorch uses and adds ``linear``, a composite of matmul.
"""
from __future__ import annotations

from ..ops.activation import dropout, elu, leaky_relu, log_softmax, softmax, softplus
from ..ops.conv import conv2d, conv_transpose2d
from ..ops.elementwise import relu, sigmoid, tanh
from ..ops.linalg import matmul
from ..ops.loss import (
    binary_cross_entropy_with_logits, cross_entropy, gradient_penalty, mse_loss, safe_norm,
)
from ..ops.norm import batch_norm, layer_norm
from ..ops.pool import avg_pool2d, embedding, interpolate, max_pool2d, pad
from ..ops.shape import reshape, transpose
from ..tensor import Tensor

__all__ = [
    "avg_pool2d", "batch_norm", "binary_cross_entropy_with_logits", "conv2d", "conv_transpose2d",
    "cross_entropy", "dropout", "elu", "embedding", "gradient_penalty", "interpolate",
    "layer_norm", "leaky_relu", "linear", "log_softmax", "max_pool2d", "mse_loss", "pad", "relu",
    "safe_norm", "sigmoid", "softmax", "softplus", "tanh",
]


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
