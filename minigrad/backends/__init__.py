"""The one seam between minigrad and array libraries.

Op code never imports numpy or cupy for array math: it asks an array for its
backend (``backend_of(a).xp``) and uses that module. A backend also chooses the
custom kernels (``backend.kernels``) so that ops never branch on the device.
CuPy is imported lazily, only when a CuPy array or ``device='cuda'`` is used.
"""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

import numpy

from kernels.openblas import prefault_blas_buffer

from .._device import CPU, as_device, device


@dataclass(frozen=True)
class Backend:
    """An array library, the device type its arrays live on, and its kernel set."""

    name: str
    device: device
    xp: ModuleType
    # constant(value, dtype): a 0-d array holding an op's Python or NumPy scalar operand
    constant: Callable = field(repr=False, compare=False, default=numpy.asarray)

    @functools.cached_property
    def kernels(self):
        """This backend's kernel set (conv trio, leaky_relu, fused optimizers on a GPU), built
        once (:func:`kernels.dispatch.for_backend`)."""
        from kernels import dispatch

        return dispatch.for_backend(self.name)

    def asarray(self, data, dtype=None):
        return self.xp.asarray(data, dtype=dtype)

    def to_numpy(self, array) -> numpy.ndarray:
        return array if self.xp is numpy else self.xp.asnumpy(array)

    def check_index_range(self, indices, high: int, what: str) -> None:
        """IndexError naming ``what`` unless every index is in [0, high). On the CPU only: on a
        GPU the check would stall the stream on a host sync every call, so an out-of-range
        index there is the caller's bug, as a device-side assert is in PyTorch (CuPy wraps it)."""
        if self.xp is not numpy or not indices.size:
            return
        low, top = int(indices.min()), int(indices.max())
        if low < 0 or top >= high:
            raise IndexError(f"{what} {low if low < 0 else top} is out of bounds: expected values "
                             f"in [0, {high})")

    def device_of(self, array) -> device:
        """The device holding ``array`` (cuda:<its GPU> on CuPy)."""
        if self.xp is numpy:
            return CPU
        return _cuda_device(int(array.device.id))

    def place(self, array, target: device | None = None):
        """``array`` (of any backend) as an array of this backend, on GPU ``target.index``
        when given; the same array when it is already there."""
        source = backend_of(array)
        if source is self and (target is None or target.index is None or self.device_of(array) == target):
            return array
        host = source.to_numpy(array)
        with self.on(target):
            return self.xp.asarray(host)

    def on(self, target: device | None):
        """A context in which new arrays of this backend go to ``target`` (its GPU index)."""
        if self.xp is numpy or target is None or target.index is None:
            return contextlib.nullcontext()
        return self.xp.cuda.Device(target.index)


class DeviceConstants:
    """``constant(value, dtype)`` for a GPU: one 0-d device array per (value, dtype, GPU),
    reused, so ``x * 2.0`` in a training step is not a host-to-device copy per call. Ops
    never write into their inputs, so sharing the array is safe. Holds at most ``limit``."""

    def __init__(self, xp: ModuleType, limit: int = 1024):
        self.xp, self.limit, self._arrays = xp, limit, {}

    def __call__(self, value, dtype):
        key = (type(value), value, dtype, self.xp.cuda.runtime.getDevice())
        array = self._arrays.get(key)
        if array is None:
            if len(self._arrays) >= self.limit:
                self._arrays.clear()
            array = self._arrays[key] = self.xp.asarray(value, dtype=dtype)
        return array


@functools.cache
def _cuda_device(index: int) -> device:
    return device("cuda", index)


NUMPY = Backend("numpy", CPU, numpy)
prefault_blas_buffer()  # a cold OpenBLAS buffer made some GEMMs 2-3x slower (kernels/openblas.py)
_cupy_backend: Backend | None = None
_cupy_checked = False  # whether cupy_backend() has seen a usable GPU


def cupy_backend() -> Backend:
    """The CuPy backend; raises a clear RuntimeError when CuPy or a GPU is missing (CuPy
    fails to import, or its CUDA runtime finds no device)."""
    global _cupy_backend, _cupy_checked
    if _cupy_backend is None:
        try:
            import cupy
        except ImportError as exc:  # pragma: no cover - depends on the machine
            raise RuntimeError(
                "the cupy backend needs CuPy and an NVIDIA GPU: pip install 'minigrad-wgan[gpu]' "
                f"(import failed: {exc})"
            ) from exc
        except Exception as exc:  # a broken CuPy install fails on import with its own error types
            raise RuntimeError(f"CuPy failed to load ({type(exc).__name__}: {exc})") from None
        _cupy_backend = Backend("cupy", device("cuda"), cupy, DeviceConstants(cupy))
    if not _cupy_checked:
        gpu_count(_cupy_backend)
        _cupy_checked = True
    return _cupy_backend


def gpu_count(backend: Backend) -> int:
    """How many GPUs CuPy sees; RuntimeError when its CUDA runtime finds none."""
    try:
        count = int(backend.xp.cuda.runtime.getDeviceCount())
    except Exception as exc:  # CUDA driver / runtime errors: no usable GPU
        raise RuntimeError(f"CuPy found no usable NVIDIA GPU ({type(exc).__name__}: {exc})") from None
    if count < 1:
        raise RuntimeError("CuPy found no usable NVIDIA GPU (the CUDA runtime reports 0 devices)")
    return count


def backend_of(array) -> Backend:
    """The backend that owns ``array`` (NumPy arrays and scalars are CPU)."""
    if type(array) is numpy.ndarray:  # the common case, without the module-name test
        return NUMPY
    if type(array).__module__.startswith("cupy"):
        return cupy_backend()
    return NUMPY


def array_module(array) -> ModuleType:
    """``numpy`` or ``cupy``, whichever owns ``array``."""
    return backend_of(array).xp


def backend_for_device(spec) -> Backend:
    """The backend of a device (a ``minigrad.device``, 'cpu', 'cuda', 'cuda:1', a GPU index,
    the aliases 'numpy', 'gpu', 'cupy', or None for the CPU). A GPU index is checked
    against the GPUs CuPy sees."""
    target = as_device(spec)
    if target is None or target.type == "cpu":
        return NUMPY
    backend = cupy_backend()
    if target.index is not None and target.index >= gpu_count(backend):
        raise RuntimeError(f"device {target} does not exist: CuPy sees {gpu_count(backend)} GPU(s)")
    return backend


def device_for_backend(name: str) -> device:
    """The device (cpu or cuda) whose arrays backend ``name`` ('numpy' or 'cupy') holds.

    For CuPy this also checks that CuPy loads and sees an NVIDIA GPU, and raises RuntimeError
    saying which is missing, so that a program fails at start-up rather than at its first op.
    """
    if name == "numpy":
        return NUMPY.device
    if name != "cupy":
        raise ValueError(f"unknown backend {name!r}; expected 'numpy' or 'cupy'")
    return cupy_backend().device
