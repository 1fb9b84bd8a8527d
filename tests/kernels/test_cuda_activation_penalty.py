"""The fused activation and gradient-penalty CUDA kernels on the host emulator (and a GPU
when there is one), against their NumPy references (kernels.cuda_reference) and minigrad.

The activations must match bit for bit: the kernel builds the same mask values as
minigrad's LeakyRelu. The penalty's sums run in another order, so those compare to 1e-6
(float32) and 1e-13 (float64).
"""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from kernels import cuda_reference as ref
from tests.kernels.cuda_targets import target  # noqa: F401 - the fixture

DTYPES = [np.float32, np.float64]


def _inputs(shape, dtype, seed):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    x.reshape(-1)[::7] = 0  # the boundary: leaky_relu'(0) is the slope
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("slope", [0.2, 0.01, 0.0, 1.0, 0.3])
@pytest.mark.parametrize("with_mask", [True, False])
def test_leaky_relu_and_its_mask_match_exactly(target, dtype, slope, with_mask):
    x = _inputs((3, 5, 7), dtype, seed=int(slope * 100))
    y, mask = target.kernels.leaky_relu(target.to_device(x), slope, with_mask=with_mask)
    y_ref, mask_ref = ref.leaky_relu(x, slope, with_mask)
    np.testing.assert_array_equal(target.to_host(y), y_ref)
    assert (mask is None) == (not with_mask)
    if with_mask:
        np.testing.assert_array_equal(target.to_host(mask), mask_ref)
    out = mg.nn.functional.leaky_relu(mg.tensor(x, requires_grad=with_mask), slope)
    np.testing.assert_array_equal(target.to_host(y), out.detach().numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (6, 9)])
def test_bias_leaky_relu_matches_exactly(target, dtype, shape):
    x = _inputs(shape, dtype, seed=3)
    bias = np.random.default_rng(4).standard_normal(shape[1]).astype(dtype)
    y, mask = target.kernels.bias_leaky_relu(target.to_device(x), target.to_device(bias), 0.2)
    y_ref, mask_ref = ref.bias_leaky_relu(x, bias, 0.2)
    np.testing.assert_array_equal(target.to_host(y), y_ref)
    np.testing.assert_array_equal(target.to_host(mask), mask_ref)
    with pytest.raises(ValueError, match=r"x must be \(N, C, \*spatial\) and bias \(C,\)"):
        target.kernels.bias_leaky_relu(target.to_device(x), target.to_device(bias[:-1]), 0.2)


def test_leaky_relu_keeps_nan_and_rejects_mixed_dtypes(target):
    x = np.array([np.nan, -1.0, 2.0], np.float32)
    y, mask = target.kernels.leaky_relu(target.to_device(x), 0.2)
    np.testing.assert_array_equal(target.to_host(y), ref.leaky_relu(x, 0.2)[0])
    with pytest.raises(TypeError, match="one dtype"):
        target.kernels.bias_leaky_relu(target.to_device(x.reshape(1, 3)),
                                       target.to_device(np.zeros(3, np.float64)))


def _tolerance(dtype):
    return dict(rtol=1e-6, atol=1e-7) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-15)


# D = 1 (one lane busy), 35 (< one block), 600 (several strides per thread); 20 blocks
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 1), (4, 5, 7), (2, 600), (20, 3)])
def test_gradient_penalty_norms_penalty_and_grad(target, dtype, shape):
    g = np.random.default_rng(shape[0]).standard_normal(shape).astype(dtype)
    g[0] = 0  # a zero input gradient: finite thanks to eps
    k, dev = target.kernels, target.to_device
    norms = k.gradient_penalty_norms(dev(g), 1e-12)
    np.testing.assert_allclose(target.to_host(norms), ref.gradient_penalty_norms(g, 1e-12),
                               **_tolerance(dtype))
    penalty = target.to_host(k.gradient_penalty(norms, 1.0))
    assert penalty.shape == () and penalty.dtype == dtype
    np.testing.assert_allclose(penalty, ref.gradient_penalty(target.to_host(norms), 1.0),
                               **_tolerance(dtype))
    grad = target.to_host(k.gradient_penalty_grad(dev(g), norms, 1.0))
    np.testing.assert_allclose(grad, ref.gradient_penalty_grad(g, target.to_host(norms), 1.0),
                               **_tolerance(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("N", [1, 300])  # 300: the penalty's one block strides over the batch
def test_gradient_penalty_of_given_norms(target, dtype, N):
    norms = np.random.default_rng(N).uniform(0, 2, N).astype(dtype)
    penalty = target.to_host(target.kernels.gradient_penalty(target.to_device(norms), 0.9))
    np.testing.assert_allclose(penalty, ref.gradient_penalty(norms, 0.9), **_tolerance(dtype))


def test_gradient_penalty_kernels_agree_with_minigrads_autograd(target):
    g = np.random.default_rng(9).standard_normal((5, 2, 3, 3))
    norms = target.kernels.gradient_penalty_norms(target.to_device(g), 1e-12)
    grad = target.to_host(target.kernels.gradient_penalty_grad(target.to_device(g), norms, 0.5))
    gt = mg.tensor(g, requires_grad=True)
    deviation = mg.nn.functional.safe_norm(gt, eps=1e-12) - 0.5
    penalty = (deviation * deviation).mean()
    penalty.backward()
    np.testing.assert_allclose(target.to_host(target.kernels.gradient_penalty(norms, 0.5)),
                               penalty.item(), rtol=1e-13)
    np.testing.assert_allclose(grad, gt.grad.numpy(), rtol=1e-12, atol=1e-15)
