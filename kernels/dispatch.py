"""Kernel choice per backend: the one place that knows which kernels compute what.

``minigrad.backends.Backend.kernels`` calls ``for_backend`` once per backend; ops then call
``backend.kernels.conv2d(...)`` and never branch on the device themselves. The NumPy
backend's set is :class:`kernels.cpu_kernels.CpuKernels` with its im2col/col2im implementation
fixed here ('numba' when Numba imports, else 'numpy'; the environment variable
``MINIGRAD_CONV_IMPL=numpy|numba`` overrides it, read when the set is built). The CuPy
backend's is :class:`kernels.cuda_kernels.CudaKernels` (our CUDA C kernels, GEMMs on cuBLAS).
"""
from __future__ import annotations

import functools
import os


def cpu_conv_impl() -> str:
    """The CPU im2col/col2im implementation: $MINIGRAD_CONV_IMPL, else numba when it imports."""
    from kernels import conv

    return os.environ.get("MINIGRAD_CONV_IMPL", "numba" if conv.NUMBA_AVAILABLE else "numpy")


@functools.cache
def for_backend(name: str):
    """The kernel set of backend ``name`` ('numpy' or 'cupy'), built on first use."""
    if name == "numpy":
        from kernels.cpu_kernels import CpuKernels

        impl = cpu_conv_impl()
        try:
            return CpuKernels(impl)
        except ValueError as exc:
            raise ValueError(f"MINIGRAD_CONV_IMPL={impl}: {exc}") from None
    if name == "cupy":
        from kernels.cuda_kernels import cupy_kernels

        return cupy_kernels()
    raise ValueError(f"no kernels for backend {name!r}")
