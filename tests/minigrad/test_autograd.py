"""The engine's contracts: backward, grad(), grad mode, freeing, errors, gradcheck itself."""
import ast
import gc
import importlib
import weakref
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import AccumulateGrad, Function
from minigrad.gradcheck import GradcheckError

OPS_DIR = Path(mg.__file__).parent / "ops"


def leaf(*shape, seed=0):
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def test_backward_accumulates_into_leaves():
    x = leaf(3)
    (x * x).sum().backward()
    (x * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy() + 2.0)
    assert x.grad.requires_grad is False


def test_backward_frees_the_graph_and_a_second_call_says_so():
    x = leaf(3)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf(3)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_backward_on_non_scalar_says_what_to_pass():
    x = leaf(2, 3)
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\).*gradient="):
        (x * 2).backward()
    (x * 2).backward(mg.ones(2, 3, dtype="float64"))
    np.testing.assert_allclose(x.grad.numpy(), 2.0)


def test_shape_mismatch_names_the_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"Mul.*\(2, 3\).*\(4,\)"):
        leaf(2, 3) * leaf(4)
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        leaf(2, 3) @ leaf(4, 5)


def test_mixing_dtypes_is_an_error():
    with pytest.raises(TypeError, match="different dtypes"):
        mg.ones(2) + mg.ones(2, dtype="float64")


def test_python_scalars_take_the_tensor_dtype():
    assert (mg.ones(2) * 3.5).dtype == np.float32
    assert (2.0 ** mg.ones(2, dtype="float64")).dtype == np.float64


def test_grad_returns_gradients_without_touching_dot_grad():
    x, w = leaf(3), leaf(3, seed=1)
    gx, gw = mg.grad((x * w).sum(), [x, w])
    np.testing.assert_allclose(gx.numpy(), w.detach().numpy())
    np.testing.assert_allclose(gw.numpy(), x.detach().numpy())
    assert x.grad is None and w.grad is None


def test_grad_with_respect_to_a_non_leaf():
    x = leaf(3)
    h = x * 3.0
    (gh,) = mg.grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy())


def test_grad_unused_input_needs_allow_unused():
    x, z = leaf(3), leaf(3, seed=1)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        mg.grad((x * 2).sum(), [x, z])
    gx, gz = mg.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gz is None and np.allclose(gx.numpy(), 2)


def test_grad_only_walks_what_leads_to_the_inputs():
    calls = []

    class Spy(Function):
        def forward(self, a):
            return a * 1.0

        def backward(self, gy):
            calls.append(self.needs_input_grad)
            return gy

    w, x = leaf(3), leaf(3, seed=1)
    y = (Spy.apply(w) * x).sum()
    mg.grad(y, x, retain_graph=True)
    assert calls == []  # the branch to w is not needed for dy/dx
    mg.grad(y, w)
    assert calls == [(True,)]


def test_create_graph_gives_differentiable_gradients():
    x = leaf(4)
    (g,) = mg.grad((x ** 3).sum(), x, create_graph=True)
    assert g.requires_grad
    (gg,) = mg.grad(g.sum(), x, create_graph=True)
    (ggg,) = mg.grad(gg.sum(), x)
    np.testing.assert_allclose(gg.detach().numpy(), 6 * x.detach().numpy())
    np.testing.assert_allclose(ggg.numpy(), 6.0)


def test_backward_create_graph_keeps_dot_grad_differentiable():
    x = leaf(3)
    (x ** 2).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (h,) = mg.grad(x.grad.sum(), x)
    np.testing.assert_allclose(h.numpy(), 2.0)


def test_no_grad_records_nothing_and_nests():
    x = leaf(3)
    with mg.no_grad():
        y = x * 2
        with mg.enable_grad():
            z = x * 2
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad


def test_no_grad_as_decorator():
    @mg.no_grad()
    def f(t):
        return t * 2

    assert not f(leaf(2)).requires_grad
    assert mg.is_grad_enabled()


def test_backward_keeps_only_what_is_needed():
    x, w = leaf(3), mg.tensor(np.ones(3))  # w does not require grad
    y = x * w
    assert set(y.grad_fn._saved_inputs) == {1}  # only w, to form dy/dx


def test_detach_and_requires_grad_rules():
    x = leaf(2)
    assert not x.detach().requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        mg.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="detach"):
        (x * 2).requires_grad_(False)
    with pytest.raises(RuntimeError, match="requires grad"):
        x.numpy()


def test_non_smooth_points_follow_pytorch():
    x = mg.tensor([0.0, 0.0, 1.0], dtype="float64", requires_grad=True)
    (g_relu,) = mg.grad(x.relu().sum(), x)
    (g_abs,) = mg.grad(x.abs().sum(), x)
    np.testing.assert_array_equal(g_relu.numpy(), [0, 0, 1])
    np.testing.assert_array_equal(g_abs.numpy(), [0, 0, 1])
    t = mg.tensor([1.0, 3.0, 3.0], dtype="float64", requires_grad=True)
    (g_max,) = mg.grad(t.max(), t)
    np.testing.assert_array_equal(g_max.numpy(), [0, 0.5, 0.5])  # ties share evenly
    (g_max_dim,) = mg.grad(t.max(0)[0], t)
    np.testing.assert_array_equal(g_max_dim.numpy(), [0, 1, 0])  # the returned index takes it


def test_gradcheck_catches_a_wrong_backward():
    class BadSquare(Function):
        def forward(self, a):
            self.save_inputs(0)
            return a * a

        def backward(self, gy):
            return gy * self.saved_input(0) * 3.0  # should be 2

    with pytest.raises(GradcheckError, match=r"input 0 of shape \(3,\) at element"):
        mg.gradcheck(lambda a: BadSquare.apply(a), (leaf(3),))
    with pytest.raises(GradcheckError, match="fast mode"):
        mg.gradcheck(lambda a: BadSquare.apply(a), (leaf(3),), fast_mode=True)


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    class FrozenSquare(Function):
        """Right first derivative, but its backward treats x as a constant
        (the DeZero batchnorm bug in miniature): second order must fail."""

        def forward(self, a):
            self.save_inputs(0)
            return a * a

        def backward(self, gy):
            return gy * (2.0 * self.saved_input(0).detach())

    x = leaf(3)
    assert mg.gradcheck(lambda a: FrozenSquare.apply(a), (x,))
    with pytest.raises(GradcheckError):
        mg.gradgradcheck(lambda a: FrozenSquare.apply(a), (x,))


def test_gradcheck_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        mg.gradcheck(lambda a: a * a, (mg.ones(2, requires_grad=True),))


def test_generator_streams_are_reproducible_and_checkpointable():
    g = mg.Generator(5)
    a = mg.randn(3, generator=g)
    state = g.get_state()
    b = mg.randn(3, generator=g)
    g2 = mg.Generator(123)
    g2.set_state(state)
    np.testing.assert_array_equal(mg.randn(3, generator=g2).numpy(), b.numpy())
    mg.manual_seed(7)
    c = mg.rand(2)
    mg.manual_seed(7)
    np.testing.assert_array_equal(mg.rand(2).numpy(), c.numpy())
    assert a.dtype == np.float32 and mg.randint(0, 10, (4,)).dtype == np.int64


def test_creation_functions_follow_pytorch_defaults():
    assert mg.zeros(2, 3).shape == (2, 3) and mg.zeros(2, 3).dtype == np.float32
    assert mg.ones((2, 3)).shape == (2, 3)
    assert mg.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert mg.arange(5).dtype == np.int64 and mg.arange(0, 1, 0.25).numel() == 4
    assert mg.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert mg.tensor(np.zeros(2)).dtype == np.float64
    assert mg.zeros_like(mg.ones(2, dtype="float64")).dtype == np.float64


# ----- grad mode: each form of no_grad, enable_grad and set_grad_enabled --------------------
def test_no_grad_constructed_without_with_changes_nothing():
    ctx = mg.no_grad()
    assert mg.is_grad_enabled()
    with ctx:
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()
    with mg.no_grad():
        mg.enable_grad()
        assert not mg.is_grad_enabled()  # constructing enable_grad does not switch it back on


def test_no_grad_restores_the_mode_when_the_block_raises():
    with pytest.raises(ValueError):
        with mg.no_grad():
            raise ValueError
    assert mg.is_grad_enabled()


def test_enable_grad_as_decorator_records_inside_no_grad():
    @mg.enable_grad()
    def doubled(t):
        assert mg.is_grad_enabled()
        return t * 2

    with mg.no_grad():
        assert doubled(leaf(2)).requires_grad
        assert not mg.is_grad_enabled()


def test_a_decorated_function_keeps_its_name_and_nests_in_itself():
    @mg.no_grad()
    def countdown(n):
        """Docstring."""
        assert not mg.is_grad_enabled()
        return n if n == 0 else countdown(n - 1)

    assert countdown.__name__ == "countdown" and countdown.__doc__ == "Docstring."
    assert countdown(3) == 0 and mg.is_grad_enabled()


def test_no_grad_decorates_without_parentheses_too():
    @mg.no_grad
    def doubled(t):
        return t * 2

    assert not doubled(leaf(2)).requires_grad and mg.is_grad_enabled()


def test_set_grad_enabled_called_as_a_function_sets_the_mode():
    try:
        mg.set_grad_enabled(False)
        assert not mg.is_grad_enabled()
        assert not (leaf(2) * 2).requires_grad
        mg.set_grad_enabled(True)
        assert mg.is_grad_enabled()
    finally:
        mg.set_grad_enabled(True)


def test_set_grad_enabled_as_context_manager_and_decorator():
    with mg.set_grad_enabled(False):
        assert not mg.is_grad_enabled()
        with mg.set_grad_enabled(True):
            assert mg.is_grad_enabled()
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()

    @mg.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert mg.is_grad_enabled()  # decorating does not switch the mode
    assert not f(leaf(2)).requires_grad and mg.is_grad_enabled()


# ----- the graph: AccumulateGrad, next_functions, output_shapes, backward_pass --------------
def test_a_leaf_has_one_accumulate_grad_node_and_no_grad_fn():
    a = leaf(3)
    first, second = a * 2.0, a * 3.0
    acc = first.grad_fn.next_functions[0][0]
    assert isinstance(acc, AccumulateGrad) and acc.variable is a
    assert second.grad_fn.next_functions[0][0] is acc
    assert acc.next_functions == () and acc.output_shapes == ((3,),)
    assert a.grad_fn is None and a.is_leaf and a.requires_grad


def test_next_functions_name_each_inputs_producer_and_output_index():
    a, c = leaf(2, 3), leaf(2, 3, seed=1)
    b = mg.tensor(np.ones((2, 3)))  # needs no gradient
    y = a * b + c
    add = y.grad_fn
    assert type(add).__name__ == "Add" and add.output_shapes == ((2, 3),)
    (mul, mul_index), (acc_c, c_index) = add.next_functions
    assert type(mul).__name__ == "Mul" and mul.output_shapes == ((2, 3),)
    assert (mul_index, c_index) == (0, 0) and acc_c.variable is c
    assert mul.next_functions[0][0].variable is a and mul.next_functions[1] == (None, 0)
    s = y.sum()
    assert s.grad_fn.output_shapes == ((),) and s.grad_fn.next_functions == ((add, 0),)


class _Halves(Function):
    """Two outputs: the first and the second half of a 1-D input."""

    def forward(self, a):
        n = a.shape[0] // 2
        return a[:n].copy(), a[n:].copy()

    def backward(self, g_first, g_second):
        return mg.cat([g_first, g_second])


def test_next_functions_index_the_outputs_of_a_multi_output_node():
    x = leaf(4)
    first, second = _Halves.apply(x)
    y = first * second
    halves = first.grad_fn
    assert second.grad_fn is halves and halves.output_shapes == ((2,), (2,))
    assert y.grad_fn.next_functions == ((halves, 0), (halves, 1))
    (gx,) = mg.grad(first.sum(), x)  # the second output gets no gradient: zeros
    np.testing.assert_array_equal(gx.numpy(), [1, 1, 0, 0])


def _graph_nodes(*tensors):
    seen, stack = set(), [t.grad_fn for t in tensors if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(fn for fn, _ in node.next_functions if fn is not None)
    return seen


def test_backward_pass_counts_the_create_graph_passes_that_recorded_a_node():
    W = leaf(2, 4)
    x_hat = leaf(3, 2, seed=1)
    score = (x_hat @ W).tanh().sum()
    forward = _graph_nodes(score)
    (g,) = mg.grad(score, x_hat, create_graph=True)
    penalty = ((g.norm(dim=1) - 1.0) ** 2).mean()
    first = _graph_nodes(g) - forward
    assert {n.backward_pass for n in forward} == {0}
    assert first and {n.backward_pass for n in first} == {1}
    assert penalty.grad_fn.backward_pass == 0  # recorded by forward code again
    (gg,) = mg.grad(g.sum(), x_hat, create_graph=True)  # a third-order check's second pass
    second = _graph_nodes(gg) - forward - first
    assert second and {n.backward_pass for n in second} == {2}
    (penalty + score).backward()  # create_graph=False records nothing
    assert (x_hat * 2.0).grad_fn.backward_pass == 0


def test_a_leaf_used_directly_as_an_output():
    x = leaf(3)
    x.backward(mg.ones_like(x))
    np.testing.assert_array_equal(x.grad.numpy(), 1.0)
    x.backward(mg.ones_like(x) * 2.0)
    np.testing.assert_array_equal(x.grad.numpy(), 3.0)
    s = mg.tensor(2.0, requires_grad=True)
    s.backward()
    assert s.grad.item() == 1.0
    (gx,) = mg.grad([x, x * 2.0], x, [mg.ones_like(x), mg.ones_like(x)])
    np.testing.assert_array_equal(gx.numpy(), 3.0)


def test_grad_with_a_non_leaf_input_beside_its_leaf():
    x = leaf(3)
    h = x * 3.0
    gh, gx = mg.grad((h * h).sum(), [h, x])
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy())
    np.testing.assert_allclose(gx.numpy(), 18 * x.detach().numpy())
    (gh_alone,) = mg.grad(h, h, mg.ones_like(h))
    np.testing.assert_array_equal(gh_alone.numpy(), 1.0)


def test_grad_with_no_inputs_returns_nothing_and_touches_no_grad():
    x = leaf(3)
    assert mg.grad((x * 2.0).sum(), []) == ()
    assert x.grad is None


def test_a_graph_makes_no_reference_cycle():
    gc.disable()
    try:
        x, w = leaf(3), leaf(3, seed=1)
        y = (x * w).exp().sum()
        node, acc = weakref.ref(y.grad_fn), weakref.ref(y.grad_fn.next_functions[0][0])
        y.backward()
        del y
        assert node() is None and acc() is None  # freed by reference counting alone
        z = (x * 2.0).sum()
        assert z.grad_fn.next_functions[0][0].next_functions[0][0].variable is x
    finally:
        gc.enable()


def test_recording_flag_and_full_length_needs_input_grad_in_forward():
    seen = []

    class Spy(Function):
        def forward(self, a, b):
            seen.append((self.recording, self.needs_input_grad))
            return a + b

    x, c = leaf(2), mg.ones(2, dtype="float64")
    Spy.apply(x, c)
    with mg.no_grad():
        Spy.apply(x, c)
    Spy.apply(c, c)
    assert seen == [(True, (True, False)), (False, (False, False)), (False, (False, False))]


# ----- declared op parameters ---------------------------------------------------------------
def test_an_unknown_or_missing_op_parameter_is_an_error_naming_op_and_keyword():
    from minigrad.ops.reduce import Sum

    x = leaf(2, 3)
    with pytest.raises(TypeError, match=r"Sum got an unexpected parameter 'dimz'.*dims, keepdim"):
        Sum.apply(x, dims=(0,), keepdim=False, dimz=1)
    with pytest.raises(TypeError, match=r"Sum is missing the parameter 'keepdim'"):
        Sum.apply(x, dims=(0,))
    with pytest.raises(TypeError, match=r"Add got an unexpected parameter 'alpha'.*none"):
        mg.ops.elementwise.Add.apply(x, x, alpha=2)


@pytest.mark.parametrize("name", ["backend", "dtype", "needs_input_grad", "output"])
def test_a_parameter_named_like_an_engine_attribute_is_rejected(name):
    with pytest.raises(TypeError, match=rf"Scaled declares the parameter '{name}'"):
        type("Scaled", (Function,), {"__annotations__": {name: "object"}})


def test_declared_parameters_with_defaults_and_inheritance():
    class Scale(Function):
        factor: float
        offset: float = 0.0

        def forward(self, a):
            return a * self.factor + self.offset

        def backward(self, gy):
            return gy * self.factor

    class ScaleTwice(Scale):
        times: int = 2

    x = leaf(2)
    np.testing.assert_allclose(Scale.apply(x, factor=3.0).detach().numpy(), 3 * x.detach().numpy())
    assert ScaleTwice._parameter_names == {"factor", "offset", "times"}
    with pytest.raises(TypeError, match="ScaleTwice is missing the parameter 'factor'"):
        ScaleTwice.apply(x, times=3)


def _op_classes():
    for path in sorted(OPS_DIR.glob("*.py")):
        module = importlib.import_module(f"minigrad.ops.{path.stem}")
        for node in ast.parse(path.read_text()).body:
            op = getattr(module, node.name, None) if isinstance(node, ast.ClassDef) else None
            if isinstance(op, type) and issubclass(op, Function):
                yield op, node


def test_every_attribute_an_op_reads_is_declared_or_set_by_the_op():
    """A reader of an op finds each ``self.x`` it uses: a declared parameter, an attribute
    one of its methods sets (forward's saved state), or the engine's."""
    checked = 0
    for op, node in _op_classes():
        reads, writes = set(), set()
        for n in ast.walk(node):
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self":
                (writes if isinstance(n.ctx, ast.Store) else reads).add(n.attr)
        engine = {"backend", "dtype"} | {name for name in dir(Function)}
        assert reads - writes - op._parameter_names - engine == set(), op.__name__
        checked += 1
    assert checked > 40
