"""Adam and AMSGrad, PyTorch's formula."""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, fusable_arrays


class Adam(Optimizer):
    """Adam as ``torch.optim.Adam`` (L2 weight decay added to the gradient, not AdamW).
    Per step t = 1, 2, ..., with g the gradient and m, v, v_max zero-initialised:

        g <- g + weight_decay * p
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g^2
        v_max <- max(v_max, v)                      (amsgrad; then v_max replaces v below)
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    State per parameter: 'step' (int), 'exp_avg' (m), 'exp_avg_sq' (v) and
    'max_exp_avg_sq' (v_max, amsgrad only), the arrays shaped like p.
    """

    _array_state = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _scalar_state = ("step",)

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad))

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        for name in ("lr", "eps", "weight_decay"):
            if group[name] < 0.0:
                raise ValueError(f"invalid {name} value: {group[name]}")
        for i, beta in enumerate(group["betas"]):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"invalid beta parameter at index {i}: {beta}")

    def _init_state(self, group, param, xp):
        state = {"step": 0, "exp_avg": xp.zeros_like(param), "exp_avg_sq": xp.zeros_like(param)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = xp.zeros_like(param)
        return state

    def _fused_update(self, kernels, group, params):
        states = [self.state[p] for p in params]
        steps = {state["step"] for state in states}
        arrays = fusable_arrays(params)
        if len(steps) != 1 or arrays is None:
            return False
        step = steps.pop() + 1
        amsgrad = group["amsgrad"]
        kernels.adam_(*arrays, [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states],
                      [s["max_exp_avg_sq"] for s in states] if amsgrad else None, step=step,
                      lr=group["lr"], betas=group["betas"], eps=group["eps"],
                      weight_decay=group["weight_decay"], amsgrad=amsgrad)
        for state in states:
            state["step"] = step
        return True

    def _update(self, group, param, grad, state, xp):
        beta1, beta2 = group["betas"]
        g = grad  # never written to: the gradient array may be shared with the graph
        if group["weight_decay"] != 0:
            g = param * group["weight_decay"]
            g += grad
        state["step"] = step = state["step"] + 1
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg *= beta1
        exp_avg += (1 - beta1) * g
        work = xp.multiply(g, g)  # the one scratch array, reused for the denominator and step
        work *= 1 - beta2
        exp_avg_sq *= beta2
        exp_avg_sq += work
        second = exp_avg_sq
        if group["amsgrad"]:
            second = state["max_exp_avg_sq"]
            xp.maximum(second, exp_avg_sq, out=second)
        xp.sqrt(second, out=work)
        work /= math.sqrt(1 - beta2 ** step)
        work += group["eps"]
        xp.divide(exp_avg, work, out=work)
        work *= group["lr"] / (1 - beta1 ** step)
        param -= work
