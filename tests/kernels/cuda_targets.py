"""Where the CUDA kernel tests run: the host emulator always, a real GPU through CuPy when
there is one (those cases are marked ``gpu`` and skip otherwise).

``target`` gives a :class:`Target`: a :class:`kernels.cuda_kernels.CudaKernels` whose modules
fill every output array (a non-const pointer parameter) with NaN before each launch of a
kernel that only writes it, so a kernel that misses an element fails its comparison, and
``to_device``/``to_host`` to move NumPy arrays there and back.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

from kernels import emulator
from kernels.cuda_kernels import CudaKernels

#: sources whose non-const pointer parameters are pure outputs (optim.cu updates in place)
POISONED_SOURCES = {"conv_cols.cu", "activation.cu", "gradient_penalty.cu"}


def cuda_device_available() -> bool:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - no CuPy, no driver, no device: all mean "no GPU"
        return False


class PoisoningModule:
    """Wraps a module (emulated or CuPy) so that output arrays are NaN before each launch."""

    def __init__(self, module, code: str, poison: bool):
        self._module, self._poison = module, poison
        self._params = emulator.parse_kernels(code)

    def get_function(self, name: str):
        function = self._module.get_function(name)
        outputs = [i for i, p in enumerate(self._params[name])
                   if p.pointer_depth == 1 and "const" not in p.ctype]

        def launch(grid, block, args, **kwargs):
            if self._poison:
                for i in outputs:
                    if args[i] is not None:
                        args[i].fill(np.nan)
            return function(grid, block, args, **kwargs)
        return launch


def _poisoning_loader(load: Callable) -> Callable:
    def load_module(code, options, name):
        return PoisoningModule(load(code, options, name), code, name in POISONED_SOURCES)
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
    return Target("emulator", CudaKernels(_poisoning_loader(emulator.RawModule)), np.asarray, np.asarray)


def _cupy_target() -> Target:
    if not cuda_device_available():
        pytest.skip("needs CuPy and a CUDA device")
    import cupy

    from kernels.cuda_kernels import _cupy_module

    return Target("cupy", CudaKernels(_poisoning_loader(_cupy_module)), cupy.asarray, cupy.asnumpy)


_TARGETS = {}


@pytest.fixture(scope="module", params=["emulator", pytest.param("cupy", marks=pytest.mark.gpu)])
def target(request) -> Target:
    """The kernels on the emulator, and (gpu-marked) on CuPy; built once per process."""
    if request.param not in _TARGETS:
        _TARGETS[request.param] = (_emulator_target if request.param == "emulator" else _cupy_target)()
    return _TARGETS[request.param]
