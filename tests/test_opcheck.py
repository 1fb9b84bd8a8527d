"""The op harness fails where it should: a wrong forward, a float64 upcast, a missing
reference, a backward that is not differentiable, an output without a graph."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function
from tests.opcheck import OpCase, check_against_torch, check_forward, shapes

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def tanh_case(fn=lambda x: x.tanh(), expected=np.tanh, torch_fn=None):
    return OpCase("tanh_under_test", fn, shapes((3, 4)), forward_expected=expected,
                  torch_fn=torch_fn or (lambda x: x.tanh()))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_right_forward_passes(dtype):
    check_forward(tanh_case(), dtype)


def test_a_forward_off_by_1e_minus_9_fails_in_float64():
    with pytest.raises(AssertionError, match="tanh_under_test: output 0 differs from the NumPy reference"):
        check_forward(tanh_case(fn=lambda x: x.tanh() * (1.0 + 1e-9)), np.float64)


def test_a_float64_upcast_of_float32_inputs_fails():
    with pytest.raises(AssertionError, match="tanh_under_test: output 0 is float64 for float32 inputs"):
        check_forward(tanh_case(fn=lambda x: x.double().tanh()), np.float32)


def test_a_case_without_a_numpy_reference_fails():
    with pytest.raises(AssertionError, match="tanh_under_test: declare forward_expected"):
        check_forward(tanh_case(expected=None))


class TanhWithFrozenDerivative(Function):
    """Right value, right first derivative, but 1 - y^2 enters the backward as a constant,
    so the gradient has no graph and every second derivative through it is lost."""

    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, gy):
        return gy * mg.from_numpy(1.0 - self.y ** 2)


@needs_torch
def test_the_torch_oracle_catches_a_backward_without_a_graph():
    case = tanh_case(fn=TanhWithFrozenDerivative.apply)
    check_forward(case)  # the forward is right
    with pytest.raises(AssertionError, match="tanh_under_test: second gradient of input 0 differs "
                                             r"from torch .*have no graph here"):
        check_against_torch(case)


@needs_torch
def test_the_torch_oracle_catches_an_output_without_a_graph():
    case = tanh_case(fn=lambda x: x.detach().tanh())
    with pytest.raises(AssertionError, match="tanh_under_test: forward output 0 requires_grad is False "
                                             "here but True in PyTorch"):
        check_against_torch(case)


@needs_torch
def test_the_torch_oracle_checks_the_numpy_reference_too():
    with pytest.raises(AssertionError, match="tanh_under_test: NumPy reference output 0 differs"):
        check_against_torch(tanh_case(expected=np.sinh))
