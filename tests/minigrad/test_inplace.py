"""``.data``, in-place methods and the version counter, with PyTorch's semantics."""
import numpy as np
import pytest

import minigrad as mg


def test_data_is_a_detached_tensor_sharing_the_array():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    d = w.data
    assert isinstance(d, mg.Tensor) and d.array is w.array
    assert not d.requires_grad and d.grad_fn is None
    d.array[0] = 5.0
    assert w.tolist() == [5.0, 2.0]


def test_data_of_a_graph_output_is_cut_from_the_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).data
    assert y.grad_fn is None and y.tolist() == [3.0, 6.0]


def test_assigning_data_replaces_the_storage():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    other = mg.tensor([[7.0]])
    w.data = other
    assert w.array is other.array and w.shape == (1, 1) and w.requires_grad


def test_assigning_data_needs_a_tensor():
    w = mg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="expected a Tensor, got ndarray"):
        w.data = np.zeros(2)
