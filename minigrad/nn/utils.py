"""``minigrad.nn.utils``: helpers over many parameters at once, as ``torch.nn.utils``."""
from __future__ import annotations

from collections.abc import Iterable

from ..tensor import Tensor


def get_total_norm(tensors: Iterable[Tensor] | Tensor) -> Tensor:
    """The L2 norm of all ``tensors`` together, as one vector: a float64 0-d tensor on their
    device, computed there without a host sync (the backend's kernel set: per-tensor norms
    summed on the CPU, one concatenation and one dot on a GPU). 0 for no tensors."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if not tensors:
        from ..tensor import zeros

        return zeros((), dtype="float64")
    backend = tensors[0]._backend
    return Tensor._make(backend.kernels.total_norm([t.array for t in tensors]))
