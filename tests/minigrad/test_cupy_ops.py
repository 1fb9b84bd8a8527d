"""Every op's declared OpCase on the cupy backend, through the CuPy test double (no GPU).

The same declarations as the CPU tests (tests/minigrad/test_core_ops.py, test_conv_pool.py,
test_norm_activation_loss.py, test_inplace.py): the forward against its NumPy reference in float64 and float32
(outputs stay float32 and on the GPU), and finite-difference gradients of orders 1-3. The
double refuses implicit host conversions and host arrays, so an op that would fail on CuPy
fails here.
"""
import numpy as np
import pytest

from tests.minigrad import test_conv_pool, test_core_ops, test_inplace, test_norm_activation_loss
from tests.opcheck import case_params, check_forward, check_gradients

CASES = [*test_core_ops.CASES, *test_conv_pool.CASES, *test_norm_activation_loss.CASES,
         *test_inplace.INPLACE_CASES]


@pytest.mark.parametrize("case", case_params(CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_forward_on_the_gpu(case, dtype, cupy_double):
    check_forward(case, dtype, device="cuda:0")
    assert cupy_double.counters.float64_from_float32 == [], \
        f"{case.name}: float64 computed from float32 inputs in {cupy_double.counters.float64_from_float32}"


@pytest.mark.parametrize("case", case_params(CASES))
@pytest.mark.parametrize("order", [1, 2, 3])
def test_gradients_on_the_gpu(case, order, cupy_double):
    check_gradients(case, order, device="cuda:0")


def _embedding(mg):
    weight = mg.randn(5, 3, device="cuda", requires_grad=True)
    return mg.nn.functional.embedding(mg.tensor([0, 4, 4], device="cuda"), weight).sum()


def _max_pool_padded(mg):
    x = mg.randn(2, 2, 5, 5, device="cuda", requires_grad=True)
    return mg.nn.functional.max_pool2d(x, 3, 2, padding=1).sum()


def _interpolate(mg):
    x = mg.randn(1, 2, 4, 6, device="cuda", requires_grad=True)
    F = mg.nn.functional
    return (F.interpolate(x, scale_factor=2).sum() + F.interpolate(x, size=(2, 3)).sum()
            + F.interpolate(x, size=(5, 7)).sum())


def _cross_entropy(mg):
    logits = mg.randn(4, 5, device="cuda", requires_grad=True)
    return mg.nn.functional.cross_entropy(logits, mg.tensor([0, 4, 2, 1], device="cuda"))


@pytest.mark.parametrize("loss", [_embedding, _max_pool_padded, _interpolate, _cross_entropy],
                         ids=["embedding", "max_pool2d_padded", "interpolate", "cross_entropy"])
def test_index_ops_do_not_sync_with_the_host(loss, cupy_double):
    """No host range check or host branch per call: forward and backward run without a sync."""
    import minigrad as mg

    value = loss(mg)
    cupy_double.counters.reset()
    value = loss(mg)
    value.backward()
    assert cupy_double.counters.syncs == 0
