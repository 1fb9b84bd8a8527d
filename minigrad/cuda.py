"""``minigrad.cuda``: whether GPUs are usable, as ``torch.cuda`` says it.

Everything here answers without raising on a machine with no CuPy or no GPU.
"""
from __future__ import annotations

from . import backends


def is_available() -> bool:
    """Whether CuPy imports and sees at least one NVIDIA GPU."""
    return device_count() > 0


def device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy, a driver or a GPU)."""
    try:
        return backends.gpu_count(backends.cupy_backend())
    except RuntimeError:
        return 0


def current_device() -> int:
    """The index of the GPU new CuPy arrays go to; RuntimeError without a GPU."""
    return int(backends.cupy_backend().xp.cuda.runtime.getDevice())


def synchronize() -> None:
    """Wait for every kernel queued on the current GPU; RuntimeError without a GPU."""
    backends.cupy_backend().xp.cuda.runtime.deviceSynchronize()


from .tensortypes import tensor_types as _tensor_types  # noqa: E402

globals().update(_tensor_types("cuda"))  # FloatTensor, LongTensor, ...: torch.cuda's legacy types
