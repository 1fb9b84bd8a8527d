"""Cases for the Numba CUDA kernels (kernels.numba_cuda); test_cuda_numba.py runs this file
in its own process, under NUMBA_ENABLE_CUDASIM=1 (or on a GPU), since Numba reads that
variable once, at import. Shapes are tiny: the simulator runs each CUDA thread as a
Python thread."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.ops.pool import WindowScatter


@pytest.fixture(scope="module")
def xp():
    from numba import config

    if config.ENABLE_CUDASIM:
        return np
    import cupy

    return cupy


def _host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scatter_add_rows_accumulates_repeated_indices(xp, dtype):
    from kernels.numba_cuda import scatter_add_rows

    rng = np.random.default_rng(0)
    rows = rng.standard_normal((12, 5)).astype(dtype)
    index = rng.integers(0, 4, 12)
    index[:3] = 2  # repeats must add up
    out = _host(scatter_add_rows(xp.asarray(rows), xp.asarray(index), 6))
    expected = np.zeros((6, 5), dtype)
    np.add.at(expected, index, rows)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)
    assert not out[[4, 5]].any()  # rows no index names stay zero


def test_scatter_add_rows_rejects_bad_arguments(xp):
    from kernels.numba_cuda import scatter_add_rows

    with pytest.raises(ValueError, match=r"rows must be \(M, D\) and index \(M,\)"):
        scatter_add_rows(xp.zeros((3, 2)), xp.zeros(4, dtype=np.int64), 5)
    with pytest.raises(TypeError, match="index must hold integers"):
        scatter_add_rows(xp.zeros((3, 2)), xp.zeros(3), 5)
    with pytest.raises(TypeError, match="float32 or float64"):
        scatter_add_rows(xp.zeros((3, 2), dtype=np.int32), xp.zeros(3, dtype=np.int64), 5)


# (in_hw, kernel, stride, padding): overlapping windows, padding, a stride remainder
WINDOWS = [((5, 5), (3, 3), (1, 1), (1, 1)), ((6, 5), (2, 3), (2, 2), (0, 1)),
           ((4, 4), (2, 2), (2, 2), (0, 0))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("in_hw, kernel, stride, padding", WINDOWS)
def test_window_scatter_matches_minigrad(xp, dtype, in_hw, kernel, stride, padding):
    from kernels.numba_cuda import window_scatter

    out_hw = tuple((n + 2 * p - k) // s + 1 for n, k, s, p in zip(in_hw, kernel, stride, padding))
    g = np.random.default_rng(1).standard_normal((2, 2, *out_hw)).astype(dtype)
    result = _host(window_scatter(xp.asarray(g), kernel, stride, padding, in_hw))
    expected = WindowScatter.apply(mg.tensor(g), kernel=kernel, stride=stride, padding=padding,
                                   in_hw=in_hw, out_hw=out_hw).numpy()
    assert result.dtype == dtype
    np.testing.assert_allclose(result, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)


def test_window_scatter_checks_the_gradient_shape(xp):
    from kernels.numba_cuda import window_scatter

    with pytest.raises(ValueError, match=r"g must be \(N, C, 2, 2\)"):
        window_scatter(xp.zeros((1, 1, 3, 3)), (2, 2), (2, 2), (0, 0), (4, 4))
