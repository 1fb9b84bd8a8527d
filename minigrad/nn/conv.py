"""2-D convolution layers: ``Conv2d`` and its adjoint ``ConvTranspose2d`` (NCHW).

The layers read their settings with the same helpers the functional ops use
(``kernels.args``), so a bad value fails at construction with the op's own error, and
they keep PyTorch's attributes (``kernel_size == (3, 3)``, ``padding == (1, 1)`` or
``'same'``); ``forward`` hands those to the functional op, which resolves the geometry.
"""
from __future__ import annotations

from kernels.args import conv_padding, output_padding_pair, pair

from ..tensor import Tensor, empty
from . import functional as F
from . import init
from .module import Module, Parameter


class _ConvNd(Module):
    """Shared parameters and PyTorch's default init for Conv2d and ConvTranspose2d.

    The weight's first two dims are (out, in) for a convolution and (in, out)
    for a transposed one; fan_in is read from dim 1 either way, as PyTorch does
    (so for ConvTranspose2d it is out_channels * kh * kw).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 bias, weight_shape, device, dtype):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.padding = conv_padding(padding)
        self.dilation = pair(dilation, "dilation")
        self.weight = Parameter(empty(*weight_shape, *self.kernel_size, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_weight_and_bias_(self.weight, self.bias)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in ((0, 0), (0, 0, 0, 0), "valid"):
            s += f", padding={self.padding!r}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0, 0)) != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """Cross-correlation, as PyTorch's Conv2d (groups=1).

    x: (N, in_channels, H, W) -> (N, out_channels, H_out, W_out) with
    H_out = floor((H + pad_top + pad_bottom - dilation * (kh - 1) - 1) / stride) + 1.
    weight: (out_channels, in_channels, kh, kw), bias: (out_channels,).

    ``padding``: an int, (ph, pw), (top, bottom, left, right), 'valid' or 'same'.
    'same' gives H_out = ceil(H / stride), the odd pixel at the bottom/right:
    PyTorch's 'same' for stride 1, and TensorFlow/Keras' for any stride (PyTorch
    rejects strided 'same'; the Keras models in the seeds use it).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, bias: bool = True, device: str | None = None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, bias,
                         (out_channels, in_channels), device, dtype)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                        dilation=self.dilation)


class ConvTranspose2d(_ConvNd):
    """The adjoint (input gradient) of Conv2d with the same settings, as PyTorch's ConvTranspose2d.

    x: (N, in_channels, H, W) -> (N, out_channels, H_out, W_out) with
    H_out = (H - 1) * stride - pad_top - pad_bottom + dilation * (kh - 1) + output_padding + 1.
    weight: (in_channels, out_channels, kh, kw), bias: (out_channels,).
    ``padding='same'`` follows TensorFlow's conv2d_transpose (H_out = H * stride);
    PyTorch has no string padding here.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, dilation=1, bias: bool = True, device: str | None = None,
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, bias,
                         (in_channels, out_channels), device, dtype)
        self.output_padding = output_padding_pair(output_padding, self.stride, self.dilation)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv_transpose2d(x, self.weight, self.bias, stride=self.stride,
                                  padding=self.padding, output_padding=self.output_padding,
                                  dilation=self.dilation)
