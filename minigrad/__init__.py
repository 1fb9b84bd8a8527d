"""minigrad: a reverse-mode autodiff engine, differentiable to any order.

PyTorch's names and semantics on NumPy (CPU) and CuPy (GPU). See README.md.
"""
from ._device import device
from .autograd import Function, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from .tensor import (
    Tensor, arange, as_tensor, empty, float16, float32, float64, from_numpy, full, full_like,
    int32, int64, linspace, ones, ones_like, tensor, uint8, zeros, zeros_like,
)
from .tensor import bool_ as bool  # noqa: A001  (torch.bool)
from .tensor import float16 as half, float32 as float, float64 as double  # noqa: A001  (torch's aliases)
from .tensor import int32 as int, int64 as long  # noqa: A001
from .random import Generator, manual_seed, rand, rand_like, randint, randn, randn_like
from .gradcheck import gradcheck, gradgradcheck, gradcheck_order
from .tensortypes import CPU_TYPES as _CPU_TYPES
from . import ops

# exp, sum, reshape, cat, ...: every op declared ``@export(top=...)`` in minigrad/ops/
globals().update(ops.public("top"))
globals().update(_CPU_TYPES)  # FloatTensor, LongTensor, ...: torch's legacy tensor types

__version__ = "0.1.0"

from . import cuda, nn, optim  # noqa: E402
from .backends import cudnn as _cudnn  # noqa: E402,F401  (minigrad.backends.cudnn, torch's stand-in)
from .serialization import load, save  # noqa: E402
