"""Numba CUDA kernels (``numba.cuda.jit``) for the backward scatters of pooling and embedding.

* ``scatter_add_rows(rows, index, num_rows)``: out[index[m], :] += rows[m, :], the adjoint of
  a row gather: embedding's weight gradient, and with one column the flat ``ScatterAdd``
  that max_pool2d's backward is. Repeated indices accumulate, through ``cuda.atomic.add``.
* ``window_scatter(g, kernel, stride, padding, in_hw)``: the adjoint of a pooling window
  sum (minigrad.ops.pool.WindowScatter): every g[n, c, i, j] added to each pixel of window
  (i, j), overlaps summed, padding dropped; avg_pool2d's backward up to its 1/count. In
  gather form, as col2im: one thread per input pixel sums the windows that cover it.

The NumPy references are ``numpy.add.at`` and minigrad's ``WindowScatter`` (the tests run
both). Arrays may be CuPy arrays (passed through ``__cuda_array_interface__``) or, under
the simulator (``NUMBA_ENABLE_CUDASIM=1``, how the test suite runs these on a CPU),
NumPy arrays; the results are arrays of the inputs' module. Kernels compile on first call.
"""
from __future__ import annotations

import numpy as np
from numba import cuda

from .conv import array_module

__all__ = ["scatter_add_rows", "window_scatter", "THREADS"]

THREADS = 128


@cuda.jit
def _scatter_add_rows_kernel(rows, index, out):  # pragma: no cover - runs on the device
    m, d = cuda.grid(2)
    if m < rows.shape[0] and d < rows.shape[1]:
        cuda.atomic.add(out, (index[m], d), rows[m, d])


@cuda.jit
def _window_scatter_kernel(g, out, kh, kw, sh, sw, ph, pw, zero):  # pragma: no cover - on the device
    # zero: 0 in g's dtype, so a float32 sum stays in float32
    i = cuda.grid(1)
    n_, c_, h_, w_ = out.shape
    ho, wo = g.shape[2], g.shape[3]
    if i >= n_ * c_ * h_ * w_:
        return
    w = i % w_
    h = (i // w_) % h_
    c = (i // (w_ * h_)) % c_
    n = i // (w_ * h_ * c_)
    total = zero
    for p in range(kh):
        hs = h + ph - p  # = row * sh for the window row that holds this pixel at tap p
        if hs < 0 or hs % sh != 0 or hs // sh >= ho:
            continue
        for q in range(kw):
            ws = w + pw - q
            if ws < 0 or ws % sw != 0 or ws // sw >= wo:
                continue
            total += g[n, c, hs // sh, ws // sw]
    out[n, c, h, w] = total


def _check_float(what: str, a) -> None:
    if np.dtype(a.dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"{what}: needs a float32 or float64 array, got {a.dtype}")


def scatter_add_rows(rows, index, num_rows: int):
    """out (num_rows, D) = 0; out[index[m]] += rows[m]. rows (M, D) float, index (M,) ints in
    [0, num_rows) (not checked on the device: the caller validates, as embedding does)."""
    xp = array_module(rows)
    _check_float("scatter_add_rows", rows)
    if rows.ndim != 2 or index.shape != rows.shape[:1]:
        raise ValueError(f"scatter_add_rows: rows must be (M, D) and index (M,), got "
                         f"{tuple(rows.shape)} and {tuple(index.shape)}")
    if np.dtype(index.dtype).kind not in "iu":
        raise TypeError(f"scatter_add_rows: index must hold integers, got {index.dtype}")
    out = xp.zeros((num_rows, rows.shape[1]), dtype=rows.dtype)
    if rows.size:
        block = (THREADS // 32, 32)
        grid = (-(-rows.shape[0] // block[0]), -(-rows.shape[1] // block[1]))
        _scatter_add_rows_kernel[grid, block](xp.ascontiguousarray(rows), xp.ascontiguousarray(index), out)
    return out


def window_scatter(g, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int],
                   in_hw: tuple[int, int]):
    """g (N, C, Ho, Wo) -> (N, C, H, W): each g value added over its window of the zero-padded
    input, overlaps summed, padding dropped (WindowScatter's forward)."""
    xp = array_module(g)
    _check_float("window_scatter", g)
    (kh, kw), (sh, sw), (ph, pw), (h, w) = kernel, stride, padding, in_hw
    expected = ((h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
    if g.ndim != 4 or tuple(g.shape[2:]) != expected:
        raise ValueError(f"window_scatter: g must be (N, C, {expected[0]}, {expected[1]}) for input "
                         f"{in_hw}, kernel {kernel}, stride {stride}, padding {padding}; "
                         f"got {tuple(g.shape)}")
    out = xp.empty((g.shape[0], g.shape[1], h, w), dtype=g.dtype)
    if out.size:
        grid = -(-out.size // THREADS)
        _window_scatter_kernel[grid, THREADS](xp.ascontiguousarray(g), out, kh, kw, sh, sw, ph, pw,
                                              g.dtype.type(0))
    return out
