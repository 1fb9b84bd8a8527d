"""``backward_arrays``, the raw-array backward a walk without create_graph runs, computes
exactly what the op's ``backward`` (run with create_graph=True) computes: same values to the
bit, same shapes and dtypes, and None for the inputs that need no gradient."""
from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd import Function
from minigrad.ops.elementwise import MaskedScale

OPS_DIR = Path(mg.__file__).parent / "ops"


def _tensor(rng, shape, dtype, requires_grad=True):
    return mg.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=requires_grad)


# op -> (input shapes, the function of those inputs whose graph ends in that op)
CASES = {
    "Add": [((3, 4), (4,)), lambda a, b: a + b],
    "Sub": [((3, 4), (3, 1)), lambda a, b: a - b],
    "Mul": [((2, 3, 4), (3, 4)), lambda a, b: a * b],
    "Neg": [((3, 4),), lambda a: -a],
    "Sigmoid": [((3, 4),), lambda a: (a * 4.0).sigmoid()],
    "Relu": [((3, 4),), lambda a: F.relu(a)],
    "MaskedScale": [((3, 4),), lambda a: MaskedScale.apply(
        a, mask=(a.detach().array > 0.2).astype(a.dtype))],
    "Sum": [((2, 3, 4),), lambda a: a.sum((0, 2), keepdim=True) + a.sum(1).sum()],
    "Reshape": [((2, 3, 4),), lambda a: a.reshape(4, 6)],
    "Permute": [((2, 3, 4),), lambda a: a.permute(2, 0, 1)],
    "SumTo": [((2, 3, 4),), lambda a: mg.ops.shape.sum_to(a, (3, 1))],
    "BroadcastTo": [((3, 1),), lambda a: mg.broadcast_to(a, (2, 3, 4))],
    "MatMul": [((2, 3, 4), (4, 5)), lambda a, b: a @ b],
}


def test_every_op_with_an_array_backward_has_a_case_here():
    defined = set()
    for path in OPS_DIR.glob("*.py"):
        module = importlib.import_module(f"minigrad.ops.{path.stem}")
        defined |= {name for name, obj in vars(module).items()
                    if isinstance(obj, type) and issubclass(obj, Function)
                    and obj.backward_arrays is not None}
    assert defined == set(CASES)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", sorted(CASES))
@pytest.mark.parametrize("wanted", ["all", "first"])
def test_array_backward_equals_the_differentiable_backward(op, dtype, wanted):
    shapes, fn = CASES[op]
    rng = np.random.default_rng(0)
    inputs = [_tensor(rng, s, dtype) for s in shapes]
    if wanted == "first":  # the other inputs need no gradient: needs_input_grad says so
        inputs = [inputs[0]] + [t.detach() for t in inputs[1:]]
    out = fn(*inputs)
    assert op in {type(out.grad_fn).__name__} | {
        type(e[0]).__name__ for e in out.grad_fn.next_functions if e[0] is not None}
    seed = _tensor(rng, out.shape, dtype, requires_grad=False)
    asked = [t for t in inputs if t.requires_grad]

    fast = mg.grad(out, asked, seed, retain_graph=True)
    graph = mg.grad(out, asked, seed, create_graph=True)

    for f, g in zip(fast, graph):
        assert f.dtype == g.dtype == np.dtype(dtype) and f.shape == g.shape
        np.testing.assert_array_equal(f.numpy(), g.detach().numpy())
        assert not f.requires_grad


def test_the_walk_without_create_graph_uses_the_array_backward(monkeypatch):
    calls = []
    original = MaskedScale.backward_arrays

    def spy(self, gy):
        calls.append(gy)
        return original(self, gy)

    monkeypatch.setattr(MaskedScale, "backward_arrays", spy)
    a = mg.tensor(np.array([-1.0, 2.0]), requires_grad=True)
    y = MaskedScale.apply(a, mask=np.array([0.0, 1.0]))

    y.sum().backward(retain_graph=True)
    assert len(calls) == 1 and isinstance(calls[0], np.ndarray)
    mg.grad(y.sum(), a, create_graph=True)
    assert len(calls) == 1  # create_graph runs the differentiable backward
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 1.0])
