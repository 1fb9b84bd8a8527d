"""``.data``, in-place methods and the version counter, with PyTorch's semantics."""
import numpy as np
import pytest

import minigrad as mg
from tests.opcheck import OpCase, case_params, check_against_torch, check_forward, check_gradients, shapes


def test_data_is_a_detached_tensor_sharing_the_array():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    d = w.data
    assert isinstance(d, mg.Tensor) and d.array is w.array
    assert not d.requires_grad and d.grad_fn is None
    d.array[0] = 5.0
    assert w.tolist() == [5.0, 2.0]


def test_data_of_a_graph_output_is_cut_from_the_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).data
    assert y.grad_fn is None and y.tolist() == [3.0, 6.0]


def test_assigning_data_replaces_the_storage():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    other = mg.tensor([[7.0]])
    w.data = other
    assert w.array is other.array and w.shape == (1, 1) and w.requires_grad


def test_assigning_data_needs_a_tensor():
    w = mg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="expected a Tensor, got ndarray"):
        w.data = np.zeros(2)


# ----- in-place methods through the op harness: recorded changes rebase the history -----------
def inplace(name, method, expected, shape_b=(4,), **kw):
    """``method(z, y)`` on z = x * 1.0 (a tensor of the graph), then z * x: so the gradient
    flows through the rebased history and the old value of z (saved by nothing) is not needed."""
    def run(x, y):
        z = x * 1.0
        return method(z, y) * x
    return OpCase(f"{name}_inplace", run, shapes((3, 4), shape_b, **kw), torch_fn=run,
                  forward_expected=lambda x, y: expected(x, y) * x)


def iadd(z, y):
    z += y
    return z


def imul(z, y):
    z *= y
    return z


INPLACE_CASES = [
    inplace("add_", lambda z, y: z.add_(y), lambda x, y: x + y),
    inplace("add_alpha", lambda z, y: z.add_(y, alpha=-2.5), lambda x, y: x - 2.5 * y),
    inplace("sub_", lambda z, y: z.sub_(y, alpha=0.5), lambda x, y: x - 0.5 * y),
    inplace("mul_", lambda z, y: z.mul_(y), lambda x, y: x * y),
    inplace("div_", lambda z, y: z.div_(y), lambda x, y: x / y, positive=True),
    inplace("iadd", iadd, lambda x, y: x + y, shape_b=(3, 1)),
    inplace("imul", imul, lambda x, y: x * y),
    inplace("clamp_", lambda z, y: z.clamp_(-0.5, 0.7) * y,
            lambda x, y: np.minimum(np.maximum(x, -0.5), 0.7) * y),
    inplace("copy_", lambda z, y: z.copy_(y), lambda x, y: np.broadcast_to(y, x.shape)),
]


@pytest.mark.parametrize("case", case_params(INPLACE_CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_inplace_forward(case, dtype):
    check_forward(case, dtype)


@pytest.mark.parametrize("case", case_params(INPLACE_CASES))
@pytest.mark.parametrize("order", [1, 2, 3])
def test_inplace_gradients(case, order):
    check_gradients(case, order)


@pytest.mark.parametrize("case", case_params(INPLACE_CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_inplace_matches_torch(case, dtype):
    check_against_torch(case, dtype)


# ----- the rules -------------------------------------------------------------------------------
def test_inplace_methods_change_the_array_and_return_the_tensor():
    x = mg.tensor([1.0, -2.0, 3.0])
    array = x.array
    assert x.add_(1) is x and x.mul_(2) is x and x.sub_(mg.tensor([1.0, 1.0, 1.0])) is x
    assert x.div_(2) is x and x.clamp_(max=3.0) is x
    assert x.array is array and x.tolist() == [1.5, -1.5, 3.0]
    assert x.fill_(7).tolist() == [7.0] * 3 and x.zero_().tolist() == [0.0] * 3
    assert x.copy_(mg.tensor([4.0])).tolist() == [4.0] * 3
    assert x.array is array


def test_copy_casts_to_the_destination_dtype():
    x = mg.zeros(2, dtype="float64")
    x.copy_(mg.tensor([1.5, 2.5]))
    assert x.dtype == np.float64 and x.tolist() == [1.5, 2.5]


def test_random_fills_follow_the_generator_and_the_range():
    w = mg.zeros(1000)
    w.normal_(0.0, 0.02, generator=mg.Generator(3))
    assert abs(float(w.std()) - 0.02) < 0.002
    again = mg.zeros(1000)
    again.normal_(0.0, 0.02, generator=mg.Generator(3))
    assert np.array_equal(w.numpy(), again.numpy())
    u = mg.zeros(1000).uniform_(-0.1, 0.1, generator=mg.Generator(4))
    assert float(u.min()) >= -0.1 and float(u.max()) < 0.1 and float(u.max()) > 0.09


def test_random_fill_matches_nn_init():
    a, b = mg.zeros(5), mg.zeros(5)
    a.normal_(0.5, 2.0, generator=mg.Generator(1))
    mg.nn.init.normal_(b, 0.5, 2.0, generator=mg.Generator(1))
    assert np.array_equal(a.numpy(), b.numpy())


def test_weights_init_idiom_through_data():
    layer = mg.nn.Linear(3, 2)
    layer.weight.data.normal_(0.0, 0.02)
    layer.bias.data.fill_(0)
    assert layer.weight.requires_grad and layer.bias.tolist() == [0.0, 0.0]
    assert float(layer.weight.abs().max()) < 0.2


def test_a_leaf_that_requires_grad_cannot_change_in_place_with_grad_mode_on():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    for change in (lambda: w.add_(1), lambda: w.fill_(0), lambda: w.normal_(), lambda: w.clamp_(0, 1)):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            change()
    with mg.no_grad():
        w.mul_(3)
    w.data.add_(1)
    assert w.tolist() == [4.0, 7.0] and w.requires_grad and w.is_leaf


def test_a_change_to_a_saved_input_raises_at_backward():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()  # Mul saved w
    with mg.no_grad():
        w.mul_(3)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: .*input [01] of Mul, "
                                           r"is at version 1; expected version 0"):
        y.backward()


def test_a_change_to_a_saved_output_through_detach_raises_at_backward():
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    s = x.sigmoid()  # its backward uses its output
    s.detach().zero_()
    with pytest.raises(RuntimeError, match="output 0 of Sigmoid, is at version 1"):
        s.sum().backward()


def test_a_change_through_data_is_not_seen_as_in_torch():
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    s = x.sigmoid()
    s.data.mul_(1.0)
    s.sum().backward()
    assert x.grad is not None


def test_an_optimizer_step_bumps_the_version_so_a_stale_graph_raises():
    model = mg.nn.Sequential(mg.nn.Linear(2, 3), mg.nn.Linear(3, 1))  # the 2nd weight is saved
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    loss = model(mg.ones(3, 2)).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_a_change_to_a_tensor_nothing_saved_is_fine():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x + 1  # Add saves nothing
    y.add_(x)
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0] and y.tolist() == [3.0, 5.0]


def test_a_plain_tensor_changed_by_one_that_requires_grad_joins_the_graph():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    buf = mg.zeros(2)
    buf.add_(w * 3)
    assert buf.requires_grad and buf.grad_fn is not None
    buf.sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_unsupported_recorded_changes_say_so():
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    view = (x * 1.0).reshape(2)
    with pytest.raises(RuntimeError, match="view of another"):
        view.add_(1)
    with pytest.raises(RuntimeError, match="fill_ on a tensor that is part of a graph"):
        (x * 1.0).fill_(0)


def test_broadcasting_into_a_smaller_tensor_raises():
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast "
                                           r"shape \[2, 3\]"):
        mg.zeros(3).add_(mg.ones(2, 3))


def test_copy_needs_a_tensor():
    with pytest.raises(TypeError, match="copy_: expected a Tensor"):
        mg.zeros(2).copy_([1.0, 2.0])


def test_leaves_get_gradient_arrays_of_their_own():
    a, b = mg.tensor([1.0, 2.0], requires_grad=True), mg.tensor([3.0, 4.0], requires_grad=True)
    c = mg.tensor([[1.0, 2.0]], requires_grad=True)
    seed = mg.tensor([1.0, 1.0])
    (a + b + c.reshape(2)).backward(seed)  # one gradient array reaches all three
    arrays = [a.grad.array, b.grad.array, c.grad.array, seed.array]
    assert not any(np.shares_memory(x, y) for i, x in enumerate(arrays) for y in arrays[i + 1:])
    a.grad.mul_(10)
    assert b.grad.tolist() == [1.0, 1.0] and c.grad.tolist() == [[1.0, 1.0]] and seed.tolist() == [1.0, 1.0]


def test_a_linear_weight_keeps_its_gradient_without_a_copy():
    layer = mg.nn.Linear(3, 2)
    layer(mg.ones(4, 3)).sum().backward()
    assert layer.weight.grad.array.base is not None  # the transpose of matmul's fresh output
