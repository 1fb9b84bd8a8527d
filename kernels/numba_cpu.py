"""Numba CPU kernels for the data-movement halves of the convolution trio.

The GEMMs stay in NumPy/OpenBLAS; these kernels replace only the gathers and
scatters around them, where NumPy's strided ufunc loops are slow:

* ``im2col(x, geom)``   NCHW ``x`` -> columns ``(N*Ho*Wo, kH*kW*C)`` (row order
  ``(n, i, j)``, column order ``(p, q, c)``), padding folded in.
* ``col2im(cols, geom, N, C)``   the exact adjoint: columns -> NCHW ``(N, C, H, W)``,
  summing overlapping taps, dropping padding; pixels no tap reaches get 0.

and one elementwise kernel, ``leaky_relu(x, slope, with_mask)``: y and its derivative mask in
one pass over memory, where NumPy's version takes five (the same values, bit for bit, as
:func:`kernels.cuda_reference.leaky_relu`).

Each batch element works in its own zero-initialised padded NHWC scratch image.
The kernels run on the calling thread only: OpenBLAS's worker threads keep
spinning for a while after every GEMM, so a parallel region between two GEMMs
fought them for the cores, and a whole WGAN-GP critic iteration ran 15% faster
with single-threaded gathers (benchmarks/NOTES.md, "Thread interference").  The NumPy reference versions live in ``kernels.conv``
(``_im2col_numpy`` / ``_col2im_numpy``) and the tests check agreement to 1e-12.

Importing this module imports numba; ``kernels.conv`` treats an ImportError
as "Numba unavailable" and falls back to NumPy.  Kernels are compiled lazily
on first use (per dtype) and cached on disk (``cache=True``).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .cuda_reference import leaky_relu as _leaky_relu_reference

__all__ = ["im2col", "col2im", "leaky_relu", "SUPPORTED_DTYPES"]

SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_u = np.uint64

# Notes on the loop bodies (measured, see benchmarks/NOTES.md):
# * innermost contiguous runs use *unsigned* indices.  With signed indices numba
#   emits a negative-index wraparound check per access, which stopped LLVM from
#   vectorising the copy (a signed scalar-loop version was ~3x slower for C=64).
#   Mixing uint64 and int64 in arithmetic gives float64 in numba, so every term
#   of an unsigned index is converted with ``_u`` first.
# * slice-assignment versions were no faster (col2im ~1.5x slower) and took ~4x
#   longer to compile cold (tens of seconds), so plain loops it is.
# * the kernels do no bounds checking: the Python wrappers below validate shapes
#   and dtypes against the geometry before launching them.


@njit(cache=True)
def _im2col_kernel(x, cols, Hp, Wp, sh, sw, dh, dw, pt, pl):  # pragma: no cover - jitted
    # x: (N, C, H, W) C-contiguous; cols: (N, Ho, Wo, kH, kW*C) C-contiguous.
    N, C, H, W = x.shape
    Ho = cols.shape[1]
    Wo = cols.shape[2]
    kH = cols.shape[3]
    kWC = cols.shape[4]
    kW = kWC // C
    uC = _u(C)
    ukWC = _u(kWC)
    # padded NHWC image of one sample, as (Hp, Wp*C): each sample overwrites the interior,
    # so the padding stays zero
    buf = np.zeros((Hp, Wp * C), dtype=cols.dtype)
    for n in range(N):
        for h in range(H):
            brow = buf[h + pt]
            for w in range(W):
                base = _u((w + pl) * C)
                for c in range(uC):
                    brow[base + c] = x[n, c, h, w]
        for i in range(Ho):
            for j in range(Wo):
                for p in range(kH):
                    src = buf[i * sh + p * dh]
                    dst = cols[n, i, j, p]
                    if dw == 1:
                        # the kW taps of this row are one contiguous run of kW*C values
                        base = _u(j * sw * C)
                        for t in range(ukWC):
                            dst[t] = src[base + t]
                    else:
                        for q in range(kW):
                            sbase = _u((j * sw + q * dw) * C)
                            dbase = _u(q * C)
                            for c in range(uC):
                                dst[dbase + c] = src[sbase + c]


@njit(cache=True)
def _col2im_kernel(cols, out, Hp, Wp, sh, sw, dh, dw, pt, pl):  # pragma: no cover - jitted
    # cols: (N, Ho, Wo, kH, kW*C) C-contiguous; out: (N, C, H, W) C-contiguous (overwritten).
    N, C, H, W = out.shape
    Ho = cols.shape[1]
    Wo = cols.shape[2]
    kH = cols.shape[3]
    kWC = cols.shape[4]
    kW = kWC // C
    uC = _u(C)
    ukWC = _u(kWC)
    buf = np.empty((Hp, Wp * C), dtype=out.dtype)
    for n in range(N):
        buf[:] = 0
        for i in range(Ho):
            for j in range(Wo):
                for p in range(kH):
                    dst = buf[i * sh + p * dh]
                    src = cols[n, i, j, p]
                    if dw == 1:
                        base = _u(j * sw * C)
                        for t in range(ukWC):
                            dst[base + t] += src[t]
                    else:
                        for q in range(kW):
                            dbase = _u((j * sw + q * dw) * C)
                            sbase = _u(q * C)
                            for c in range(uC):
                                dst[dbase + c] += src[sbase + c]
        for h in range(H):
            brow = buf[h + pt]
            for w in range(W):
                base = _u((w + pl) * C)
                for c in range(uC):
                    out[n, c, h, w] = brow[base + c]


def _check_dtype(a):
    if a.dtype not in SUPPORTED_DTYPES:
        raise TypeError(f"numba conv kernels support float32/float64, got {a.dtype}")


def im2col(x: np.ndarray, geom) -> np.ndarray:
    """Columns ``(N*Ho*Wo, kH*kW*C)`` of NCHW ``x`` (float32/float64 NumPy array)."""
    x = np.ascontiguousarray(x)
    _check_dtype(x)
    if x.ndim != 4 or tuple(x.shape[2:]) != geom.in_hw:
        raise ValueError(f"x of shape {x.shape} does not match geometry in_hw {geom.in_hw}")
    N, C = x.shape[:2]
    Ho, Wo = geom.out_hw
    kH, kW = geom.kernel_hw
    Hp, Wp = geom.padded_hw
    if N * C == 0:
        return np.zeros((N * Ho * Wo, kH * kW * C), dtype=x.dtype)
    cols = np.empty((N, Ho, Wo, kH, kW * C), dtype=x.dtype)
    _im2col_kernel(x, cols, Hp, Wp, *geom.stride, *geom.dilation, geom.padding4[0],
                   geom.padding4[2])
    return cols.reshape(N * Ho * Wo, kH * kW * C)


def col2im(cols: np.ndarray, geom, N: int, C: int) -> np.ndarray:
    """Adjoint of :func:`im2col`: ``(N*Ho*Wo, kH*kW*C)`` -> C-contiguous ``(N, C, H, W)``."""
    Ho, Wo = geom.out_hw
    kH, kW = geom.kernel_hw
    Hp, Wp = geom.padded_hw
    H, W = geom.in_hw
    _check_dtype(cols)
    if cols.shape != (N * Ho * Wo, kH * kW * C):
        raise ValueError(f"cols of shape {cols.shape} does not match "
                         f"{(N * Ho * Wo, kH * kW * C)} for N={N}, C={C}, {geom}")
    if N * C == 0:
        return np.zeros((N, C, H, W), dtype=cols.dtype)
    cols = np.ascontiguousarray(cols).reshape(N, Ho, Wo, kH, kW * C)
    out = np.empty((N, C, H, W), dtype=cols.dtype)
    _col2im_kernel(cols, out, Hp, Wp, *geom.stride, *geom.dilation, geom.padding4[0],
                   geom.padding4[2])
    return out


@njit(cache=True)
def _leaky_relu_kernel(x, y, mask, positive, negative):  # pragma: no cover - jitted
    # x, y, mask: 1-D, same length; mask of length 0 means "no mask"
    if mask.size:
        for i in range(x.size):
            m = positive if x[i] > 0 else negative
            mask[i] = m
            y[i] = x[i] * m
    else:
        for i in range(x.size):
            y[i] = x[i] if x[i] > 0 else x[i] * negative


def leaky_relu(x: np.ndarray, negative_slope: float, with_mask: bool = True):
    """(y, mask) of :func:`kernels.cuda_reference.leaky_relu`, bit for bit, in one pass.

    Single-threaded: at the model's sizes (about 1M elements) one pass takes well under a
    millisecond, and a parallel region would compete with OpenBLAS's spinning threads.
    Non-contiguous or non-float32/64 input takes the NumPy reference.
    """
    if x.dtype not in SUPPORTED_DTYPES or not x.flags.c_contiguous:
        return _leaky_relu_reference(x, negative_slope, with_mask)
    dtype = x.dtype.type
    # the reference's mask values: 1 -> 1 * (1 - s) + s and 0 -> 0 * (1 - s) + s, in x's dtype
    negative = dtype(negative_slope)
    positive = dtype(dtype(1.0 - negative_slope) + negative)
    y = np.empty_like(x)
    mask = np.empty_like(x) if with_mask else np.empty(0, x.dtype)
    _leaky_relu_kernel(x.reshape(-1), y.reshape(-1), mask.reshape(-1), positive, negative)
    return y, (mask if with_mask else None)
