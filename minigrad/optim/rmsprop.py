"""RMSprop, with PyTorch's formula by default and TensorFlow/Keras' as an option."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, fusable_arrays


class RMSprop(Optimizer):
    """RMSprop. Per step, with g the gradient and v, m, b zero-initialised (v may start at
    ``initial_accumulator_value``):

        g <- g + weight_decay * p
        v <- alpha * v + (1 - alpha) * g^2
        m <- alpha * m + (1 - alpha) * g           (centered only)
        s <- v - m^2   if centered,  else  s <- v
        d <- sqrt(s) + eps                (default: PyTorch)
        d <- sqrt(s + eps)                (eps_inside_sqrt=True: TensorFlow / Keras)
        b <- momentum * b + g / d;  p <- p - lr * b     (momentum > 0)
        p <- p - lr * g / d                             (momentum = 0)

    The defaults are ``torch.optim.RMSprop``'s (alpha=0.99, eps=1e-8, eps outside
    the square root). What the TensorFlow/Keras code in the seeds does differs:

    ============================  =====  ======  ==========  =====================
    optimizer                     decay  eps     eps         accumulator v starts
    ============================  =====  ======  ==========  =====================
    torch.optim.RMSprop           0.99   1e-8    outside     0
    TF1 train.RMSPropOptimizer    0.9    1e-10   inside      1 (ones)
    Keras 3 / tf.keras >= 2.11    0.9    1e-7    inside      0
    Keras 2 (lr= kwarg)           0.9    1e-7    outside*    0
    ============================  =====  ======  ==========  =====================

    (*inside when momentum > 0). So the seed's
    ``tf.train.RMSPropOptimizer(learning_rate=5e-5)`` is
    ``RMSprop(params, lr=5e-5, alpha=0.9, eps=1e-10, eps_inside_sqrt=True,
    initial_accumulator_value=1.0)``, and Keras 3's ``RMSprop(learning_rate=lr)``
    is ``RMSprop(params, lr=lr, alpha=0.9, eps=1e-7, eps_inside_sqrt=True)``.
    Starting v at 1 makes TF1's first steps much smaller than PyTorch's (whose
    first step is about lr * 10 per coordinate at alpha=0.99).

    TensorFlow folds lr into its momentum buffer (b' = momentum * b + lr * g / d,
    p <- p - b'); here lr multiplies b as in PyTorch. The two are the same for a
    constant learning rate and differ only if lr changes during training.

    State per parameter: 'square_avg' (v), 'grad_avg' (m, centered), and
    'momentum_buffer' (b, momentum > 0), each shaped like p.
    """

    _array_state = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-2,
                 alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False, eps_inside_sqrt: bool = False,
                 initial_accumulator_value: float = 0.0):
        super().__init__(params, dict(
            lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
            centered=centered, eps_inside_sqrt=eps_inside_sqrt,
            initial_accumulator_value=initial_accumulator_value))

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        for name in ("lr", "eps", "momentum", "weight_decay", "alpha", "initial_accumulator_value"):
            if group[name] < 0.0:
                raise ValueError(f"invalid {name} value: {group[name]}")

    def _init_state(self, group, param, xp):
        state = {"square_avg": xp.full_like(param, group["initial_accumulator_value"])}
        if group["centered"]:
            state["grad_avg"] = xp.zeros_like(param)
        if group["momentum"] > 0:
            state["momentum_buffer"] = xp.zeros_like(param)
        return state

    def _fused_update(self, kernels, group, params):
        arrays = fusable_arrays(params)
        if arrays is None:
            return False
        states = [self.state[p] for p in params]
        kernels.rmsprop_(
            *arrays, [s["square_avg"] for s in states],
            [s["grad_avg"] for s in states] if group["centered"] else None,
            [s["momentum_buffer"] for s in states] if group["momentum"] > 0 else None,
            lr=group["lr"], alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
            momentum=group["momentum"], centered=group["centered"],
            eps_inside_sqrt=group["eps_inside_sqrt"])
        return True

    def _update(self, group, param, grad, state, xp):
        alpha, eps, wd, momentum = group["alpha"], group["eps"], group["weight_decay"], group["momentum"]
        g = grad  # never written to: the gradient array may be shared with the graph
        if wd != 0:
            g = param * wd
            g += grad
        square_avg = state["square_avg"]
        square_avg *= alpha
        work = xp.multiply(g, g)  # the one scratch array, reused for the denominator and step
        work *= 1 - alpha
        square_avg += work
        s = square_avg  # s: v, or v - m^2 (centered) in work; read, never written here
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            grad_avg += (1 - alpha) * g
            xp.multiply(grad_avg, grad_avg, out=work)
            s = xp.subtract(square_avg, work, out=work)
        if group["eps_inside_sqrt"]:
            xp.add(s, eps, out=work)
            xp.sqrt(work, out=work)
        else:
            xp.sqrt(s, out=work)
            work += eps
        xp.divide(g, work, out=work)
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += work
            xp.multiply(buf, group["lr"], out=work)
        else:
            work *= group["lr"]
        param -= work
