"""The backend seam's device choice: which device a backend's arrays live on, checked up front."""
import importlib.util

import pytest

from minigrad.backends import device_for_backend


def test_numpy_arrays_live_on_the_cpu():
    assert device_for_backend("numpy") == "cpu"


def test_an_unknown_backend_is_named_in_the_error():
    with pytest.raises(ValueError, match="unknown backend 'jax'; expected 'numpy' or 'cupy'"):
        device_for_backend("jax")


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed")
def test_cupy_without_cupy_says_what_to_install():
    with pytest.raises(RuntimeError, match=r"needs CuPy and an NVIDIA GPU: pip install"):
        device_for_backend("cupy")


def test_cupy_without_a_gpu_says_so(monkeypatch):
    """A CuPy that imports but whose CUDA runtime finds no device: a RuntimeError saying so."""
    import types

    import minigrad.backends as backends

    def no_device():
        raise OSError("cudaErrorNoDevice: no CUDA-capable device is detected")

    runtime = types.SimpleNamespace(getDeviceCount=no_device)
    fake_cupy = types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime))
    monkeypatch.setattr(backends, "_cupy_backend", backends.Backend("cupy", "cuda", fake_cupy))
    with pytest.raises(RuntimeError, match=r"CuPy found no usable NVIDIA GPU \(OSError: cudaErrorNoDevice"):
        device_for_backend("cupy")
