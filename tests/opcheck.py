"""One declaration per op -> forward, 1st/2nd/3rd-order gradient checks and PyTorch oracles.

An ``OpCase`` says how to make float64 inputs, the minigrad function, a NumPy
reference for the forward (``forward_expected``, written from the op's definition,
never with minigrad or ``kernels/``, the longer ones in ``tests/reference.py``: it
checks every forward in a run without PyTorch) and, where PyTorch has the same op, the torch function.
``case_params(CASES)`` turns a list of cases into pytest parameters; the generic
tests in ``check_*`` do the rest. Use it in a test module like this::

    CASES = [OpCase("tanh", lambda x: x.tanh(), shapes((3, 4)), forward_expected=np.tanh,
                    torch_fn=lambda x: x.tanh())]

    @pytest.mark.parametrize("case", case_params(CASES))
    @pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
    def test_forward(case, dtype):
        check_forward(case, dtype)

    @pytest.mark.parametrize("case", case_params(CASES))
    @pytest.mark.parametrize("order", [1, 2, 3])
    def test_gradients(case, order):
        check_gradients(case, order)
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

import minigrad
from minigrad.gradcheck import gradcheck_order

try:  # PyTorch is the oracle when installed; minigrad itself never imports it
    import torch
except ImportError:  # pragma: no cover
    torch = None


@dataclass
class OpCase:
    """One op under one setting.

    ``make_inputs(rng)`` returns float64 arrays (or other arrays for inputs that
    are not differentiated, listed in ``nondiff``). ``fn`` and ``torch_fn`` take
    the inputs as tensors of their library and return a tensor (or a tuple of them).
    ``forward_expected`` takes the inputs as NumPy arrays (the float ones in
    float64) and returns the expected output array (or a tuple of them).
    """

    name: str
    fn: Callable
    make_inputs: Callable[[np.random.Generator], list]
    torch_fn: Callable | None = None
    forward_expected: Callable | None = None
    nondiff: tuple[int, ...] = ()
    max_order: int = 3
    fast_from_order: int = 3  # orders >= this use the random-projection check
    atol: float = 1e-5
    rtol: float = 1e-3
    eps: float = 1e-6
    marks: tuple = field(default_factory=tuple)

    def arrays(self, dtype=np.float64, seed=0) -> list[np.ndarray]:
        """The inputs as NumPy arrays, the float ones cast to ``dtype``."""
        arrays = [np.asarray(a) for a in self.make_inputs(np.random.default_rng(seed))]
        return [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]

    def inputs(self, dtype=np.float64, noncontiguous=False, seed=0, device="cpu") -> list[minigrad.Tensor]:
        """The inputs as tensors on ``device``, the float ones that are differentiated
        requiring grad (``noncontiguous``: strided CPU arrays)."""
        out = []
        for i, a in enumerate(self.arrays(dtype, seed)):
            if i in self.nondiff or a.dtype.kind != "f":
                out.append(minigrad.from_numpy(a).to(device))
                continue
            if noncontiguous and a.ndim >= 1 and a.size > 1:
                a = np.repeat(a, 2, axis=-1)[..., ::2]  # same values, strided memory
                assert not a.flags.c_contiguous
            out.append(minigrad.from_numpy(a).to(device).requires_grad_())
        return out


def shapes(*shape_list, low=-2.0, high=2.0, positive=False):
    """An input maker for float inputs of the given shapes (uniform, away from 0 if positive)."""

    def make(rng):
        arrays = []
        for s in shape_list:
            a = rng.uniform(low, high, size=s)
            if positive:
                a = np.abs(a) + 0.5
            arrays.append(a)
        return arrays

    return make


def case_params(cases):
    return [pytest.param(c, id=c.name, marks=c.marks) for c in cases]


def relative_error(actual, expected) -> float:
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, f"shape {actual.shape} != expected {expected.shape}"
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-12)
    return float(np.max(np.abs(actual - expected), initial=0.0)) / scale


def _outputs(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


FORWARD_TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}


def check_forward(case: OpCase, dtype=np.float64, device="cpu") -> None:
    """The forward matches the case's NumPy reference; outputs and gradients keep ``dtype``.

    The reference runs in float64 on the inputs rounded to ``dtype``, so what is
    compared is the op's own rounding: relative error (to the largest expected
    value) <= 1e-12 in float64 and <= 1e-5 in float32.
    """
    assert case.forward_expected is not None, \
        f"{case.name}: declare forward_expected (a NumPy reference for the forward)"
    arrays = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in case.arrays(dtype)]
    expected = _outputs(case.forward_expected(*arrays))
    inputs = case.inputs(dtype=dtype, device=device)
    ours = _outputs(case.fn(*inputs))
    assert len(ours) == len(expected), \
        f"{case.name}: {len(ours)} outputs, the reference has {len(expected)}"
    for k, (o, e) in enumerate(zip(ours, expected, strict=True)):
        assert o.dtype == dtype, f"{case.name}: output {k} is {o.dtype} for {np.dtype(dtype)} inputs"
        assert o.device == device, f"{case.name}: output {k} is on {o.device}, the inputs on {device}"
        err = relative_error(o.detach().numpy(), e)
        assert err <= FORWARD_TOLERANCE[np.dtype(dtype).type], \
            f"{case.name}: output {k} differs from the NumPy reference by {err:.2e}"
    graphed = [o.sum() for o in ours if o.requires_grad]
    diff = [t for t in inputs if t.requires_grad]
    if graphed and diff:
        for i, g in enumerate(minigrad.grad(sum(graphed[1:], graphed[0]), diff, allow_unused=True)):
            assert g is None or g.dtype == dtype, \
                f"{case.name}: gradient {i} is {g.dtype} for {np.dtype(dtype)} inputs"


def check_gradients(case: OpCase, order: int, noncontiguous: bool = False, device="cpu") -> None:
    """Finite-difference checks of derivative orders 1..order in float64, on ``device``."""
    if order > case.max_order:
        pytest.skip(f"{case.name} is checked up to order {case.max_order}")
    inputs = case.inputs(noncontiguous=noncontiguous, device=device)
    assert gradcheck_order(
        case.fn, inputs, order=order, eps=case.eps, atol=case.atol, rtol=case.rtol,
        fast_mode=order >= case.fast_from_order,
    )


def _to_torch(t: minigrad.Tensor, requires_grad: bool):
    x = torch.from_numpy(np.array(t.array))
    return x.requires_grad_(requires_grad and x.is_floating_point())


def check_against_torch(case: OpCase, dtype=np.float64) -> None:
    """Forward, gradients, and create_graph second gradients match PyTorch.

    float64: relative error <= 1e-10; float32: <= 1e-5 (forward and first gradients).
    Outputs require grad exactly where PyTorch's do. A first gradient taken with
    create_graph may lack a graph where PyTorch's has one (a backward linear in
    the cotangent: bias, pooling, relu masks), but then PyTorch's second gradient
    through it must be zero: the second-order comparison always includes it.
    """
    if torch is None:
        pytest.skip("PyTorch is not installed")
    if case.torch_fn is None:
        pytest.skip(f"{case.name} has no PyTorch counterpart")
    tol = 1e-10 if dtype == np.float64 else 1e-5
    ours_in = case.inputs(dtype=dtype)
    theirs_in = [_to_torch(t, t.requires_grad) for t in ours_in]
    ours_out = _outputs(case.fn(*ours_in))
    theirs_out = _outputs(case.torch_fn(*theirs_in))
    for k, (o, t) in enumerate(zip(ours_out, theirs_out, strict=True)):
        err = relative_error(o.detach().numpy(), t.detach().numpy())
        assert err <= tol, f"{case.name}: forward output {k} differs from torch by {err:.2e}"
        assert o.requires_grad == t.requires_grad, (
            f"{case.name}: forward output {k} requires_grad is {o.requires_grad} here but "
            f"{t.requires_grad} in PyTorch")
    if dtype == np.float64 and case.forward_expected is not None:  # the oracle of check_forward
        expected = _outputs(case.forward_expected(*case.arrays()))
        for k, (e, t) in enumerate(zip(expected, theirs_out, strict=True)):
            err = relative_error(e, t.detach().numpy())
            assert err <= tol, f"{case.name}: NumPy reference output {k} differs from torch by {err:.2e}"

    diff = [i for i, t in enumerate(ours_in) if t.requires_grad]
    pairs = [(o, t) for o, t in zip(ours_out, theirs_out, strict=True) if o.requires_grad]
    if not pairs or not diff:
        return
    rng = np.random.default_rng(1)
    cot = [rng.standard_normal(o.shape).astype(dtype) for o, _ in pairs]
    ours_g = minigrad.grad([o for o, _ in pairs], [ours_in[i] for i in diff],
                           [minigrad.tensor(c) for c in cot], create_graph=True, allow_unused=True)
    theirs_g = torch.autograd.grad([t for _, t in pairs], [theirs_in[i] for i in diff],
                                   [torch.from_numpy(c) for c in cot], create_graph=True, allow_unused=True)
    live = []  # (input index, ours, theirs) where both sides have a gradient
    for i, g, tg in zip(diff, ours_g, theirs_g, strict=True):
        if g is None or tg is None:
            assert (g is None or not np.any(g.numpy())) and (tg is None or not torch.any(tg)), \
                f"{case.name}: gradient of input {i} is None on one side only"
            continue
        err = relative_error(g.detach().numpy(), tg.detach().numpy())
        assert err <= tol, f"{case.name}: gradient of input {i} differs from torch by {err:.2e}"
        assert tg.requires_grad or not g.requires_grad, \
            f"{case.name}: gradient of input {i} has a graph here but none in PyTorch"
        live.append((i, g, tg))
    if dtype == np.float64:
        _check_second_gradients(case, ours_in, theirs_in, diff, live, rng, tol)


def _check_second_gradients(case, ours_in, theirs_in, diff, live, rng, tol) -> None:
    """d/d inputs of <grads, w> for a random w, through the create_graph first gradients.

    A first gradient without a graph on our side is a constant here; PyTorch's
    second gradient must then get nothing from it either.
    """
    live = [(i, g, tg, rng.standard_normal(g.shape)) for i, g, tg in live if tg.requires_grad]
    if not live:
        return
    ours_terms = [(g * minigrad.tensor(w)).sum() for _, g, _, w in live if g.requires_grad]
    ours_h = (minigrad.grad(sum(ours_terms[1:], ours_terms[0]), [ours_in[i] for i in diff],
                            allow_unused=True) if ours_terms else [None] * len(diff))
    theirs_s = sum((tg * torch.from_numpy(w)).sum() for _, _, tg, w in live)
    theirs_h = torch.autograd.grad(theirs_s, [theirs_in[i] for i in diff], allow_unused=True)
    constant = [i for i, g, _, _ in live if not g.requires_grad]
    for i, h, th in zip(diff, ours_h, theirs_h, strict=True):
        h = np.zeros(ours_in[i].shape) if h is None else h.numpy()
        th = np.zeros(ours_in[i].shape) if th is None else th.numpy(force=True)  # may be a ZeroTensor
        err = relative_error(h, th)
        assert err <= tol, (
            f"{case.name}: second gradient of input {i} differs from torch by {err:.2e}"
            + (f" (the gradients of inputs {constant} have no graph here)" if constant else ""))
