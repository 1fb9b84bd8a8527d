"""The device API, PyTorch's shape: minigrad.device, minigrad.cuda, Tensor/Module .to/.cuda/.cpu.

These run without a GPU; the same API on the cupy backend runs through the CuPy test double
in tests/minigrad/test_cupy_engine.py.
"""
import importlib.util

import numpy as np
import pytest

import minigrad as mg

NO_CUPY = importlib.util.find_spec("cupy") is None


@pytest.mark.parametrize("spec, kind, index, text", [
    ("cpu", "cpu", None, "cpu"), ("cuda", "cuda", None, "cuda"), ("cuda:1", "cuda", 1, "cuda:1"),
    (2, "cuda", 2, "cuda:2"), ("gpu", "cuda", None, "cuda"), ("numpy", "cpu", None, "cpu"),
])
def test_a_device_parses_like_torch(spec, kind, index, text):
    d = mg.device(spec)
    assert (d.type, d.index, str(d)) == (kind, index, text)
    assert mg.device(d) == d and mg.device(kind, index) == d


def test_a_device_compares_equal_to_its_string_and_hashes_with_it():
    assert mg.device("cuda:0") == "cuda:0" and mg.device("cpu") == "cpu"
    assert mg.device("cuda:0") != "cuda:1" and mg.device("cpu") != "cuda"
    assert mg.device("cuda:1") == "cuda"  # an index-less device matches every index of its type
    assert mg.device("cpu") != "float32"  # not a device string: unequal, not an error
    assert {mg.device("cuda:0"): 1}[mg.device("cuda:0")] == 1
    assert repr(mg.device("cuda", 1)) == "device(type='cuda', index=1)"


@pytest.mark.parametrize("spec, message", [
    ("tpu", "unknown device 'tpu'"), ("cuda:x", "unknown device 'cuda:x'"),
    ("cpu:1", "the cpu device has index 0 only"),
])
def test_a_bad_device_is_named(spec, message):
    with pytest.raises(ValueError, match=message):
        mg.device(spec)


def test_a_device_given_two_indices_is_an_error():
    with pytest.raises(ValueError, match="second index"):
        mg.device("cuda:0", 1)


def test_a_cpu_tensor_is_on_the_cpu_device():
    t = mg.ones(2, 3)
    assert t.device == mg.device("cpu") and t.device == "cpu" and not t.is_cuda
    assert t.to("cpu") is t and t.cpu() is t and t.to(mg.device("cpu")) is t


def test_to_takes_a_device_a_dtype_or_both_as_torch_does():
    t = mg.ones(2, dtype="float32")
    assert t.to(mg.float64).dtype == mg.float64
    assert t.to("cpu", mg.float64).dtype == mg.float64
    assert t.to(device="cpu", dtype="float64").dtype == mg.float64
    assert t.to(mg.zeros(1, dtype="float64")).dtype == mg.float64  # another tensor's device and dtype


@pytest.mark.parametrize("make", [
    lambda: mg.zeros(2, device="cpu"), lambda: mg.ones(2, device=mg.device("cpu")),
    lambda: mg.empty(2, device="cpu"), lambda: mg.full((2,), 3.0, device="cpu"),
    lambda: mg.arange(3, device="cpu"), lambda: mg.linspace(0, 1, 3, device="cpu"),
    lambda: mg.tensor([1.0], device="cpu"), lambda: mg.as_tensor(np.ones(2), device="cpu"),
    lambda: mg.zeros_like(mg.ones(2), device="cpu"), lambda: mg.ones_like(mg.ones(2), device="cpu"),
    lambda: mg.full_like(mg.ones(2), 2.0, device="cpu"), lambda: mg.rand(2, device="cpu"),
    lambda: mg.randn(2, device="cpu"), lambda: mg.randint(0, 3, (2,), device="cpu"),
    lambda: mg.rand_like(mg.ones(2), device="cpu"), lambda: mg.randn_like(mg.ones(2), device="cpu"),
])
def test_every_creation_function_takes_a_device(make):
    assert make().device == "cpu"


@pytest.mark.skipif(not NO_CUPY, reason="CuPy is installed")
def test_without_cupy_cuda_is_unavailable_and_cuda_says_what_to_install():
    assert mg.cuda.is_available() is False and mg.cuda.device_count() == 0
    for move in (lambda: mg.ones(2).cuda(), lambda: mg.ones(2).to("cuda:0"),
                 lambda: mg.zeros(2, device="cuda"), lambda: mg.nn.Linear(2, 2).cuda()):
        with pytest.raises(RuntimeError, match=r"the cupy backend needs CuPy and an NVIDIA GPU: pip install"):
            move()


def test_module_to_and_cpu_keep_the_parameters():
    m = mg.nn.Linear(2, 3)
    weight = m.weight
    assert m.to(mg.device("cpu")) is m and m.cpu() is m and m.weight is weight
    assert m.to("cpu", "float64").weight.dtype == mg.float64
