"""The CPU kernel set's own kernels (the conv trio is in test_conv_kernels.py): leaky_relu in
Numba must give the NumPy reference's values bit for bit, mask included."""
from __future__ import annotations

import numpy as np
import pytest

from kernels import conv, cuda_reference
from kernels.cpu_kernels import CpuKernels

IMPLS = ["numpy"] + (["numba"] if conv.NUMBA_AVAILABLE else [])


def _inputs(dtype):
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 7)).astype(dtype)
    flat = x.reshape(-1)
    flat[::7] = 0.0   # leaky_relu'(0) is the slope
    flat[3], flat[4], flat[5] = np.nan, -0.0, np.inf
    return x


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("slope", [0.2, 0.01, 0.0, 1.0, 0.3, 1.7])
@pytest.mark.parametrize("with_mask", [True, False])
def test_leaky_relu_matches_the_reference_bit_for_bit(impl, dtype, slope, with_mask):
    x = _inputs(dtype)
    y, mask = CpuKernels(impl).leaky_relu(x, slope, with_mask)
    y_ref, mask_ref = cuda_reference.leaky_relu(x, slope, with_mask)
    assert y.dtype == x.dtype and y.shape == x.shape
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(np.signbit(y), np.signbit(y_ref))  # -0.0 stays -0.0
    if with_mask:
        assert mask.dtype == x.dtype
        np.testing.assert_array_equal(mask, mask_ref)
    else:
        assert mask is None


@pytest.mark.parametrize("impl", IMPLS)
def test_leaky_relu_of_a_non_contiguous_view_and_of_float16(impl):
    x = _inputs(np.float64)[:, :, ::2, 1:]
    y, mask = CpuKernels(impl).leaky_relu(x, 0.2)
    y_ref, mask_ref = cuda_reference.leaky_relu(x, 0.2)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(mask, mask_ref)
    half = _inputs(np.float16)
    y, mask = CpuKernels(impl).leaky_relu(half, 0.2)
    assert y.dtype == np.float16
    np.testing.assert_array_equal(y, cuda_reference.leaky_relu(half, 0.2)[0])


def test_loading_minigrad_prefaults_the_blas_buffer_once():
    # in a fresh interpreter, so that this process's own import of minigrad does not count
    import subprocess
    import sys

    code = (
        "import kernels.openblas as o\n"
        "calls = []\n"
        "o.prefault_blas_buffer = lambda: calls.append(1)\n"
        "import minigrad, minigrad.backends\n"
        "import importlib; importlib.import_module('minigrad.nn')\n"
        "print(len(calls))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"
