"""Finite-difference checks of analytic gradients, to any order (float64 only).

* ``gradcheck(fn, inputs)`` compares the Jacobian that reverse mode gives with
  central differences. ``fast_mode=True`` compares one random projection
  u^T J v instead of the full Jacobian (one backward, two forwards).
* ``gradgradcheck(fn, inputs, grad_outputs)`` runs ``gradcheck`` on the map
  (inputs, v) -> grad(fn(inputs), inputs, v, create_graph=True): the second
  derivative, including with respect to the cotangent v (as PyTorch does).
* ``gradcheck_order(fn, inputs, order)`` applies that construction recursively
  (HIPS autograd's idea): order 3 checks the derivative of the second
  derivative map, and so on.

On failure the message names the input, the element, and both values.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy

from .autograd import grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic derivative disagrees with finite differences."""


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _check_inputs(inputs: Sequence, caller: str) -> None:
    if not any(isinstance(t, Tensor) and t.requires_grad for t in inputs):
        raise ValueError(f"{caller}: no input requires grad, so there is nothing to check")
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != numpy.float64:
            raise TypeError(
                f"{caller}: input {i} is {t.dtype}; finite differences need float64 inputs "
                "(call .double() on every input that requires grad)"
            )


def _outputs(fn, inputs) -> tuple[Tensor, ...]:
    return tuple(o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor) and o.dtype.kind == "f")


def _host(t: Tensor) -> numpy.ndarray:
    return t._backend.to_numpy(t.array).astype(numpy.float64)


def _evaluate(fn, inputs, i, delta) -> list[numpy.ndarray]:
    """fn's outputs (host arrays) with input ``i`` moved by ``delta``."""
    moved = list(inputs)
    x = inputs[i]
    moved[i] = Tensor._leaf(x.array + x._backend.asarray(delta.reshape(x.shape)), requires_grad=True)
    # grad mode stays on: a derivative map calls grad() inside fn
    return [_host(o) for o in _outputs(fn, moved)]


def _vjp(outputs, diff_inputs, cotangents) -> list[numpy.ndarray]:
    """sum_k <cotangent_k, d output_k / d input> for each input, as host arrays."""
    live = [(o, u) for o, u in zip(outputs, cotangents) if o.requires_grad]
    if not live:
        return [numpy.zeros(x.shape) for x in diff_inputs]
    outs = [o for o, _ in live]
    us = [Tensor._leaf(o._backend.asarray(u.reshape(o.shape))) for o, u in live]
    grads = grad(outs, diff_inputs, us, retain_graph=True, allow_unused=True)
    return [numpy.zeros(x.shape) if g is None else _host(g) for g, x in zip(grads, diff_inputs)]


def _fail(message: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(message)
    return False


def gradcheck(
    fn: Callable,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check reverse-mode first derivatives of ``fn`` against central differences.

    ``inputs``: a tensor or a tuple of tensors; those with ``requires_grad`` are
    checked and must be float64. ``fn`` returns a tensor or a tuple of tensors.
    A mismatch is ``|analytic - numeric| > atol + rtol * |numeric|``.
    """
    inputs = _as_tuple(inputs)
    _check_inputs(inputs, "gradcheck")
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    outputs = _outputs(fn, inputs)
    if not outputs:
        raise ValueError("gradcheck: fn returned no floating point tensor")
    out_sizes = [o.numel() for o in outputs]
    diff_inputs = [inputs[i] for i in diff_idx]
    rng = numpy.random.default_rng(seed)

    if fast_mode:
        us = [rng.standard_normal(n) for n in out_sizes]
        analytic = _vjp(outputs, diff_inputs, us)
        for k, i in enumerate(diff_idx):
            v = rng.standard_normal(inputs[i].numel())
            plus = _evaluate(fn, inputs, i, eps * v)
            minus = _evaluate(fn, inputs, i, -eps * v)
            numeric = sum(float(u @ ((p - m).ravel() / (2 * eps))) for u, p, m in zip(us, plus, minus))
            exact = float(analytic[k].ravel() @ v)
            if not abs(exact - numeric) <= atol + rtol * abs(numeric):
                return _fail(
                    f"gradcheck (fast mode) failed for input {i} of shape {inputs[i].shape}: "
                    f"projected analytic u^T J v = {exact!r}, numeric = {numeric!r}",
                    raise_exception,
                )
        return True

    for k, i in enumerate(diff_idx):
        x = inputs[i]
        n = x.numel()
        numeric = numpy.zeros((n, sum(out_sizes)))
        for j in range(n):
            delta = numpy.zeros(n)
            delta[j] = eps
            plus, minus = _evaluate(fn, inputs, i, delta), _evaluate(fn, inputs, i, -delta)
            numeric[j] = numpy.concatenate([(p - m).ravel() for p, m in zip(plus, minus)]) / (2 * eps)
        analytic = numpy.zeros_like(numeric)
        col = 0
        for o_idx, size in enumerate(out_sizes):
            for e in range(size):
                basis = [numpy.zeros(s) for s in out_sizes]
                basis[o_idx][e] = 1.0
                analytic[:, col] = _vjp(outputs, diff_inputs, basis)[k].ravel()
                col += 1
        bad = numpy.abs(analytic - numeric) > atol + rtol * numpy.abs(numeric)
        if bad.any():
            j, c = map(int, numpy.argwhere(bad)[0])
            o_idx = int(numpy.searchsorted(numpy.cumsum(out_sizes), c, side="right"))
            e = c - (sum(out_sizes[:o_idx]))
            element = numpy.unravel_index(j, x.shape) if x.ndim else ()
            out_el = numpy.unravel_index(e, outputs[o_idx].shape) if outputs[o_idx].ndim else ()
            return _fail(
                f"gradcheck failed for input {i} of shape {x.shape} at element {tuple(map(int, element))}, "
                f"output {o_idx} element {tuple(map(int, out_el))}: analytic {analytic[j, c]!r}, "
                f"numeric {numeric[j, c]!r} ({int(bad.sum())} of {bad.size} Jacobian entries differ)",
                raise_exception,
            )
    return True


def _first_derivative_map(fn: Callable, n_inputs: int) -> Callable:
    """(inputs..., v...) -> grad(fn(inputs), differentiable inputs, v, create_graph=True)."""

    def derivative(*args):
        xs, vs = args[:n_inputs], args[n_inputs:]
        outs = _outputs(fn, xs)
        diff = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        live = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
        if not live:
            return tuple(x * 0.0 for x in diff)
        grads = grad([o for o, _ in live], diff, [v for _, v in live], create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return derivative


def _random_cotangents(fn, inputs, seed) -> tuple[Tensor, ...]:
    rng = numpy.random.default_rng(seed)
    outs = _outputs(fn, inputs)
    return tuple(
        Tensor._leaf(o._backend.asarray(rng.standard_normal(o.shape)), requires_grad=True) for o in outs
    )


def gradgradcheck(
    fn: Callable,
    inputs,
    grad_outputs=None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check second derivatives: gradcheck of (inputs, v) -> d<fn(inputs), v>/d inputs."""
    inputs = _as_tuple(inputs)
    _check_inputs(inputs, "gradgradcheck")
    if grad_outputs is None:
        grad_outputs = _random_cotangents(fn, inputs, seed)
    grad_outputs = _as_tuple(grad_outputs)
    return gradcheck(
        _first_derivative_map(fn, len(inputs)), inputs + grad_outputs, eps=eps, atol=atol,
        rtol=rtol, fast_mode=fast_mode, raise_exception=raise_exception, seed=seed,
    )


def gradcheck_order(
    fn: Callable,
    inputs,
    order: int = 3,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check derivatives of orders 1..``order`` by recursing on the derivative map."""
    inputs = _as_tuple(inputs)
    _check_inputs(inputs, "gradcheck_order")
    kwargs = dict(eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode, raise_exception=raise_exception)
    if not gradcheck(fn, inputs, seed=seed, **kwargs):
        return False
    if order <= 1:
        return True
    vs = _random_cotangents(fn, inputs, seed + 1)
    return gradcheck_order(
        _first_derivative_map(fn, len(inputs)), inputs + vs, order - 1, seed=seed + 1, **kwargs
    )
