"""Normalisation: batch_norm and layer_norm, composed from primitive ops.

Both are built from ``mean``, subtraction, multiplication and ``rsqrt``, so
their derivatives of every order are exact: the batch statistics stay in the
graph as functions of ``x``. That is the point of this file. DeZero's batchnorm
cached the inverse standard deviation and treated it as a constant in its
backward, so d2y/dx2 was wrong; Chainer's hand-written double backward is exact
only to order 2. Composing costs a few more temporaries than a fused kernel but
nothing can drift out of sync between orders.

The only values treated as constants are the running statistics in eval mode,
which really are constants of the batch (PyTorch does not differentiate them
either).
"""
from __future__ import annotations

from collections.abc import Sequence

from ..tensor import Tensor
from ._export import export
from .elementwise import rsqrt
from .reduce import mean
from .shape import reshape


def _check_channel_vector(t: Tensor | None, name: str, channels: int) -> None:
    if t is not None and t.shape != (channels,):
        raise ValueError(f"batch_norm: {name} has shape {t.shape}, expected ({channels},)")


@export(functional=True)
def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over every axis but the channel axis 1 (PyTorch's ``F.batch_norm``).

    ``x``: (N, C), (N, C, L), (N, C, H, W) or any (N, C, *). ``running_mean``,
    ``running_var``, ``weight``, ``bias``: (C,) or None. Output: x's shape.

    Training: with mu and var the mean and biased variance of x over the axes
    A = (0, 2, 3, ...) of each channel,

        y = (x - mu) / sqrt(var + eps) * weight + bias

    and, if given, the running statistics are updated in place on their
    ``.array`` (not recorded): ``r <- (1 - momentum) r + momentum s``, where the
    variance statistic s is the unbiased batch variance ``var * n / (n - 1)``
    with n = |A| elements per channel, as PyTorch does.

    Eval: mu and var are the running statistics, constants.

    mu and var are graph nodes (``mean`` of x, ``mean`` of the squared
    deviations), so d(var)/dx = 2 (x - mu) / n and all higher derivatives flow
    through them; nothing cached is frozen.
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, *), got {x.shape}")
    channels = x.shape[1]
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                    (weight, "weight"), (bias, "bias")):
        _check_channel_vector(t, name, channels)
    axes = (0,) + tuple(range(2, x.ndim))
    stat_shape = (1, channels) + (1,) * (x.ndim - 2)

    if training:
        count = x.numel() // max(channels, 1)
        if count <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {x.shape}"
            )
        mu = mean(x, axes, keepdim=True)
        centered = x - mu
        var = mean(centered * centered, axes, keepdim=True)
        inv_std = rsqrt(var + eps)
        _update_running(running_mean, mu.array.reshape(channels), momentum)
        _update_running(running_var, var.array.reshape(channels) * (count / (count - 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var must be given in eval mode")
        centered = x - _buffer(running_mean, stat_shape, x.dtype)
        inv_std = rsqrt(_buffer(running_var, stat_shape, x.dtype) + eps)

    # folding the per-channel weight into the per-channel scale saves one full-size temporary
    scale = inv_std if weight is None else inv_std * reshape(weight, stat_shape)
    y = centered * scale
    return y if bias is None else y + reshape(bias, stat_shape)


def _buffer(stat: Tensor, shape: tuple[int, ...], dtype) -> Tensor:
    """A running statistic as a constant: buffers are never differentiated (as in PyTorch)."""
    return Tensor._make(stat.array.reshape(shape).astype(dtype, copy=False))


def _update_running(stat: Tensor | None, batch_value, momentum: float) -> None:
    if stat is None:
        return
    data = stat.array
    data *= 1.0 - momentum
    data += momentum * batch_value.astype(data.dtype, copy=False)


@export(functional=True)
def layer_norm(
    x: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Layer normalisation over the trailing ``normalized_shape`` dims (PyTorch's ``F.layer_norm``).

    ``x``: (*, *normalized_shape); ``weight``, ``bias``: normalized_shape or None.
    With mu and var the mean and biased variance over those trailing dims of
    each leading index,

        y = (x - mu) / sqrt(var + eps) * weight + bias

    Each sample is normalised on its own, so unlike batch_norm it has no
    cross-sample coupling (which is why WGAN-GP critics use it: the penalty is
    per sample). Exact at every order for the same reason as ``batch_norm``.
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or x.shape[x.ndim - k:] != shape:
        raise ValueError(
            f"layer_norm: normalized_shape {shape} does not match the trailing dims of the input "
            f"of shape {x.shape}"
        )
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and t.shape != shape:
            raise ValueError(f"layer_norm: {name} has shape {t.shape}, expected {shape}")
    axes = tuple(range(x.ndim - k, x.ndim))
    centered = x - mean(x, axes, keepdim=True)
    var = mean(centered * centered, axes, keepdim=True)
    y = centered * rsqrt(var + eps)
    if weight is not None:
        y = y * weight
    return y if bias is None else y + bias
