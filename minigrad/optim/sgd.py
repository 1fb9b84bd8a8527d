"""Stochastic gradient descent with momentum (heavy ball or Nesterov), PyTorch's formula."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, required


class SGD(Optimizer):
    """SGD as ``torch.optim.SGD``. Per step, with g the gradient:

        g <- g + weight_decay * p
        b <- g                                  (first step)
        b <- momentum * b + (1 - dampening) * g (later steps)
        g <- g + momentum * b   if nesterov,  else  g <- b      (when momentum != 0)
        p <- p - lr * g

    State per parameter: 'momentum_buffer' (like p), only when momentum != 0.
    """

    _array_state = ("momentum_buffer",)

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = required,
                 momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        for name in ("lr", "momentum", "weight_decay"):
            if group[name] < 0.0:
                raise ValueError(f"invalid {name} value: {group[name]}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _init_state(self, group, param, xp):
        return {}

    def _update(self, group, param, grad, state, xp):
        momentum, wd = group["momentum"], group["weight_decay"]
        d_p = grad  # never written to: the gradient array may be shared with the graph
        if wd != 0:
            d_p = param * wd
            d_p += grad
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = d_p.copy()
            else:
                buf *= momentum
                buf += d_p if group["dampening"] == 0 else (1 - group["dampening"]) * d_p
            if group["nesterov"]:
                look_ahead = buf * momentum
                look_ahead += d_p
                d_p = look_ahead
            else:
                d_p = buf
        param -= group["lr"] * d_p
