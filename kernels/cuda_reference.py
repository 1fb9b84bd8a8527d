"""NumPy references for the CUDA kernels that have no other NumPy twin.

im2col/col2im are checked against :mod:`kernels.conv` (``_im2col_numpy``,
``_col2im_numpy``) and the optimizer kernels against ``minigrad.optim`` itself; the
activation and gradient-penalty kernels against the functions here, which restate
``minigrad.ops.activation.LeakyRelu.forward`` and ``minigrad.ops.loss.gradient_penalty``
on raw arrays (kernels must not import minigrad).
"""
from __future__ import annotations

import numpy as np

__all__ = ["leaky_relu", "bias_leaky_relu", "gradient_penalty_norms", "gradient_penalty",
           "gradient_penalty_grad"]


def leaky_relu(x: np.ndarray, negative_slope: float, with_mask: bool = True):
    """(y, mask) as LeakyRelu.forward builds them; mask None without ``with_mask``."""
    positive = x > 0
    if not with_mask:
        return np.where(positive, x, x * x.dtype.type(negative_slope)), None
    mask = positive.astype(x.dtype)
    mask *= 1.0 - negative_slope
    mask += negative_slope
    return x * mask, mask


def bias_leaky_relu(x: np.ndarray, bias: np.ndarray, negative_slope: float, with_mask: bool = True):
    """leaky_relu(x + bias on axis 1): x (N, C, *spatial), bias (C,)."""
    z = x + bias.reshape((1, -1) + (1,) * (x.ndim - 2))
    return leaky_relu(z, negative_slope, with_mask)


def gradient_penalty_norms(g: np.ndarray, eps: float) -> np.ndarray:
    """safe_norm: sqrt(sum over all but axis 0 of g^2 + eps), (N, *) -> (N,)."""
    flat = g.reshape(g.shape[0], -1)
    return np.sqrt((flat * flat).sum(axis=1) + g.dtype.type(eps))


def gradient_penalty(norms: np.ndarray, center: float) -> np.ndarray:
    """mean (norms - center)^2, a 0-d array."""
    deviation = norms - norms.dtype.type(center)
    return np.asarray((deviation * deviation).mean())


def gradient_penalty_grad(g: np.ndarray, norms: np.ndarray, center: float) -> np.ndarray:
    """d gradient_penalty(gradient_penalty_norms(g)) / dg = 2/N (norm - center) / norm * g."""
    scale = 2.0 / g.shape[0] * (norms - center) / norms
    return (scale.reshape((-1,) + (1,) * (g.ndim - 1)) * g).astype(g.dtype)
