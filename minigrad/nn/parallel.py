"""``nn.parallel``: the names of torch's data parallelism, on one device.

minigrad runs a module on the device of its input and does not split a batch across GPUs,
so ``data_parallel`` and ``DataParallel`` call the module once on the whole input: the same
result as torch's on one GPU (and on several, for models without batch statistics, since
torch's replicas each normalise their own slice of the batch).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .module import Module


def data_parallel(module: Module, inputs, device_ids: Sequence[int] | None = None,
                  output_device=None, dim: int = 0, module_kwargs: dict[str, Any] | None = None):
    """``module(inputs)`` (or ``module(*inputs)`` for a tuple), on the inputs' device; the
    device arguments are accepted as torch's and not used (see the module docstring)."""
    args = inputs if isinstance(inputs, tuple) else (inputs,)
    return module(*args, **(module_kwargs or {}))


class DataParallel(Module):
    """Wraps ``module`` as torch's DataParallel does (its parameters are ``module.*`` in the
    state dict); the forward runs ``module`` once on the whole batch."""

    def __init__(self, module: Module, device_ids: Sequence[int] | None = None,
                 output_device=None, dim: int = 0):
        super().__init__()
        self.module = module
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
