"""The engine's contracts: backward, grad(), grad mode, freeing, errors, gradcheck itself."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function
from minigrad.gradcheck import GradcheckError


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
