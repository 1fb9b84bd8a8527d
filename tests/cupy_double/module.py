"""The double's ``cupy`` module: NumPy's functions behind CuPy's rules, plus ``cuda`` and
``RawModule`` (see the package docstring)."""
from __future__ import annotations

import types

import numpy

from . import array as _array
from .array import compute, ndarray, unwrap, wrap


class _Ufunc:
    """``cupy.add`` and friends: callable, with ``at``/``reduce``/``accumulate``/``outer``."""

    def __init__(self, ufunc: numpy.ufunc):
        self._ufunc, self.__name__ = ufunc, ufunc.__name__

    def __call__(self, *args, **kwargs):
        return compute(self.__name__, self._ufunc, args, kwargs)

    def __getattr__(self, method):
        function = getattr(self._ufunc, method)
        if not callable(function):
            return function
        return lambda *args, **kwargs: compute(f"{self.__name__}.{method}", function, args, kwargs)


def _function(name: str, function):
    def call(*args, **kwargs):
        return compute(name, function, args, kwargs)
    call.__name__ = name
    return call


def _numpy_namespace(namespace: types.ModuleType, prefix: str = ""):
    """``__getattr__`` for a module that forwards to ``namespace`` (numpy, numpy.linalg, ...)."""
    def getattr_(name):
        attr = getattr(namespace, name)
        if isinstance(attr, numpy.ufunc):
            return _Ufunc(attr)
        if isinstance(attr, type) or not callable(attr):
            return attr  # dtypes (cupy.float32 is numpy.float32), constants
        return _function(prefix + name, attr)
    return getattr_


def _submodule(name: str, namespace: types.ModuleType, **extra) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__getattr__ = _numpy_namespace(namespace, name.removeprefix("cupy.") + ".")
    module.__dict__.update(extra)
    return module


class _Device:
    """``cupy.cuda.Device(i)``: the one emulated GPU, usable as a context manager."""

    def __init__(self, device: int = 0):
        if int(device) != 0:
            raise RuntimeError(f"cudaErrorInvalidDevice: the CuPy double has GPU 0 only, not {device}")
        self.id = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def synchronize(self):
        pass


class _RawModule:
    """``cupy.RawModule(code=..., options=...)``: our CUDA C through the host emulator."""

    def __init__(self, code: str, options=(), **kwargs):
        from kernels import emulator

        self._module = emulator.RawModule(code, tuple(options))

    def get_function(self, name: str):
        function = self._module.get_function(name)
        counters = _array._counters

        def launch(grid, block, args, *, shared_mem: int = 0, stream=None):
            counters.launches += 1
            counters.raw_launches += 1
            return function(grid, block, tuple(unwrap(a, name) if type(a) is ndarray else _host_arg(name, a)
                                               for a in args), shared_mem=shared_mem)
        return launch


def _host_arg(name: str, value):
    if isinstance(value, numpy.ndarray):
        raise TypeError(f"{name}: a NumPy array passed to a CUDA kernel (CuPy would pass a host pointer)")
    return value


def build_module(counters) -> types.ModuleType:
    """A fresh ``cupy`` module object counting into ``counters``."""
    _array.set_counters(counters)
    cupy = types.ModuleType("cupy")
    cupy.__file__ = __file__

    def upload(data, dtype=None, copy: bool = True):
        if type(data) is ndarray:
            if dtype is None or numpy.dtype(dtype) == data.dtype:
                return ndarray(data._a.copy()) if copy else data
            return compute("astype", data._a.astype, (dtype,), {})
        counters.uploads += 1
        counters.record("upload")
        host = data if isinstance(data, numpy.ndarray) else unwrap(data, "cupy.asarray")
        return ndarray(numpy.array(host, dtype=dtype, copy=True))

    def asarray(data, dtype=None, order=None):
        return upload(data, dtype, copy=False)

    def array(data, dtype=None, copy=True, order="K", ndmin=0):
        return upload(data, dtype, copy=copy)

    def asnumpy(a, stream=None, order="C", out=None):
        return a.get() if type(a) is ndarray else numpy.asarray(a)

    def ascontiguousarray(a, dtype=None):
        if type(a) is not ndarray:
            unwrap(a, "cupy.ascontiguousarray")  # raises for host arrays
            return asarray(a, dtype)
        if a._a.flags.c_contiguous and (dtype is None or numpy.dtype(dtype) == a.dtype):
            return a
        return compute("ascontiguousarray", numpy.ascontiguousarray, (a,), {"dtype": dtype})

    runtime = types.SimpleNamespace(getDeviceCount=lambda: 1, getDevice=lambda: 0,
                                    deviceSynchronize=lambda: None)
    cuda = types.SimpleNamespace(runtime=runtime, Device=_Device,
                                 get_current_stream=lambda: types.SimpleNamespace(synchronize=lambda: None),
                                 Event=None)
    cupy.__dict__.update(
        ndarray=ndarray, asarray=asarray, array=array, asnumpy=asnumpy, ascontiguousarray=ascontiguousarray,
        get_array_module=lambda *args: cupy, cuda=cuda, RawModule=_RawModule, counters=counters,
        linalg=_submodule("cupy.linalg", numpy.linalg),
        lib=types.SimpleNamespace(stride_tricks=_submodule("cupy.lib.stride_tricks",
                                                           numpy.lib.stride_tricks)),
        __version__="14.2.0-double", wrap=wrap,
    )
    cupy.__getattr__ = _numpy_namespace(numpy)
    return cupy


__all__ = ["build_module"]
