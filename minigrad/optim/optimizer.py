"""``Optimizer``: parameter groups, per-parameter state, and a plain-data state dict.

Subclasses implement ``_init_state`` and ``_update(group, param, grad, state, xp)``,
which changes the parameter's array in place from the raw gradient array, and may implement
``_fused_update``, which updates a whole group in one launch of a multi-tensor kernel set
(the GPU backend's, :class:`kernels.cuda_kernels.CudaKernels`). Updates touch arrays only:
no graph is recorded and the parameter's array object is kept, so a module's
state dict and any other holder of the parameter see the new values.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy

from ..autograd import enable_grad, no_grad, zero_grad
from ..backends import backend_of
from ..tensor import Tensor


class _Required:
    """Marks a hyperparameter with no default (SGD's lr)."""

    def __repr__(self):
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class: ``Optimizer(params, defaults)``.

    ``params`` is an iterable of tensors or of dicts ``{'params': [...], 'lr': ...}``
    (parameter groups, each overriding any of ``defaults``), as in PyTorch.
    ``state[p]`` holds each parameter's state (arrays shaped like p, and ints);
    tensors hash by identity, so the parameter objects are the keys.
    ``_array_state`` names the per-parameter arrays a subclass keeps, which is
    what ``load_state_dict`` validates against.
    """

    _array_state: tuple[str, ...] = ()
    _scalar_state: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict[str, Any]):
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors "
                            "or dicts, but got a Tensor")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones from defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for i, p in enumerate(group["params"]):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but parameter {i} of the group "
                                f"is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"can't optimize a non-leaf Tensor (parameter {i} of the group)")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization "
                                 f"parameter {name}")
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]) or \
                len({id(p) for p in group["params"]}) != len(group["params"]):
            raise ValueError("some parameters appear more than once (in this group or in an earlier "
                             "one); each parameter may be optimized by one group only")
        self._check_hyperparameters(group)
        self.param_groups.append(group)

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Subclasses raise ValueError for out-of-range settings."""

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter (``minigrad.autograd.zero_grad``)."""
        zero_grad((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None):
        """One update of every parameter that has a gradient; returns ``closure()`` if given
        (the closure recomputes the loss with grad mode on, as in PyTorch)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                live = [p for p in group["params"] if p.grad is not None]
                for p in live:
                    if p.grad.shape != p.shape:
                        raise RuntimeError(f"gradient of shape {p.grad.shape} for a parameter of "
                                           f"shape {p.shape}")
                    if p not in self.state:
                        self.state[p] = self._init_state(group, p.array, p._backend.xp)
                if not live:
                    continue
                kernels = live[0]._backend.kernels
                # a multi-tensor kernel set (the GPU's) updates the whole group in one launch
                if not (kernels.MULTI_TENSOR and self._fused_update(kernels, group, live)):
                    for p in live:
                        xp = p._backend.xp
                        self._update(group, p.array, _laid_out_like(p.array, p.grad.array, xp),
                                     self.state[p], xp)
                for p in live:
                    p._bump_version()  # a graph that saved p now raises at backward, as in torch
        return loss

    def _fused_update(self, kernels, group: dict[str, Any], params: list) -> bool:
        """Update every parameter of ``params`` (all with gradients) in one kernel launch of
        ``kernels``; False (nothing done) when this optimizer has no such kernel or the
        parameters cannot share one (mixed dtypes or devices, unequal step counts)."""
        return False

    def _init_state(self, group: dict[str, Any], param, xp) -> dict[str, Any]:
        """The state of a parameter before its first step (``param`` is its array)."""
        raise NotImplementedError

    def _update(self, group: dict[str, Any], param, grad, state: dict[str, Any], xp) -> None:
        """Update the array ``param`` in place from the array ``grad`` (read only)."""
        raise NotImplementedError

    # ----- state dict -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Plain data: ``{'state': {index: {name: array | int}}, 'param_groups': [...]}``.

        Parameters are numbered in group order (0, 1, ...); each group lists its
        indices under 'params' with its hyperparameters beside them. The arrays
        are copies (unlike PyTorch's references), so a state dict taken now
        stays a snapshot while training goes on.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {
                        k: (v.copy() if hasattr(v, "shape") else v) for k, v in self.state[p].items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by ``state_dict`` (possibly via
        ``minigrad.save``/``load``). Everything is validated before anything changes:
        group count and sizes, hyperparameter names, state names, and array shapes;
        arrays are copied onto each parameter's device and dtype."""
        where = f"{type(self).__name__}.load_state_dict"
        try:
            saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        except (KeyError, TypeError):
            raise ValueError(f"{where}: expected a dict with 'state' and 'param_groups'") from None
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{where}: the state dict has {len(saved_groups)} parameter group(s), "
                             f"the optimizer has {len(self.param_groups)}")
        params_by_index: dict[int, Tensor] = {}
        new_groups = []
        for g, (ours, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(ours["params"]):
                raise ValueError(f"{where}: parameter group {g} has {len(saved['params'])} parameters "
                                 f"in the state dict and {len(ours['params'])} in the optimizer")
            expected, got = set(ours) - {"params"}, set(saved) - {"params"}
            if expected != got:
                raise ValueError(
                    f"{where}: parameter group {g} has options {sorted(got)}, expected {sorted(expected)} "
                    f"(missing {sorted(expected - got)}, unexpected {sorted(got - expected)}); "
                    "was it saved by a different optimizer?")
            for i, p in zip(saved["params"], ours["params"]):
                params_by_index[int(i)] = p
            new_group = {k: _plain(v) for k, v in saved.items() if k != "params"}
            new_group["params"] = ours["params"]
            self._check_hyperparameters(new_group)
            new_groups.append(new_group)

        allowed = set(self._array_state) | set(self._scalar_state)
        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, entry in saved_state.items():
            if int(key) not in params_by_index:
                raise ValueError(f"{where}: state for parameter {key}, which no parameter group lists")
            p = params_by_index[int(key)]
            unknown = set(entry) - allowed
            if unknown:
                raise ValueError(f"{where}: unexpected state {sorted(unknown)} for parameter {key}; "
                                 f"{type(self).__name__} keeps {sorted(allowed)}")
            restored = {}
            for name, value in entry.items():
                if name in self._scalar_state:
                    restored[name] = _plain(value.array if isinstance(value, Tensor) else value)
                    continue
                array = value.array if isinstance(value, Tensor) else value
                if tuple(array.shape) != p.shape:
                    raise ValueError(f"{where}: state '{name}' of parameter {key} has shape "
                                     f"{tuple(array.shape)}, the parameter has shape {p.shape}")
                restored[name] = _array_like(array, p.array)
            new_state[p] = restored
        for group, new_group in zip(self.param_groups, new_groups):
            group.clear()
            group.update(new_group)
        self.state = new_state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _plain(value):
    """A loaded hyperparameter as a Python value (numpy scalars and lists become float/int/tuple)."""
    if isinstance(value, numpy.generic) or (hasattr(value, "shape") and value.shape == ()):
        return value.item()
    if isinstance(value, list):
        return tuple(value)
    return value


def _array_like(array, like):
    """A fresh copy of ``array`` with ``like``'s dtype, on ``like``'s backend."""
    target, source = backend_of(like), backend_of(array)
    if source is not target:
        array = source.to_numpy(array)
    return target.xp.array(array, dtype=like.dtype, copy=True)


def _laid_out_like(param, grad, xp):
    """``grad``, copied to C order if ``param`` is C-contiguous and it is not. A Linear
    weight's gradient is the transpose of a matmul's output (F order); an update's passes
    mixing the two orders run about twice as slow as one transposing copy and passes in one
    order. The values are the same to the bit."""
    if grad.flags.c_contiguous or not param.flags.c_contiguous:
        return grad
    return xp.ascontiguousarray(grad)


def fusable_arrays(params: list) -> tuple[list, list] | None:
    """(parameter arrays, C-contiguous gradient arrays) of ``params`` for a multi-tensor
    kernel, or None when they do not share one dtype and one device or a parameter is not
    C-contiguous (the kernels address flat memory)."""
    first = params[0]
    arrays, grads = [], []
    for p in params:
        if p.dtype != first.dtype or p._backend is not first._backend or not p.array.flags.c_contiguous:
            return None
        arrays.append(p.array)
        grads.append(p._backend.xp.ascontiguousarray(p.grad.array))
    return arrays, grads
