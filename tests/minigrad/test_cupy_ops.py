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
