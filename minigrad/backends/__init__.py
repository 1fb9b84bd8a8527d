"""The one seam between minigrad and array libraries.

Op code never imports numpy or cupy for array math: it asks an array for its
backend (``backend_of(a).xp``) and uses that module. A backend also chooses the
custom kernels (``backend.kernels``) so that ops never branch on the device.
CuPy is imported lazily, only when a CuPy array or ``device='cuda'`` is used.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy


@dataclass(frozen=True)
class Backend:
    """An array library, the device its arrays live on, and its kernel module."""

    name: str
    device: str
    xp: ModuleType

    @property
    def kernels(self) -> ModuleType:
        """The module holding this backend's compute kernels (conv, ...)."""
        from kernels import dispatch

        return dispatch.for_backend(self.name)

    def asarray(self, data, dtype=None):
        return self.xp.asarray(data, dtype=dtype)

    def to_numpy(self, array) -> numpy.ndarray:
        return array if self.xp is numpy else self.xp.asnumpy(array)


NUMPY = Backend("numpy", "cpu", numpy)
_cupy_backend: Backend | None = None


def cupy_backend() -> Backend:
    """The CuPy backend; raises a clear error when CuPy or a GPU is missing."""
    global _cupy_backend
    if _cupy_backend is None:
        try:
            import cupy
        except ImportError as exc:  # pragma: no cover - depends on the machine
            raise RuntimeError(
                "the cupy backend needs CuPy and an NVIDIA GPU: pip install 'minigrad-wgan[gpu]' "
                f"(import failed: {exc})"
            ) from exc
        _cupy_backend = Backend("cupy", "cuda", cupy)
    return _cupy_backend


def backend_of(array) -> Backend:
    """The backend that owns ``array`` (NumPy arrays and scalars are CPU)."""
    if type(array).__module__.startswith("cupy"):
        return cupy_backend()
    return NUMPY


def array_module(array) -> ModuleType:
    """``numpy`` or ``cupy``, whichever owns ``array``."""
    return backend_of(array).xp


def backend_for_device(device: str | None) -> Backend:
    """Map a device name ('cpu', 'cuda', 'numpy', 'cupy', None) to its backend."""
    if device in (None, "cpu", "numpy"):
        return NUMPY
    if device in ("cuda", "gpu", "cupy") or str(device).startswith("cuda:"):
        return cupy_backend()
    raise ValueError(f"unknown device {device!r}; expected 'cpu' or 'cuda'")


def device_for_backend(name: str) -> str:
    """The device ('cpu' or 'cuda') whose arrays backend ``name`` ('numpy' or 'cupy') holds.

    For CuPy this also checks that CuPy loads and sees an NVIDIA GPU, and raises RuntimeError
    saying which is missing, so that a program fails at start-up rather than at its first op.
    """
    if name == "numpy":
        return NUMPY.device
    if name != "cupy":
        raise ValueError(f"unknown backend {name!r}; expected 'numpy' or 'cupy'")
    try:
        backend = cupy_backend()
    except RuntimeError:
        raise
    except Exception as exc:  # a broken CuPy install fails on import with its own error types
        raise RuntimeError(f"CuPy failed to load ({type(exc).__name__}: {exc})") from None
    try:
        backend.xp.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver / runtime errors: no usable GPU
        raise RuntimeError(f"CuPy found no usable NVIDIA GPU ({type(exc).__name__}: {exc})") from None
    return backend.device
