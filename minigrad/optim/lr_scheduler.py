"""Learning-rate schedules, as ``torch.optim.lr_scheduler``: ``StepLR``, ``LambdaLR``, ``LinearLR``.

A scheduler sets ``group['lr']`` of its optimizer's parameter groups from each group's
``initial_lr`` (written on construction, as torch does) and a count of ``step()`` calls,
``last_epoch``: call ``scheduler.step()`` after ``optimizer.step()``. The rates are computed in
closed form from ``last_epoch`` (torch updates StepLR and LinearLR by a factor per step; the two
agree to float rounding). The WGAN-GP paper's CIFAR-10 runs decay the rate linearly to 0 over
training: ``LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=iterations)``, or the same
as ``LambdaLR(opt, lambda it: 1 - it / iterations)``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses give ``_factor(epoch)``, the multiple of the initial rate."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__} needs an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when "
                               "resuming an optimizer (last_epoch != -1)")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def _factor(self, epoch: int, group_index: int) -> float:
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    def step(self) -> None:
        """Advance the schedule by one step and set every group's rate."""
        self.last_epoch += 1
        for i, (group, base) in enumerate(zip(self.optimizer.param_groups, self.base_lrs, strict=True)):
            group["lr"] = base * self._factor(self.last_epoch, i)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Plain data: the step count, the base rates and the settings (no functions)."""
        return {key: value for key, value in vars(self).items()
                if key != "optimizer" and not callable(value) and not _has_callables(value)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)


def _has_callables(value) -> bool:
    return isinstance(value, (list, tuple)) and any(callable(v) for v in value)


class StepLR(LRScheduler):
    """lr = initial_lr * gamma ** (last_epoch // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def _factor(self, epoch: int, group_index: int) -> float:
        return self.gamma ** (epoch // self.step_size)


class LambdaLR(LRScheduler):
    """lr = initial_lr * lr_lambda(last_epoch); one function, or one per parameter group."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | Sequence[Callable],
                 last_epoch: int = -1):
        groups = len(optimizer.param_groups)
        if callable(lr_lambda):
            self.lr_lambdas = [lr_lambda] * groups
        elif len(lr_lambda) == groups:
            self.lr_lambdas = list(lr_lambda)
        else:
            raise ValueError(f"LambdaLR: expected {groups} lr_lambdas, one per parameter group, "
                             f"got {len(lr_lambda)}")
        super().__init__(optimizer, last_epoch)

    def _factor(self, epoch: int, group_index: int) -> float:
        return self.lr_lambdas[group_index](epoch)


class LinearLR(LRScheduler):
    """lr = initial_lr * (start_factor + (end_factor - start_factor) * min(last_epoch, total_iters)
    / total_iters): from start_factor to end_factor of the rate in total_iters steps, then kept."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError("LinearLR: start_factor must be in (0, 1] and end_factor in [0, 1], "
                             f"got {start_factor} and {end_factor}")
        if not isinstance(total_iters, int) or total_iters < 1:
            raise ValueError(f"LinearLR: total_iters must be a positive int, got {total_iters!r}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def _factor(self, epoch: int, group_index: int) -> float:
        done = min(epoch, self.total_iters) / self.total_iters
        return self.start_factor + (self.end_factor - self.start_factor) * done
