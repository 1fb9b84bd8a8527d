"""Total norms and gradient clipping, as torch's ``nn.utils.get_total_norm``,
``clip_grad_norm_`` and ``clip_grad_value_``. The gradients change in place, as torch's
(backward gives every leaf's ``.grad`` memory of its own, so no other tensor changes with it)."""
from __future__ import annotations

import math
from collections.abc import Iterable

from ...autograd import no_grad
from ...ops.shape import stack
from ...tensor import Tensor, tensor, zeros


def get_total_norm(tensors: Iterable[Tensor] | Tensor) -> Tensor:
    """The L2 norm of all ``tensors`` together, as one vector: a float64 0-d tensor on their
    device, computed there without a host sync (the backend's kernel set: per-tensor norms
    summed on the CPU, one concatenation and one dot on a GPU). 0 for no tensors."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if not tensors:
        return zeros((), dtype="float64")
    backend = tensors[0]._backend
    return Tensor._make(backend.kernels.total_norm([t.array for t in tensors]))


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def _total_norm(grads: list[Tensor], norm_type: float) -> Tensor:
    """The norm of all gradients together, as one vector (the norm of their norms, as torch
    computes it): a 0-d tensor of the gradients' dtype."""
    if norm_type == math.inf:
        return stack([g.abs().max() for g in grads]).max()
    if norm_type == 2.0:  # the backend's kernel, in float64
        return get_total_norm(grads).astype(grads[0].dtype)
    norms = stack([(g.abs() ** norm_type).sum() ** (1.0 / norm_type) for g in grads])
    return (norms ** norm_type).sum() ** (1.0 / norm_type)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale the gradients of ``parameters`` so that their total ``norm_type`` norm is at most
    ``max_norm``: each is multiplied by min(1, max_norm / (total + 1e-6)), torch's factor.
    Returns the total norm before clipping (a 0-d tensor; 0. when no parameter has a grad)."""
    norm_type = float(norm_type)
    grads_of = _with_grads(parameters)
    if not grads_of:
        return tensor(0.0)
    with no_grad():
        total = _total_norm([p.grad for p in grads_of], norm_type)
        if error_if_nonfinite and not math.isfinite(float(total)):
            raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients "
                               "is non-finite, so it cannot be clipped; pass error_if_nonfinite=False "
                               "to clip anyway")
        factor = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for p in grads_of:
            p.grad.mul_(factor)
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient of ``parameters`` to [-clip_value, clip_value]."""
    with no_grad():
        for p in _with_grads(parameters):
            p.grad.clamp_(-clip_value, clip_value)
