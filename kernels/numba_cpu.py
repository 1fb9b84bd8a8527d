"""Numba CPU kernels for the data-movement halves of the convolution trio.

The GEMMs stay in NumPy/OpenBLAS; these kernels replace only the gathers and
scatters around them, where NumPy's strided ufunc loops are slow:

* ``im2col(x, geom)``   NCHW ``x`` -> columns ``(N*Ho*Wo, kH*kW*C)`` (row order
  ``(n, i, j)``, column order ``(p, q, c)``), padding folded in.
* ``col2im(cols, geom, N, C)``   the exact adjoint: columns -> NCHW ``(N, C, H, W)``,
  summing overlapping taps, dropping padding; pixels no tap reaches get 0.

Both parallelise over the batch (``prange``); each batch element works in its
own zero-initialised padded NHWC scratch image, so there are no write races
and no ``np.add.at``.  The NumPy reference versions live in ``kernels.conv``
(``_im2col_numpy`` / ``_col2im_numpy``) and the tests check agreement to 1e-12.

Importing this module imports numba; ``kernels.conv`` treats an ImportError
as "Numba unavailable" and falls back to NumPy.  Kernels are compiled lazily
on first use (per dtype) and cached on disk (``cache=True``).
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

__all__ = ["im2col", "col2im", "SUPPORTED_DTYPES"]

SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@njit(parallel=True, cache=True)
def _im2col_kernel(x, cols, Hp, Wp, sh, sw, dh, dw, pt, pl):  # pragma: no cover - jitted
    # x: (N, C, H, W) C-contiguous; cols: (N, Ho, Wo, kH, kW*C) C-contiguous.
    N, C, H, W = x.shape
    Ho = cols.shape[1]
    Wo = cols.shape[2]
    kH = cols.shape[3]
    kWC = cols.shape[4]
    kW = kWC // C
    for n in prange(N):
        # padded NHWC image of this sample, flattened to (Hp, Wp*C)
        buf = np.zeros((Hp, Wp * C), dtype=cols.dtype)
        for c in range(C):
            for h in range(H):
                row = h + pt
                for w in range(W):
                    buf[row, (w + pl) * C + c] = x[n, c, h, w]
        for i in range(Ho):
            for j in range(Wo):
                for p in range(kH):
                    r = i * sh + p * dh
                    if dw == 1:
                        # the kW taps of this row are one contiguous run of kW*C values
                        base = j * sw * C
                        for t in range(kWC):
                            cols[n, i, j, p, t] = buf[r, base + t]
                    else:
                        for q in range(kW):
                            base = (j * sw + q * dw) * C
                            for c in range(C):
                                cols[n, i, j, p, q * C + c] = buf[r, base + c]


@njit(parallel=True, cache=True)
def _col2im_kernel(cols, out, Hp, Wp, sh, sw, dh, dw, pt, pl):  # pragma: no cover - jitted
    # cols: (N, Ho, Wo, kH, kW*C) C-contiguous; out: (N, C, H, W) C-contiguous (overwritten).
    N, C, H, W = out.shape
    Ho = cols.shape[1]
    Wo = cols.shape[2]
    kH = cols.shape[3]
    kWC = cols.shape[4]
    kW = kWC // C
    for n in prange(N):
        buf = np.zeros((Hp, Wp * C), dtype=out.dtype)
        for i in range(Ho):
            for j in range(Wo):
                for p in range(kH):
                    r = i * sh + p * dh
                    if dw == 1:
                        base = j * sw * C
                        for t in range(kWC):
                            buf[r, base + t] += cols[n, i, j, p, t]
                    else:
                        for q in range(kW):
                            base = (j * sw + q * dw) * C
                            for c in range(C):
                                buf[r, base + c] += cols[n, i, j, p, q * C + c]
        for c in range(C):
            for h in range(H):
                row = h + pt
                for w in range(W):
                    out[n, c, h, w] = buf[row, (w + pl) * C + c]


def im2col(x: np.ndarray, geom) -> np.ndarray:
    """Columns ``(N*Ho*Wo, kH*kW*C)`` of NCHW ``x`` (float32/float64 NumPy array)."""
    x = np.ascontiguousarray(x)
    N, C = x.shape[:2]
    Ho, Wo = geom.out_hw
    kH, kW = geom.kernel_hw
    Hp, Wp = geom.padded_hw
    cols = np.empty((N, Ho, Wo, kH, kW * C), dtype=x.dtype)
    _im2col_kernel(x, cols, Hp, Wp, *geom.stride, *geom.dilation,
                   geom.padding4[0], geom.padding4[2])
    return cols.reshape(N * Ho * Wo, kH * kW * C)


def col2im(cols: np.ndarray, geom, N: int, C: int) -> np.ndarray:
    """Adjoint of :func:`im2col`: ``(N*Ho*Wo, kH*kW*C)`` -> C-contiguous ``(N, C, H, W)``."""
    Ho, Wo = geom.out_hw
    kH, kW = geom.kernel_hw
    Hp, Wp = geom.padded_hw
    H, W = geom.in_hw
    cols = np.ascontiguousarray(cols).reshape(N, Ho, Wo, kH, kW * C)
    out = np.empty((N, C, H, W), dtype=cols.dtype)
    _col2im_kernel(cols, out, Hp, Wp, *geom.stride, *geom.dilation,
                   geom.padding4[0], geom.padding4[2])
    return out


NUMBA_VERSION = numba.__version__
