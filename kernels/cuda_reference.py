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
           "gradient_penalty_grad", "philox_blocks", "philox_draw", "PHILOX_ELEMENTS_PER_BLOCK"]


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


# ----- Philox4x32-10 (kernels/cuda/random.cu) ----------------------------------------------
_PHILOX_M = (np.uint64(0xD2511F53), np.uint64(0xCD9E8D57))
_PHILOX_W = (0x9E3779B9, 0xBB67AE85)
#: counter blocks one element of each draw uses (the inverse: elements per block)
PHILOX_ELEMENTS_PER_BLOCK = {("uniform", "float32"): 4, ("uniform", "float64"): 2,
                             ("normal", "float32"): 2, ("normal", "float64"): 1}


def philox_blocks(blocks: np.ndarray, seed: int) -> np.ndarray:
    """Philox4x32-10 of counter blocks (uint64 array, as (lo, hi, 0, 0)) under key ``seed``:
    (len(blocks), 4) uint32."""
    mask = np.uint64(0xFFFFFFFF)
    c0, c1 = blocks & mask, blocks >> np.uint64(32)
    c2, c3 = np.zeros_like(blocks), np.zeros_like(blocks)
    k0, k1 = seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF
    for _ in range(10):
        p0, p1 = _PHILOX_M[0] * c0, _PHILOX_M[1] * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0), p1 & mask,
                          (p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1), p0 & mask)
        k0, k1 = (k0 + _PHILOX_W[0]) & 0xFFFFFFFF, (k1 + _PHILOX_W[1]) & 0xFFFFFFFF
    return np.stack([c0, c1, c2, c3], axis=1).astype(np.uint32)


def philox_draw(kind: str, n: int, dtype, seed: int, offset: int) -> np.ndarray:
    """What ``philox_<kind>_<f32|f64>`` writes for ``n`` elements from block ``offset``."""
    dtype = np.dtype(dtype)
    per_block = PHILOX_ELEMENTS_PER_BLOCK[(kind, dtype.name)]
    j = np.arange(n, dtype=np.uint64)
    lanes = philox_blocks(np.uint64(offset) + j // np.uint64(per_block), seed)
    pick = (j % np.uint64(per_block)).astype(np.int64) * (4 // per_block)
    rows = np.arange(n)

    def lane(k):
        return lanes[rows, pick + k]

    def unit(k):
        if dtype == np.float32:
            return (lane(k) >> np.uint32(8)).astype(np.float32) * np.float32(2.0 ** -24)
        wide = (lane(k) >> np.uint32(5)).astype(np.float64) * 67108864.0
        return (wide + (lane(k + 1) >> np.uint32(6)).astype(np.float64)) * 2.0 ** -53

    if kind == "uniform":
        return unit(0)
    step = 1 if dtype == np.float32 else 2
    u1, u2 = dtype.type(1) - unit(0), unit(step)
    angle = dtype.type(np.pi) * (dtype.type(2) * u2)  # cospi(2 u2) on the device
    return (np.sqrt(dtype.type(-2) * np.log(u1)) * np.cos(angle)).astype(dtype)
