"""Convolution trio, pooling, resizing, padding and embedding, declared once per setting.

Every ``OpCase`` gets its forward checked against a NumPy reference (``tests/reference.py``)
in float64 and float32, finite-difference checks of orders 1-3 (order 1 with the full
Jacobian, higher orders by random projections unless the case is tiny) and PyTorch
oracles in float64 and float32. Settings PyTorch lacks (TensorFlow 'same' padding,
asymmetric (top, bottom, left, right) padding) are compared with an explicitly padded
(conv) or padded-and-cropped (transposed conv) PyTorch equivalent.
"""
import numpy as np
import pytest

import minigrad as mg
from kernels.conv import conv_geometry, conv_transpose_geometry
from minigrad.ops.conv import Conv2dWeightGrad, conv2d, conv2d_weight_grad, conv_transpose2d
from minigrad.ops.pool import avg_pool2d, embedding, interpolate, max_pool2d, pad
from tests import reference
from tests.opcheck import OpCase, case_params, check_against_torch, check_forward, check_gradients, shapes

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    torch = F = None


def _explicit_padding(padding) -> bool:
    return isinstance(padding, str) or (isinstance(padding, tuple) and len(padding) == 4)


# ----- conv2d ---------------------------------------------------------------------------------
def conv_case(name, x_shape, w_shape, bias=False, stride=1, padding=0, dilation=1, **case_kw):
    kw = dict(stride=stride, padding=padding, dilation=dilation)

    def torch_fn(x, w, *b):
        if not _explicit_padding(padding):
            return F.conv2d(x, w, *b, **kw)
        t, btm, lft, rgt = conv_geometry(x_shape[2:], w_shape[2:], stride, padding,
                                         dilation).padding4
        return F.conv2d(F.pad(x, (lft, rgt, t, btm)), w, *b, stride=stride, dilation=dilation)

    make = shapes(x_shape, w_shape, *([(w_shape[0],)] if bias else []))
    return OpCase(f"conv2d_{name}", lambda x, w, *b: conv2d(x, w, *b, **kw), make,
                  torch_fn=torch_fn, forward_expected=lambda x, w, *b: reference.conv2d(x, w, *b, **kw),
                  **{"fast_from_order": 2, **case_kw})


CONV_CASES = [
    conv_case("k3_tiny_full_jacobians", (1, 1, 3, 3), (1, 1, 2, 2), bias=True, fast_from_order=4),
    conv_case("k3", (2, 2, 5, 6), (2, 2, 3, 3), bias=True),
    conv_case("k3_p1", (1, 2, 5, 4), (3, 2, 3, 3), padding=1),
    conv_case("k3_s2_p1", (2, 1, 6, 5), (2, 1, 3, 3), bias=True, stride=2, padding=1),
    conv_case("k1_pointwise", (2, 2, 4, 3), (3, 2, 1, 1), bias=True),
    conv_case("k1_s2", (1, 2, 5, 5), (2, 2, 1, 1), stride=2),
    conv_case("k4_s2_p1", (1, 2, 6, 6), (2, 2, 4, 4), bias=True, stride=2, padding=1),
    conv_case("k5_p2", (1, 1, 6, 6), (1, 1, 5, 5), padding=2),
    conv_case("k5_s2_same", (1, 1, 6, 5), (2, 1, 5, 5), bias=True, stride=2, padding="same"),
    conv_case("k3_same", (2, 1, 5, 4), (1, 1, 3, 3), padding="same"),
    conv_case("k4_same_even_kernel", (1, 2, 5, 5), (2, 2, 4, 4), padding="same"),
    conv_case("k3_asymmetric_pad", (1, 2, 4, 5), (2, 2, 3, 3), bias=True, padding=(0, 1, 2, 1)),
    conv_case("k3_dilation2", (1, 2, 6, 6), (2, 2, 3, 3), padding=2, dilation=2),
    conv_case("rect_k32_s21_p10", (1, 2, 6, 5), (2, 2, 3, 2), stride=(2, 1), padding=(1, 0)),
    conv_case("k2_valid", (1, 1, 5, 5), (2, 1, 2, 2), padding="valid"),
]


# ----- conv_transpose2d -----------------------------------------------------------------------
def _torch_transpose_by_cropping(x, w, b, x_shape, w_shape, stride, padding, dilation):
    """conv_transpose2d for padding PyTorch lacks: the unpadded transposed conv covers the
    padded image of the equivalent conv, up to zero rows it never reaches; pad, then crop."""
    geom = conv_transpose_geometry(x_shape[2:], w_shape[2:], stride, padding, 0, dilation)
    (top, _, left, _), (hp, wp), (h, wd) = geom.padding4, geom.padded_hw, geom.in_hw
    full = F.conv_transpose2d(x, w, stride=stride, dilation=dilation)
    full = F.pad(full, (0, wp - full.shape[3], 0, hp - full.shape[2]))
    out = full[:, :, top:top + h, left:left + wd]
    return out if b is None else out + b.reshape(1, -1, 1, 1)


def transpose_case(name, x_shape, w_shape, bias=False, stride=1, padding=0, output_padding=0,
                   dilation=1, **case_kw):
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation)

    def torch_fn(x, w, *b):
        if not _explicit_padding(padding):
            return F.conv_transpose2d(x, w, *b, **kw)
        return _torch_transpose_by_cropping(x, w, b[0] if b else None, x_shape, w_shape,
                                            stride, padding, dilation)

    make = shapes(x_shape, w_shape, *([(w_shape[1],)] if bias else []))
    return OpCase(f"conv_transpose2d_{name}", lambda x, w, *b: conv_transpose2d(x, w, *b, **kw),
                  make, torch_fn=torch_fn,
                  forward_expected=lambda x, w, *b: reference.conv_transpose2d(x, w, *b, **kw),
                  **{"fast_from_order": 2, **case_kw})


TRANSPOSE_CASES = [
    transpose_case("tiny_full_jacobians", (1, 1, 2, 2), (1, 1, 2, 2), bias=True, stride=2,
                   fast_from_order=4),
    transpose_case("k3", (2, 2, 3, 4), (2, 3, 3, 3), bias=True),
    transpose_case("k3_s2_p1_op1", (1, 2, 3, 3), (2, 2, 3, 3), bias=True, stride=2, padding=1,
                   output_padding=1),
    transpose_case("k4_s2_p1", (2, 2, 3, 2), (2, 1, 4, 4), stride=2, padding=1),
    transpose_case("k5_s2_p2_op1", (1, 1, 3, 3), (1, 2, 5, 5), stride=2, padding=2,
                   output_padding=1),
    transpose_case("k1_pointwise", (2, 2, 3, 3), (2, 3, 1, 1), bias=True),
    transpose_case("k3_s2_nonsquare", (1, 2, 2, 3), (2, 2, 3, 3), stride=2),
    transpose_case("k3_dilation2_p1", (1, 2, 4, 4), (2, 2, 3, 3), padding=1, dilation=2),
    transpose_case("k3_s2_dilation2_op1", (1, 1, 3, 3), (1, 1, 3, 3), stride=2, dilation=2,
                   output_padding=1),
    transpose_case("k3_dilation2_op1_beyond_stride", (1, 1, 3, 3), (1, 1, 3, 3), padding=1,
                   dilation=2, output_padding=1),
    transpose_case("k3_s23_op12", (1, 1, 2, 3), (1, 2, 3, 3), stride=(2, 3), output_padding=(1, 2)),
    transpose_case("k5_s2_same", (1, 2, 3, 3), (2, 1, 5, 5), bias=True, stride=2, padding="same"),
    transpose_case("k4_s2_same", (1, 1, 3, 2), (1, 1, 4, 4), stride=2, padding="same"),
    transpose_case("k3_s2_asymmetric_pad", (1, 2, 3, 3), (2, 2, 3, 3), stride=2,
                   padding=(1, 0, 0, 2)),
]


# ----- the weight-gradient node on its own ----------------------------------------------------
def weight_grad_case(name, x_shape, g_shape, kernel_size, stride=1, padding=0, dilation=1,
                     **case_kw):
    kw = dict(stride=stride, padding=padding, dilation=dilation)

    def torch_fn(x, g):
        # torch's own dL/dw, kept differentiable in x and g by create_graph
        w = torch.zeros((g_shape[1], x_shape[1], kernel_size, kernel_size), dtype=x.dtype,
                        requires_grad=True)
        t, b, lft, r = conv_geometry(x_shape[2:], kernel_size, stride, padding, dilation).padding4
        y = F.conv2d(F.pad(x, (lft, r, t, b)), w, stride=stride, dilation=dilation)
        return torch.autograd.grad(y, w, g, create_graph=True)[0]

    return OpCase(f"conv2d_weight_grad_{name}",
                  lambda x, g: conv2d_weight_grad(x, g, kernel_size, **kw),
                  shapes(x_shape, g_shape), torch_fn=torch_fn,
                  forward_expected=lambda x, g: reference.conv2d_weight_grad(x, g, kernel_size, **kw),
                  **{"fast_from_order": 2, **case_kw})


WEIGHT_GRAD_CASES = [
    weight_grad_case("tiny_full_jacobians", (1, 1, 3, 3), (1, 1, 2, 2), 2, fast_from_order=4),
    weight_grad_case("k3", (2, 2, 5, 5), (2, 3, 3, 3), 3),
    weight_grad_case("k3_s2_p1", (1, 2, 6, 5), (1, 2, 3, 3), 3, stride=2, padding=1),
    weight_grad_case("k3_same", (1, 1, 5, 6), (1, 2, 5, 6), 3, padding="same"),
    weight_grad_case("k3_dilation2", (1, 2, 6, 6), (1, 1, 2, 2), 3, dilation=2),
]


# ----- pooling, resizing, padding, embedding --------------------------------------------------
def distinct(shape, spacing=0.1):
    """Inputs with distinct values, `spacing` apart: finite differences never flip an argmax."""
    def make(rng):
        n = int(np.prod(shape))
        return [(rng.permutation(n) - n / 2).reshape(shape) * spacing]
    return make


def same_call(name, fn_name, x_shape, *args, make=None, **kw):
    """An op with one input whose minigrad and torch functions take the same arguments."""
    ours, expected = {"max_pool2d": (max_pool2d, reference.max_pool2d),
                      "avg_pool2d": (avg_pool2d, reference.avg_pool2d),
                      "interpolate": (interpolate, reference.interpolate_nearest),
                      "pad": (pad, reference.pad)}[fn_name]
    return OpCase(name, lambda x: ours(x, *args, **kw), make or shapes(x_shape),
                  torch_fn=lambda x: getattr(F, fn_name)(x, *args, **kw),
                  forward_expected=lambda x: expected(x, *args, **kw))


POOL_CASES = [
    same_call("max_pool2d_k2", "max_pool2d", None, 2, make=distinct((2, 2, 4, 6))),
    same_call("max_pool2d_k3_s2_p1", "max_pool2d", None, 3, 2, 1, make=distinct((1, 2, 5, 6))),
    same_call("max_pool2d_k2_s1_overlapping", "max_pool2d", None, 2, 1,
              make=distinct((1, 2, 4, 5))),
    same_call("max_pool2d_rect_k32_s12_p10", "max_pool2d", None, (3, 2), (1, 2), (1, 0),
              make=distinct((1, 1, 5, 4))),
    same_call("max_pool2d_k3_drops_edge", "max_pool2d", None, 3, make=distinct((1, 1, 7, 6))),
    same_call("avg_pool2d_k2", "avg_pool2d", (2, 2, 4, 6), 2),
    same_call("avg_pool2d_k2_drops_edge", "avg_pool2d", (1, 2, 5, 5), 2),
    same_call("avg_pool2d_k3_s1", "avg_pool2d", (1, 2, 5, 4), 3, 1),
    same_call("avg_pool2d_k3_s2_p1", "avg_pool2d", (1, 2, 5, 6), 3, 2, 1),
    same_call("avg_pool2d_k3_s2_p1_exclude_pad", "avg_pool2d", (1, 2, 5, 6), 3, 2, 1,
              count_include_pad=False),
    same_call("avg_pool2d_k23_s1_p11_exclude_pad", "avg_pool2d", (1, 1, 4, 4), (2, 3), 1, (1, 1),
              count_include_pad=False),
    same_call("interpolate_scale2", "interpolate", (1, 2, 3, 4), scale_factor=2),
    same_call("interpolate_size_repeat_2x3", "interpolate", (1, 2, 3, 2), size=(6, 6)),
    same_call("interpolate_size_downsample", "interpolate", (1, 1, 4, 6), size=(2, 2)),
    same_call("interpolate_size_uneven", "interpolate", (1, 1, 3, 4), size=(5, 7)),
    same_call("interpolate_scale1.5", "interpolate", (2, 1, 3, 4), scale_factor=1.5),
    same_call("interpolate_scale_pair", "interpolate", (1, 1, 4, 3), scale_factor=(0.5, 2)),
    same_call("pad_last_dim_value", "pad", (2, 3, 4), (1, 2), value=0.5),
    same_call("pad_2d", "pad", (1, 2, 3, 4), (1, 2, 0, 3)),
    same_call("pad_negative_crops", "pad", (1, 1, 4, 5), (-1, 2, 1, -2), value=1.0),
    same_call("pad_reflect", "pad", (1, 2, 4, 5), (2, 1, 3, 0), mode="reflect"),
    same_call("pad_replicate", "pad", (1, 2, 3, 4), (2, 1, 3, 0), mode="replicate"),
    same_call("pad_circular", "pad", (1, 2, 3, 4), (2, 1, 3, 0), mode="circular"),
    OpCase("embedding_repeated_indices", lambda i, w: (embedding if isinstance(w, mg.Tensor)
                                                       else F.embedding)(i, w),
           lambda r: [np.array([[0, 2, 2], [4, 0, 1]]), r.uniform(-2, 2, (5, 3))],
           torch_fn=lambda i, w: F.embedding(i, w), nondiff=(0,),
           forward_expected=lambda i, w: np.stack([np.stack([w[k] for k in row]) for row in i])),
]


# a small critic-like composite: every op's backward inside another op's backward
def _critic(x, w1, w2, lib):
    if lib is np:
        h = np.tanh(reference.conv2d(x, w1, stride=2, padding=1))
        h = reference.interpolate_nearest(reference.avg_pool2d(h, 2), scale_factor=2)
        return np.tanh(reference.conv_transpose2d(h, w2, stride=2, padding=1))
    if lib is mg:
        h = conv2d(x, w1, stride=2, padding=1).tanh()
        h = interpolate(avg_pool2d(h, 2), scale_factor=2)
        return conv_transpose2d(h, w2, stride=2, padding=1).tanh()
    h = F.conv2d(x, w1, stride=2, padding=1).tanh()
    h = F.interpolate(F.avg_pool2d(h, 2), scale_factor=2)
    return F.conv_transpose2d(h, w2, stride=2, padding=1).tanh()


COMPOSITE_CASES = [
    OpCase("composite_conv_pool_upsample_transpose",
           lambda x, w1, w2: _critic(x, w1, w2, mg if isinstance(x, mg.Tensor) else torch),
           shapes((1, 2, 6, 6), (2, 2, 3, 3), (2, 1, 4, 4), low=-1, high=1),
           torch_fn=lambda x, w1, w2: _critic(x, w1, w2, torch), fast_from_order=2,
           forward_expected=lambda x, w1, w2: _critic(x, w1, w2, np)),
]

CASES = CONV_CASES + TRANSPOSE_CASES + WEIGHT_GRAD_CASES + POOL_CASES + COMPOSITE_CASES


@pytest.mark.parametrize("case", case_params(CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_forward(case, dtype):
    check_forward(case, dtype)


@pytest.mark.parametrize("case", case_params(CASES))
@pytest.mark.parametrize("order", [1, 2, 3])
def test_gradients(case, order):
    check_gradients(case, order)


@pytest.mark.parametrize("case", case_params(CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_matches_torch(case, dtype):
    check_against_torch(case, dtype)


NONCONTIGUOUS = [c for c in CASES if c.name in (
    "conv2d_k3_s2_p1", "conv_transpose2d_k3_s2_p1_op1", "conv2d_weight_grad_k3_s2_p1",
    "max_pool2d_k3_s2_p1", "avg_pool2d_k2", "avg_pool2d_k3_s2_p1", "interpolate_scale2",
    "pad_2d", "pad_reflect")]


@pytest.mark.parametrize("case", case_params(NONCONTIGUOUS))
def test_gradients_noncontiguous_inputs(case):
    check_gradients(case, 1, noncontiguous=True)


# ----- specific behaviour ---------------------------------------------------------------------
def _leaves(arrays, lib):
    if lib is mg:
        return [mg.tensor(a, requires_grad=True) for a in arrays]
    return [torch.tensor(a, requires_grad=True) for a in arrays]


def _weight_grad(x, g, lib):
    """dL/dw of a k3 s2 p1 conv given dL/dy = g; PyTorch's kept differentiable by create_graph."""
    if lib is mg:
        return conv2d_weight_grad(x, g, 3, stride=2, padding=1)
    w = torch.zeros((g.shape[1], x.shape[1], 3, 3), dtype=x.dtype, requires_grad=True)
    return torch.autograd.grad(F.conv2d(x, w, stride=2, padding=1), w, g, create_graph=True)[0]


def _third_order_chain(x, g, lib):
    """d^3 through the weight-gradient node: v = convW(x, g); three nested gradients."""
    grad = mg.grad if lib is mg else torch.autograd.grad
    v = _weight_grad(x, g, lib)
    d1 = grad((v * v).sum(), [x, g], create_graph=True)
    d2 = grad((d1[0] * d1[0]).sum() + (d1[1] * d1[1] * d1[1]).sum(), [x, g], create_graph=True)
    d3 = grad((d2[0] * d2[1].sum()).sum() + (d2[1] * d2[1]).sum(), [x, g])
    return [v, *d1, *d2, *d3]


@pytest.mark.skipif(torch is None, reason="needs PyTorch")
def test_weight_grad_node_survives_third_order():
    """DeZero's weight-gradient node crashed when differentiated; ours is differentiated
    three times over and agrees with PyTorch at every level."""
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((2, 3, 3, 3))]
    ours = _third_order_chain(*_leaves(arrays, mg), mg)
    theirs = _third_order_chain(*_leaves(arrays, torch), torch)
    assert isinstance(ours[0].grad_fn, Conv2dWeightGrad)
    for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9,
                                   atol=1e-9 * float(np.abs(b.detach().numpy()).max()),
                                   err_msg=f"level {k}")


def _gradient_penalty_third_order(x, w1, b1, w2, lib):
    """WGAN-GP shape: a conv critic, its input-gradient norm penalty, the penalty's weight
    gradient (2nd order), and a derivative of that (3rd order)."""
    grad = mg.grad if lib is mg else torch.autograd.grad
    conv = conv2d if lib is mg else F.conv2d
    score = conv(conv(x, w1, b1, stride=2, padding=1).tanh(), w2).sum()
    (gx,) = grad(score, [x], create_graph=True)
    norms = ((gx * gx).sum((1, 2, 3)) + 1e-12).sqrt()
    penalty = ((norms - 1.0) ** 2).mean()
    gw = grad(penalty, [w1, b1, w2], create_graph=True)
    third = grad(sum((g * g).sum() for g in gw), [x, w1, b1, w2])
    return [score, penalty, *gw, *third]


@pytest.mark.skipif(torch is None, reason="needs PyTorch")
def test_gradient_penalty_to_third_order_matches_torch():
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s) for s in [(2, 2, 6, 6), (3, 2, 4, 4), (3,), (1, 3, 3, 3)]]
    ours = _gradient_penalty_third_order(*_leaves(arrays, mg), mg)
    theirs = _gradient_penalty_third_order(*_leaves(arrays, torch), torch)
    for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        b = b.detach().numpy()
        np.testing.assert_allclose(a.detach().numpy(), b, rtol=1e-9,
                                   atol=1e-10 * max(float(np.abs(b).max()), 1.0),
                                   err_msg=f"level {k}")


def test_same_padding_follows_tensorflow():
    """k5 s2 'same': ceil(H / 2) at every step, 28 -> 14 -> 7 -> 4, odd pixel bottom/right."""
    x = mg.zeros(1, 1, 28, 28)
    w = mg.ones(1, 1, 5, 5)
    sizes = []
    for _ in range(3):
        x = conv2d(x, w, stride=2, padding="same")
        sizes.append(x.shape[2:])
    assert sizes == [(14, 14), (7, 7), (4, 4)]
    assert conv_geometry((28, 28), (5, 5), 2, "same").padding4 == (1, 2, 1, 2)
    assert conv2d(mg.zeros(1, 1, 5, 6), mg.ones(2, 1, 3, 3), padding="same").shape == (1, 2, 5, 6)
    up = conv_transpose2d(mg.zeros(1, 1, 4, 4), mg.ones(1, 1, 5, 5), stride=2, padding="same")
    assert up.shape == (1, 1, 8, 8)


def test_conv_keeps_only_what_backward_needs():
    x = mg.randn(1, 2, 5, 5).double().requires_grad_()
    w = mg.randn(3, 2, 3, 3).double()
    assert set(conv2d(x, w).grad_fn._saved_inputs) == {1}  # only w, for dx = convT(gy, w)
    w.requires_grad_()
    assert set(conv2d(x.detach(), w).grad_fn._saved_inputs) == {0}  # only x, for dw


def test_first_order_backward_builds_no_graph():
    x = mg.randn(2, 2, 5, 5).requires_grad_()
    w = mg.randn(3, 2, 3, 3).requires_grad_()
    gx, gw = mg.grad(conv2d(x, w, stride=2).sum(), [x, w])
    assert not gx.requires_grad and not gw.requires_grad
    assert gx.dtype == np.float32 and gw.shape == w.shape


@pytest.mark.skipif(torch is None, reason="needs PyTorch")
def test_max_pool_ties_and_indices_follow_torch():
    x = np.ones((1, 2, 5, 5))
    x[0, 1, 2, 3] = 2.0
    for args in [(2, 1), (3, 1, 1), (3, 2, 1), (2, 2)]:
        ours = mg.tensor(x, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        y, idx = max_pool2d(ours, *args, return_indices=True)
        ty, tidx = F.max_pool2d(theirs, *args, return_indices=True)
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
        (g,) = mg.grad(y.sum(), [ours])
        (tg,) = torch.autograd.grad(ty.sum(), [theirs])
        np.testing.assert_array_equal(g.numpy(), tg.numpy())


def test_max_pool_without_grad_returns_a_constant():
    x = mg.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    y = max_pool2d(x, 2)
    assert y.grad_fn is None and y.tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]


@pytest.mark.parametrize("call, message", [
    (lambda: conv2d(mg.zeros(1, 3, 5, 5), mg.zeros(2, 2, 3, 3)),
     r"conv2d: input of shape \(1, 3, 5, 5\) has 3 channels but weight of shape \(2, 2, 3, 3\)"),
    (lambda: conv2d(mg.zeros(3, 5, 5), mg.zeros(2, 3, 3, 3)),
     r"conv2d: input must be \(N, C, H, W\), got shape \(3, 5, 5\)"),
    (lambda: conv2d(mg.zeros(1, 3, 5, 5), mg.zeros(2, 3, 3)), r"conv2d: weight must be 4-D"),
    (lambda: conv2d(mg.zeros(1, 2, 5, 5), mg.zeros(4, 2, 3, 3), mg.zeros(3)),
     r"conv2d: bias must have shape \(4,\)"),
    (lambda: conv2d(mg.zeros(1, 2, 2, 2), mg.zeros(4, 2, 3, 3)),
     r"conv2d: kernel .* is larger than the padded input .*input \(1, 2, 2, 2\), weight"),
    (lambda: conv_transpose2d(mg.zeros(1, 3, 5, 5), mg.zeros(2, 4, 3, 3)),
     r"conv_transpose2d: input of shape \(1, 3, 5, 5\) has 3 channels but weight of shape "
     r"\(2, 4, 3, 3\)"),
    (lambda: conv_transpose2d(mg.zeros(1, 2, 5, 5), mg.zeros(2, 4, 3, 3), stride=2,
                              output_padding=2), r"conv_transpose2d: output_padding"),
    (lambda: conv2d_weight_grad(mg.zeros(1, 2, 5, 5), mg.zeros(1, 3, 4, 4), 3),
     r"conv2d_weight_grad: grad_output spatial size \(4, 4\) is not the conv output size"),
    (lambda: max_pool2d(mg.zeros(1, 1, 4, 4), 2, padding=2), r"max_pool2d: padding"),
    (lambda: avg_pool2d(mg.zeros(1, 1, 4, 4), 5), r"avg_pool2d: input of shape"),
    (lambda: pad(mg.zeros(1, 1, 3, 3), (3, 0), mode="reflect"), r"pad: reflect padding"),
    (lambda: pad(mg.zeros(1, 1, 3, 3), (1, 2, 3)), r"pad: pad must be an even-length"),
])
def test_errors_name_the_op_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_unsupported_settings_raise():
    with pytest.raises(NotImplementedError, match="interpolate: mode 'bilinear'"):
        interpolate(mg.zeros(1, 1, 2, 2), scale_factor=2, mode="bilinear")
    with pytest.raises(IndexError, match=r"embedding: index 5 is out of bounds: expected values in \[0, 5\)"):
        embedding(mg.tensor([0, 5]), mg.zeros(5, 2))
    with pytest.raises(TypeError, match="embedding: indices must be integers"):
        embedding(mg.tensor([0.0, 1.0]), mg.zeros(5, 2))
