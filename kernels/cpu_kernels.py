"""The NumPy backend's kernel set: the conv trio (:mod:`kernels.conv`, its im2col/col2im in
Numba or NumPy, fixed when the set is built) and leaky_relu with its derivative mask (in Numba
too when the set uses it).

It has the interface of :class:`kernels.cuda_kernels.CudaKernels` for what both sets do; the
multi-tensor optimizer kernels are the CUDA set's only (``MULTI_TENSOR = False`` here: the
optimizers then update one parameter at a time, with NumPy's in-place operations).
"""
from __future__ import annotations

import numpy as np

from . import conv, cuda_reference
from .conv import ConvGeometry


class CpuKernels:
    """CPU kernels; ``conv_impl`` is 'numba' or 'numpy' (see :func:`kernels.dispatch.cpu_conv_impl`)."""

    MULTI_TENSOR = False

    def __init__(self, conv_impl: str):
        if conv_impl not in conv.IMPLS:
            raise ValueError(f"impl must be 'numpy' or 'numba', got {conv_impl!r}")
        if conv_impl == "numba" and not conv.NUMBA_AVAILABLE:
            raise ValueError("impl='numba' requested but numba could not be imported")
        self.impl = conv_impl
        if conv_impl == "numba":
            from . import numba_cpu  # noqa: PLC0415 - imports numba, only for this choice

            self._leaky_relu = numba_cpu.leaky_relu
        else:
            self._leaky_relu = cuda_reference.leaky_relu

    def conv2d(self, x, w, geom: ConvGeometry):
        """x (N, C, H, W), w (O, C, kH, kW) -> (N, O, Ho, Wo)."""
        return conv.conv2d(x, w, geom, impl=self.impl)

    def conv2d_input_grad(self, gy, w, geom: ConvGeometry):
        """gy (N, O, Ho, Wo), w (O, C, kH, kW) -> (N, C, H, W); also conv_transpose2d."""
        return conv.conv2d_input_grad(gy, w, geom, impl=self.impl)

    def conv2d_weight_grad(self, x, gy, geom: ConvGeometry):
        """x (N, C, H, W), gy (N, O, Ho, Wo) -> (O, C, kH, kW)."""
        return conv.conv2d_weight_grad(x, gy, geom, impl=self.impl)

    conv_transpose2d = conv2d_input_grad

    def leaky_relu(self, x, negative_slope: float, with_mask: bool = True):
        """(y, mask): y = leaky_relu(x), mask its derivative (1 or slope) in x's dtype, or None
        without ``with_mask``. With Numba one pass over memory (3.5x faster than the NumPy
        form at the critic's sizes, benchmarks/NOTES.md); else the CUDA kernel's NumPy
        reference, which gives the same values bit for bit."""
        return self._leaky_relu(x, negative_slope, with_mask)

    @staticmethod
    def philox(xp, kind: str, shape: tuple, dtype, seed: int, offset: int) -> np.ndarray:
        """The CUDA set's Philox draw (kernels/cuda/random.cu), computed by its NumPy twin, so
        a device generator's stream continues on the CPU (transcendentals to the last ulp)."""
        from .cuda_reference import philox_draw

        n = int(np.prod(shape, dtype=np.int64))
        return philox_draw(kind, n, dtype, seed, offset).reshape(shape)

    @staticmethod
    def total_norm(arrays) -> np.ndarray:
        """sqrt(sum_i ||a_i||^2) as a float64 0-d array, each ||a_i|| in its own dtype."""
        total = np.zeros((), dtype=np.float64)
        for a in arrays:
            norm = np.linalg.norm(a.ravel()).astype(np.float64)
            total += norm * norm
        return np.sqrt(total)

    def __repr__(self):
        return f"CpuKernels(conv_impl={self.impl!r})"

