"""Where the CUDA kernel tests run: the host emulator always, a real GPU through CuPy when
there is one (those cases are marked ``gpu`` and skip otherwise).

``target`` gives a :class:`Target`: a :class:`kernels.cuda_kernels.CudaKernels` whose
modules check every launch (:class:`CheckingModule`: guard bands around each array, outputs
NaN-poisoned first), and ``to_device``/``to_host`` to move NumPy arrays there and back.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

from kernels import emulator
from kernels.conv import array_module
from kernels.cuda_kernels import CudaKernels

#: sources whose non-const pointer parameters are pure outputs (optim.cu updates in place)
POISONED_SOURCES = {"conv_cols.cu", "activation.cu", "gradient_penalty.cu"}


def cuda_device_available() -> bool:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - no CuPy, no driver, no device: all mean "no GPU"
        return False


GUARD = 64  # elements of sentinel before and after every array a kernel gets


def _sentinel(dtype):
    return np.nan if np.dtype(dtype).kind == "f" else -7


def _guards_intact(buffer) -> bool:
    xp = array_module(buffer)
    ends = xp.concatenate([buffer[:GUARD], buffer[-GUARD:]])
    if np.dtype(buffer.dtype).kind == "f":
        return bool(xp.isnan(ends).all())
    return bool((ends == _sentinel(buffer.dtype)).all())


def _guarded(a):
    """A copy of ``a`` in the middle of a larger buffer whose ends hold a sentinel (NaN for
    floats, -7 for ints): (buffer, the view to pass)."""
    buffer = array_module(a).full(a.size + 2 * GUARD, _sentinel(a.dtype), dtype=a.dtype)
    view = buffer[GUARD:GUARD + a.size].reshape(a.shape)
    view[...] = a
    return buffer, view


class CheckingModule:
    """Wraps a module (emulated or CuPy): each launch gets every array argument inside guard
    bands that must stay untouched (an out-of-bounds write fails the launch; an
    out-of-bounds read gets the NaN sentinel, which the comparisons catch), and with
    ``poison`` every output array (a non-const pointer) NaN-filled first, so an element a
    kernel fails to write fails too."""

    def __init__(self, module, code: str, poison: bool):
        self._module, self._poison = module, poison
        self._params = emulator.parse_kernels(code)

    def get_function(self, name: str):
        function = self._module.get_function(name)
        params = self._params[name]

        def launch(grid, block, args, **kwargs):
            guarded = {i: _guarded(a) for i, (p, a) in enumerate(zip(params, args))
                       if p.pointer_depth == 1 and a is not None}
            for i, (_, view) in guarded.items():
                if self._poison and "const" not in params[i].ctype:
                    view.fill(np.nan)
            function(grid, block, tuple(guarded[i][1] if i in guarded else a
                                        for i, a in enumerate(args)), **kwargs)
            for i, (buffer, view) in guarded.items():
                assert _guards_intact(buffer), f"{name} wrote outside argument {params[i].name!r}"
                args[i][...] = view
        return launch


def _checking_loader(load: Callable) -> Callable:
    def load_module(code, options, name):
        return CheckingModule(load(code, options, name), code, name in POISONED_SOURCES)
    return load_module


@dataclass
class Target:
    name: str
    kernels: CudaKernels
    to_device: Callable
    to_host: Callable


def _emulator_target() -> Target:
    if not emulator.compiler_available():
        pytest.skip("the CUDA emulator needs g++ with -std=c++20")
    return Target("emulator", CudaKernels(_checking_loader(emulator.RawModule)), np.asarray, np.asarray)


def _cupy_target() -> Target:
    if not cuda_device_available():
        pytest.skip("needs CuPy and a CUDA device")
    import cupy

    from kernels.cuda_kernels import _cupy_module

    return Target("cupy", CudaKernels(_checking_loader(_cupy_module)), cupy.asarray, cupy.asnumpy)


_TARGETS = {}


@pytest.fixture(scope="module", params=["emulator", pytest.param("cupy", marks=pytest.mark.gpu)])
def target(request) -> Target:
    """The kernels on the emulator, and (gpu-marked) on CuPy; built once per process."""
    if request.param not in _TARGETS:
        _TARGETS[request.param] = (_emulator_target if request.param == "emulator" else _cupy_target)()
    return _TARGETS[request.param]
