"""Weight clipping, the original WGAN's Lipschitz constraint on the critic."""
from __future__ import annotations

from collections.abc import Iterable

from ..autograd import no_grad
from ..tensor import Tensor


def clip_weights_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clamp every parameter to [-clip_value, clip_value] in place.

    Call it after each critic update, as the WGAN paper (c = 0.01) and the seeds do::

        critic_opt.step()
        clip_weights_(critic.parameters(), 0.01)

    It is a separate call rather than an optimizer option because it is a
    constraint on the model, not part of the update rule: it applies to every
    parameter (batch-norm scales included, as in the reference code), whatever
    the optimizer. The arrays are clipped in place (``out=``), so nothing that
    holds them is invalidated.
    """
    if clip_value <= 0:
        raise ValueError(f"clip_value must be positive, got {clip_value}")
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    if not parameters:
        return
    kernels = parameters[0]._backend.kernels
    with no_grad():
        if kernels.MULTI_TENSOR and _one_launch(parameters):  # the GPU: every parameter at once
            kernels.clip_([p.array for p in parameters], clip_value)
        else:
            for p in parameters:
                p._backend.xp.clip(p.array, -clip_value, clip_value, out=p.array)
        for p in parameters:
            p._bump_version()  # a graph that saved p now raises at backward, as in torch


def _one_launch(parameters: list) -> bool:
    first = parameters[0]
    return all(p.dtype == first.dtype and p._backend is first._backend and p.array.flags.c_contiguous
               for p in parameters)
