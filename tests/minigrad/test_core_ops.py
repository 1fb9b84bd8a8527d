"""Every core op, declared once: forward, orders 1-3 by finite differences, and PyTorch."""
import numpy as np
import pytest

import minigrad as mg
from tests.opcheck import OpCase, case_params, check_against_torch, check_forward, check_gradients, shapes

try:
    import torch
except ImportError:
    torch = None


# An op written with operators and indexing runs as is on tensors of either library and on
# NumPy arrays, so NumPy's evaluation of the same expression is its forward reference
# (``expected=None``); ops written with tensor methods name their NumPy reference.
def binary(name, op, shape_a, shape_b, expected=None, **kw):
    return OpCase(f"{name}{shape_a}{shape_b}", op, shapes(shape_a, shape_b, **kw), torch_fn=op,
                  forward_expected=expected or op)


def unary(name, f, expected=None, shape=(3, 4), torch_f=None, **kw):
    return OpCase(f"{name}{shape}", f, shapes(shape, **kw), torch_fn=torch_f or f,
                  forward_expected=expected or f)


def matmul(name, shape_a, shape_b, subscripts):
    """a @ b, its reference the same contraction spelled out for einsum."""
    return binary(f"matmul_{name}", lambda a, b: a @ b, shape_a, shape_b,
                  expected=lambda a, b: np.einsum(subscripts, a, b))


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_logsumexp(x, axis):
    m = x.max(axis, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis, keepdims=True))).squeeze(axis)


BROADCASTS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((1,), (2, 1))]

CASES = (
    [binary("add", lambda a, b: a + b, sa, sb) for sa, sb in BROADCASTS]
    + [binary("sub", lambda a, b: a - b, sa, sb) for sa, sb in BROADCASTS]
    + [binary("mul", lambda a, b: a * b, sa, sb) for sa, sb in BROADCASTS]
    + [binary("div", lambda a, b: a / b, sa, sb, positive=True) for sa, sb in BROADCASTS]
    + [
        binary("pow_tensor", lambda a, b: a ** b, (3, 4), (4,), positive=True),
        unary("pow_scalar", lambda x: x ** 3, lambda x: x * x * x, (2, 3)),
        unary("pow_frac", lambda x: x ** 1.5, lambda x: x * np.sqrt(x), (2, 3), positive=True),
        unary("rpow", lambda x: 2.0 ** x, lambda x: np.exp(x * np.log(2.0)), (2, 3)),
        unary("scalar_ops", lambda x: (2.0 - x) * 3.0 / (x * x + 1.0) + 1.0, shape=(2, 3)),
        unary("neg", lambda x: -x, np.negative),
        unary("exp", lambda x: x.exp(), np.exp),
        unary("log", lambda x: x.log(), np.log, positive=True),
        unary("sqrt", lambda x: x.sqrt(), np.sqrt, positive=True),
        unary("rsqrt", lambda x: x.rsqrt(), lambda x: 1.0 / np.sqrt(x), positive=True),
        unary("abs", lambda x: x.abs(), np.abs),
        unary("sign_times", lambda x: x.sign() * x * x, lambda x: np.sign(x) * x * x),
        unary("tanh", lambda x: x.tanh(), np.tanh),
        unary("sigmoid", lambda x: x.sigmoid(), np_sigmoid, low=-30, high=30),
        unary("relu", lambda x: x.relu(), lambda x: np.where(x > 0, x, 0.0)),
        unary("clamp", lambda x: x.clamp(-0.5, 0.7), lambda x: np.minimum(np.maximum(x, -0.5), 0.7)),
        unary("clamp_min", lambda x: x.clamp(min=0.1), lambda x: np.maximum(x, 0.1),
              torch_f=lambda x: x.clamp(min=0.1)),
        binary("maximum", lambda a, b: mg.maximum(a, b) if isinstance(a, mg.Tensor) else torch.maximum(a, b),
               (3, 4), (4,), expected=np.maximum),
        binary("minimum", lambda a, b: mg.minimum(a, b) if isinstance(a, mg.Tensor) else torch.minimum(a, b),
               (3, 4), (3, 1), expected=np.minimum),
        OpCase("where", lambda a, b: (mg if isinstance(a, mg.Tensor) else torch).where(a > 0, a * a, b),
               shapes((3, 4), (4,)), torch_fn=lambda a, b: torch.where(a > 0, a * a, b),
               forward_expected=lambda a, b: np.where(a > 0, a * a, b)),
        unary("sum_all", lambda x: x.sum(), lambda x: x.sum(), (2, 3, 4)),
        unary("sum_dim", lambda x: x.sum(1), lambda x: x.sum(1), (2, 3, 4)),
        unary("sum_dims_keep", lambda x: x.sum((0, 2), keepdim=True),
              lambda x: x.sum((0, 2), keepdims=True), (2, 3, 4)),
        unary("mean", lambda x: x.mean(-1), lambda x: x.sum(-1) / x.shape[-1], (2, 3, 4)),
        unary("var", lambda x: x.var(0), lambda x: ((x - x.mean(0)) ** 2).sum(0) / (x.shape[0] - 1),
              (4, 3)),
        unary("var_biased", lambda x: x.var(1, unbiased=False, keepdim=True),
              lambda x: ((x - x.mean(1, keepdims=True)) ** 2).mean(1, keepdims=True), (4, 3),
              torch_f=lambda x: x.var(1, unbiased=False, keepdim=True)),
        unary("std", lambda x: x.std(), lambda x: np.sqrt(((x - x.mean()) ** 2).sum() / (x.size - 1)),
              (4, 3)),
        unary("max_all", lambda x: x.max(), lambda x: x.max(), (3, 4)),
        unary("max_dim", lambda x: x.max(1)[0], lambda x: x.max(1), (3, 4)),
        unary("min_dim_keep", lambda x: x.min(0, keepdim=True)[0], lambda x: x.min(0, keepdims=True),
              (3, 4)),
        unary("amax", lambda x: x.amax(0), lambda x: x.max(0), (3, 4)),
        unary("logsumexp", lambda x: x.logsumexp(1), lambda x: np_logsumexp(x, 1), (3, 4)),
        unary("norm", lambda x: x.norm(), lambda x: np.sqrt((x * x).sum()), (3, 4)),
        unary("norm_dim", lambda x: x.norm(dim=1), lambda x: np.sqrt((x * x).sum(1)), (3, 4),
              torch_f=lambda x: torch.linalg.vector_norm(x, dim=1)),
        unary("reshape", lambda x: x.reshape(4, 3) * x.view(-1, 2).sum(),
              lambda x: np.reshape(x, (4, 3)) * x.sum(), (3, 4)),
        unary("flatten", lambda x: x.flatten(1) ** 2, lambda x: np.reshape(x, (2, 6)) ** 2, (2, 3, 2)),
        unary("transpose", lambda x: x.transpose(0, 2) ** 2, lambda x: np.swapaxes(x, 0, 2) ** 2,
              (2, 3, 4)),
        unary("permute", lambda x: x.permute(2, 0, 1) ** 2, lambda x: np.transpose(x, (2, 0, 1)) ** 2,
              (2, 3, 4)),
        unary("T", lambda x: x.T @ x, lambda x: np.einsum("ki,kj->ij", x, x), (3, 4)),
        unary("unsqueeze_squeeze", lambda x: x.unsqueeze(1).squeeze(1) * x.unsqueeze(0),
              lambda x: x * x[None], (3, 4)),
        unary("expand", lambda x: x.expand(2, 3, 4) ** 2, lambda x: np.tile(x ** 2, (2, 1, 4)), (3, 1)),
        unary("getitem_basic", lambda x: x[1:, ::2, None] ** 2, shape=(3, 4)),
        unary("getitem_int_ellipsis", lambda x: x[..., 1] * x[0], shape=(3, 3)),
        unary("getitem_crop", lambda x: x[:, :, :7, :7] ** 2, shape=(1, 2, 8, 8)),
        OpCase("getitem_array", lambda x, i: x[i] ** 2,
               lambda r: [r.uniform(-2, 2, (4, 3)), np.array([0, 2, 2, 3])],
               torch_fn=lambda x, i: x[i] ** 2, nondiff=(1,),
               forward_expected=lambda x, i: np.stack([x[k] ** 2 for k in i])),
        OpCase("cat", lambda a, b: (mg if isinstance(a, mg.Tensor) else torch).cat([a, b * b], 1),
               shapes((2, 3), (2, 2)), torch_fn=lambda a, b: torch.cat([a, b * b], 1),
               forward_expected=lambda a, b: np.concatenate([a, b * b], 1)),
        OpCase("stack", lambda a, b: (mg if isinstance(a, mg.Tensor) else torch).stack([a, a * b], 2),
               shapes((2, 3), (2, 3)), torch_fn=lambda a, b: torch.stack([a, a * b], 2),
               forward_expected=lambda a, b: np.stack([a, a * b], 2)),
        matmul("2d", (3, 4), (4, 2), "ik,kj->ij"),
        matmul("batch_broadcast", (2, 3, 4), (4, 5), "bik,kj->bij"),
        matmul("vec_mat", (4,), (4, 3), "k,kj->j"),
        matmul("mat_vec", (3, 4), (4,), "ik,k->i"),
        matmul("vec_vec", (4,), (4,), "k,k->"),
        unary("composite_mlp", lambda x: ((x @ x.T).tanh().sum(0) + x.exp().mean()).sigmoid(),
              lambda x: np_sigmoid(np.tanh(np.einsum("ik,jk->ij", x, x)).sum(0) + np.exp(x).mean()),
              (3, 2)),
    ]
)


@pytest.mark.parametrize("case", case_params(CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_forward(case, dtype):
    check_forward(case, dtype)


@pytest.mark.parametrize("case", case_params(CASES))
@pytest.mark.parametrize("order", [1, 2, 3])
def test_gradients(case, order):
    check_gradients(case, order)


@pytest.mark.parametrize("case", case_params(CASES))
def test_gradients_noncontiguous_inputs(case):
    check_gradients(case, 2, noncontiguous=True)


@pytest.mark.parametrize("case", case_params(CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_matches_torch(case, dtype):
    check_against_torch(case, dtype)
