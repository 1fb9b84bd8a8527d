"""The CUDA im2col/col2im kernels and the conv trio built on them (kernels.cuda_kernels),
on the host emulator (and a GPU when there is one), against kernels.conv's NumPy path.

Outputs are NaN-poisoned before each launch; inputs are fresh random arrays. im2col is a
copy and col2im sums its taps in the reference's order, so both must match exactly.
"""
from __future__ import annotations

import numpy as np
import pytest

from kernels import conv
from kernels.conv import conv_geometry, conv_transpose_geometry
from tests.kernels.cuda_targets import target  # noqa: F401 - the fixture

# (N, C, in_hw, kernel, stride, padding, dilation): small, and covering stride, TF SAME's
# asymmetric padding (odd totals put the extra row/column at the bottom/right), dilation
GEOMETRIES = [
    (2, 3, (5, 6), (3, 3), 1, 0, 1),
    (1, 2, (7, 6), (3, 2), (2, 1), "same", 1),
    (2, 1, (6, 6), (4, 4), 2, "same", 1),
    (1, 3, (8, 7), (3, 3), (1, 2), (1, 2, 0, 1), (2, 1)),
    (2, 2, (5, 5), (2, 3), 3, "same", (2, 2)),
]
DTYPES = [np.float32, np.float64]


def _case(spec, dtype, seed):
    N, C, in_hw, kernel, stride, padding, dilation = spec
    geom = conv_geometry(in_hw, kernel, stride, padding, dilation)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, *in_hw)).astype(dtype)
    return geom, x, rng


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spec", GEOMETRIES)
def test_im2col_and_col2im_match_the_numpy_reference_exactly(target, spec, dtype):
    geom, x, rng = _case(spec, dtype, seed=len(spec[2]) * 7 + spec[0])
    N, C = x.shape[:2]
    cols = target.to_host(target.kernels.im2col(target.to_device(x), geom))
    np.testing.assert_array_equal(cols, conv._im2col_numpy(np, x, geom, np.dtype(dtype)))
    dcols = rng.standard_normal(cols.shape).astype(dtype)
    back = target.to_host(target.kernels.col2im(target.to_device(dcols), geom, N, C))
    np.testing.assert_array_equal(back, conv._col2im_numpy(np, dcols, geom, N, C, np.dtype(dtype)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spec", GEOMETRIES[1:4])
def test_conv_trio_matches_kernels_conv(target, spec, dtype):
    geom, x, rng = _case(spec, dtype, seed=11)
    O = 4
    w = rng.standard_normal((O, x.shape[1], *geom.kernel_hw)).astype(dtype)
    gy = rng.standard_normal((x.shape[0], O, *geom.out_hw)).astype(dtype)
    tol = dict(rtol=2e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    dev = target.to_device
    k = target.kernels
    np.testing.assert_allclose(target.to_host(k.conv2d(dev(x), dev(w), geom)),
                               conv.conv2d(x, w, geom, impl="numpy"), **tol)
    np.testing.assert_allclose(target.to_host(k.conv2d_input_grad(dev(gy), dev(w), geom)),
                               conv.conv2d_input_grad(gy, w, geom, impl="numpy"), **tol)
    np.testing.assert_allclose(target.to_host(k.conv2d_weight_grad(dev(x), dev(gy), geom)),
                               conv.conv2d_weight_grad(x, gy, geom, impl="numpy"), **tol)


def test_conv_transpose2d_with_output_padding(target):
    # PyTorch semantics: (3-1)*2 - 2 + (3-1) + 1 + 1 = 6 outputs per side, w (C_in, C_out, k, k)
    geom = conv_transpose_geometry((3, 3), 3, stride=2, padding=1, output_padding=1)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 3, 3))
    w = rng.standard_normal((3, 2, 3, 3))
    y = target.to_host(target.kernels.conv_transpose2d(target.to_device(x), target.to_device(w), geom))
    assert y.shape == (2, 2, 6, 6)
    np.testing.assert_allclose(y, conv.conv_transpose2d(x, w, geom, impl="numpy"), rtol=1e-12, atol=1e-12)


def test_other_dtypes_and_impl_numpy_take_the_array_module_path(target):
    geom = conv_geometry((4, 4), 3, padding=1)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 2, 4, 4))
    w16 = rng.standard_normal((3, 2, 3, 3)).astype(np.float16)
    dev = target.to_device
    mixed = target.to_host(target.kernels.conv2d(dev(x.astype(np.float32)), dev(w16), geom))
    assert mixed.dtype == np.float32  # promoted as kernels.conv does
    np.testing.assert_allclose(mixed, conv.conv2d(x.astype(np.float32), w16, geom), rtol=1e-5, atol=1e-5)
    w = w16.astype(np.float64)
    np.testing.assert_array_equal(target.to_host(target.kernels.conv2d(dev(x), dev(w), geom, impl="numpy")),
                                  conv.conv2d(x, w, geom, impl="numpy"))
    with pytest.raises(ValueError, match="impl must be None or 'numpy'"):
        target.kernels.conv2d(dev(x), dev(w), geom, impl="numba")


def test_bad_shapes_are_rejected_before_any_launch(target):
    geom = conv_geometry((4, 4), 3)
    x = target.to_device(np.zeros((1, 2, 5, 4)))
    with pytest.raises(ValueError, match="does not match geometry in_hw"):
        target.kernels.im2col(x, geom)
    with pytest.raises(ValueError, match="cols of shape"):
        target.kernels.col2im(target.to_device(np.zeros((4, 17))), geom, 1, 2)
    with pytest.raises(TypeError, match="float32 or float64"):
        target.kernels.im2col(target.to_device(np.zeros((1, 2, 4, 4), np.float16)), geom)
