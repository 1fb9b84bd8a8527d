"""The PyTorch forms that training scripts reach for: torch.Tensor's constructor, the legacy
tensor types, Variable, autograd.grad's only_inputs."""
import warnings

import numpy as np
import pytest

import minigrad as mg


def test_tensor_constructor_casts_to_float32_as_torch_does():
    t = mg.Tensor(np.arange(3.0))  # float64 in, float32 out
    assert t.dtype == np.float32 and t.tolist() == [0.0, 1.0, 2.0]
    assert mg.Tensor([1, 2]).dtype == np.float32
    assert mg.Tensor(np.arange(3)).dtype == np.float32


def test_tensor_constructor_shares_a_float32_array_and_a_tensor():
    a = np.zeros(3, np.float32)
    assert mg.Tensor(a).array is a
    ints = mg.arange(3)
    assert mg.Tensor(ints).array is ints.array and mg.Tensor(ints).dtype == np.int64


def test_tensor_constructor_from_sizes():
    assert mg.Tensor(2, 3).shape == (2, 3) and mg.Tensor(2, 3).dtype == np.float32
    assert mg.Tensor().shape == (0,)
    assert mg.Tensor(np.int64(4)).shape == (4,)


def test_tensor_constructor_rejects_mixed_arguments():
    with pytest.raises(TypeError, match="expected data .* or sizes"):
        mg.Tensor([1.0], 2)


def test_as_tensor_and_from_numpy_keep_the_dtype():
    a = np.zeros(2)
    assert mg.from_numpy(a).dtype == np.float64 and mg.from_numpy(a).array is a
    assert mg.as_tensor(a).dtype == np.float64


@pytest.mark.parametrize("name, dtype", [("FloatTensor", np.float32), ("DoubleTensor", np.float64),
                                         ("LongTensor", np.int64), ("ByteTensor", np.uint8)])
def test_legacy_types_construct_from_arrays_lists_and_sizes(name, dtype):
    T = getattr(mg, name)
    assert T(np.ones(2)).dtype == dtype and T([1, 2]).tolist() == [1, 2]
    assert T(2, 3).shape == (2, 3) and T(2, 3).dtype == dtype
    assert isinstance(T(2), T) and isinstance(T(2), mg.Tensor)


def test_legacy_types_are_types_for_isinstance():
    assert isinstance(mg.zeros(2), mg.FloatTensor)
    assert not isinstance(mg.zeros(2, dtype="float64"), mg.FloatTensor)
    assert not isinstance(np.zeros(2, np.float32), mg.FloatTensor)
    assert repr(mg.FloatTensor) == "<class 'minigrad.FloatTensor'>"


def test_type_names_and_converts():
    x = mg.zeros(2, dtype="float64")
    assert x.type() == "minigrad.DoubleTensor" and mg.arange(2).type() == "minigrad.LongTensor"
    assert x.type(mg.FloatTensor).dtype == np.float32
    assert x.type("torch.LongTensor").dtype == np.int64
    assert x.type("float32").dtype == np.float32
    assert x.type(mg.DoubleTensor) is x


def test_type_conversion_to_float_is_differentiable():
    x = mg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    x.type(mg.FloatTensor).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_type_rejects_unknown_names():
    with pytest.raises(TypeError, match="unknown type 'torch.QuaternionTensor'"):
        mg.zeros(1).type("torch.QuaternionTensor")


def test_variable_is_the_tensor():
    t = mg.zeros(2)
    assert mg.autograd.Variable(t) is t and not t.requires_grad
    assert mg.autograd.Variable(t, requires_grad=True) is t and t.requires_grad
    with pytest.raises(TypeError, match="Variable: expected a Tensor"):
        mg.autograd.Variable(np.zeros(2))


def test_autograd_grad_takes_only_inputs():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = mg.autograd.grad((x * x).sum(), x, only_inputs=True)
    assert g.tolist() == [2.0, 4.0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mg.autograd.grad((x * x).sum(), x, only_inputs=False)
    assert any("only_inputs is deprecated" in str(w.message) for w in caught)


def test_cuda_legacy_types_exist_and_hold_no_cpu_tensor():
    assert mg.cuda.FloatTensor.dtype == np.float32 and mg.cuda.FloatTensor.device == "cuda"
    assert not isinstance(mg.zeros(2), mg.cuda.FloatTensor)
    assert repr(mg.cuda.LongTensor) == "<class 'minigrad.cuda.LongTensor'>"
