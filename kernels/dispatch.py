"""Kernel choice per backend: the one place that knows which module computes what.

``minigrad.backends.Backend.kernels`` calls ``for_backend``; ops then call
``backend.kernels.conv2d(...)`` and never branch on the device themselves.
"""
from __future__ import annotations

from types import ModuleType


def for_backend(name: str) -> ModuleType:
    """The kernel module for backend ``name`` ('numpy' or 'cupy')."""
    if name in ("numpy", "cupy"):
        # the im2col + GEMM kernels are written against the array module of their
        # inputs, so NumPy and CuPy share them until GPU-specific kernels land
        from kernels import conv

        return conv
    raise ValueError(f"no kernels for backend {name!r}")
