"""Layers without weights that change the shape: ``Flatten``, ``Unflatten``,
``MaxPool2d`` and ``Upsample``."""
from __future__ import annotations

from ..ops.shape import flatten, reshape
from ..tensor import Tensor
from . import functional as F
from .module import Module


class Flatten(Module):
    """Merge dims start_dim..end_dim: (N, C, H, W) -> (N, C*H*W) with the defaults."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: (N, 784) -> (N, 1, 28, 28) with
    dim=1, unflattened_size=(1, 28, 28). One entry may be -1."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        dim = self.dim % x.ndim
        return reshape(x, x.shape[:dim] + self.unflattened_size + x.shape[dim + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class MaxPool2d(Module):
    """Max over kernel_size windows of (N, C, H, W); stride defaults to kernel_size.

    (N, C, H, W) -> (N, C, (H + 2 * ph - kh) // sh + 1, ...). PyTorch's dilation
    and ceil_mode are not supported by the op, so not offered here.
    """

    def __init__(self, kernel_size, stride=None, padding=0, return_indices: bool = False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.return_indices = padding, return_indices

    def forward(self, x: Tensor):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding,
                            return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Upsample(Module):
    """Resize (N, C, H, W) to ``size`` or by ``scale_factor`` with F.interpolate (mode
    'nearest' only). PyTorch's signature, so the factor is a keyword:
    ``Upsample(scale_factor=2)`` maps (N, C, H, W) -> (N, C, 2H, 2W)."""

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest"):
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError("Upsample: give exactly one of size and scale_factor")
        self.size, self.scale_factor, self.mode = size, scale_factor, mode

    def forward(self, x: Tensor) -> Tensor:
        return F.interpolate(x, size=self.size, scale_factor=self.scale_factor, mode=self.mode)

    def extra_repr(self) -> str:
        info = f"size={self.size}" if self.size is not None else f"scale_factor={float(self.scale_factor)}"
        return f"{info}, mode='{self.mode}'"
