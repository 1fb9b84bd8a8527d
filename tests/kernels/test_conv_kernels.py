"""Tests for kernels.conv: the conv2d / input-grad (conv_transpose2d) / weight-grad trio.

* conv2d, its input gradient and weight gradient against slow direct-loop references
  (float64, 1e-12), for both implementations ('numpy' and, if importable, 'numba');
* the adjoint identities <conv2d(x,w), gy> == <x, input_grad(gy,w)> == <w, weight_grad(x,gy)>;
* TensorFlow's SAME rule, PyTorch's conv_transpose2d sizes/semantics, geometry errors;
* against torch.nn.functional in float64 when torch is importable.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from kernels import conv as K
from kernels.conv import (
    ConvGeometry,
    conv2d,
    conv2d_input_grad,
    conv2d_weight_grad,
    conv_geometry,
    conv_transpose2d,
    conv_transpose_geometry,
)

IMPLS = ["numpy"] + (["numba"] if K.NUMBA_AVAILABLE else [])


# --------------------------------------------------------------------------------------
# slow, obviously-correct references (loops over output pixels)
# --------------------------------------------------------------------------------------

def _pad(x, geom):
    pt, pb, pl, pr = geom.padding4
    return np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))


def _window(geom, i, j):
    """Index slices of the padded input read by output pixel (i, j)."""
    (kH, kW), (sh, sw), (dh, dw) = geom.kernel_hw, geom.stride, geom.dilation
    return (slice(i * sh, i * sh + dh * (kH - 1) + 1, dh),
            slice(j * sw, j * sw + dw * (kW - 1) + 1, dw))


def conv2d_reference(x, w, geom):
    """y[n,o,i,j] = sum_{c,p,q} xpad[n, c, i*sh + p*dh, j*sw + q*dw] * w[o,c,p,q]."""
    xpad = _pad(x, geom)
    Ho, Wo = geom.out_hw
    y = np.zeros((x.shape[0], w.shape[0], Ho, Wo), dtype=np.result_type(x, w))
    for i in range(Ho):
        for j in range(Wo):
            rs, cs = _window(geom, i, j)
            y[:, :, i, j] = np.tensordot(xpad[:, :, rs, cs], w, axes=([1, 2, 3], [1, 2, 3]))
    return y


def input_grad_reference(gy, w, geom):
    H, W = geom.in_hw
    pt, pb, pl, pr = geom.padding4
    Ho, Wo = geom.out_hw
    gxpad = np.zeros((gy.shape[0], w.shape[1], H + pt + pb, W + pl + pr))
    for i in range(Ho):
        for j in range(Wo):
            rs, cs = _window(geom, i, j)
            gxpad[:, :, rs, cs] += np.tensordot(gy[:, :, i, j], w, axes=([1], [0]))
    return gxpad[:, :, pt:pt + H, pl:pl + W]


def weight_grad_reference(x, gy, geom):
    xpad = _pad(x, geom)
    Ho, Wo = geom.out_hw
    gw = np.zeros((gy.shape[1], x.shape[1]) + geom.kernel_hw)
    for i in range(Ho):
        for j in range(Wo):
            rs, cs = _window(geom, i, j)
            gw += np.tensordot(gy[:, :, i, j], xpad[:, :, rs, cs], axes=([0], [0]))
    return gw


def _rel(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


# --------------------------------------------------------------------------------------
# the parameter grid
# --------------------------------------------------------------------------------------

PADDINGS = [0, 1, 2, "same", (0, 2, 1, 0), (2, 1, 0, 3)]
GRID = [
    pytest.param(dict(N=2, C=3, O=4, in_hw=(9, 7), kernel=k, stride=s, padding=p, dilation=1),
                 id=f"k{k}-s{s}-p{p}".replace(" ", ""))
    for k, s, p in itertools.product([1, 3, 4, 5], [1, 2], PADDINGS)
] + [
    pytest.param(dict(N=1, C=2, O=3, in_hw=(11, 8), kernel=3, stride=s, padding=p, dilation=2),
                 id=f"k3-s{s}-p{p}-d2".replace(" ", ""))
    for s, p in itertools.product([1, 2], [0, 1, "same", (1, 0, 2, 1)])
] + [
    pytest.param(dict(N=1, C=1, O=2, in_hw=(6, 10), kernel=(2, 4), stride=(2, 1),
                      padding=(0, 1, 3, 0), dilation=(1, 2)), id="nonsquare-everything"),
    pytest.param(dict(N=3, C=5, O=2, in_hw=(5, 5), kernel=5, stride=3, padding=0, dilation=1),
                 id="kernel-equals-input"),
    pytest.param(dict(N=2, C=4, O=3, in_hw=(8, 8), kernel=2, stride=2, padding=0, dilation=1),
                 id="stride-equals-kernel"),
    pytest.param(dict(N=2, C=3, O=2, in_hw=(10, 9), kernel=3, stride=3, padding=0, dilation=1),
                 id="unread-rows"),
    pytest.param(dict(N=1, C=2, O=3, in_hw=(4, 4), kernel=1, stride=1, padding=0, dilation=3),
                 id="pointwise-dilated"),
    # C >= 8 also routes conv2d / weight-grad im2col through numba with impl='numba'
    pytest.param(dict(N=2, C=9, O=3, in_hw=(7, 6), kernel=5, stride=2, padding="same",
                      dilation=1), id="wide-k5-s2-same"),
    pytest.param(dict(N=1, C=8, O=2, in_hw=(9, 10), kernel=3, stride=1, padding=(2, 0, 1, 1),
                      dilation=2), id="wide-d2-asym"),
]


def _make(case, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    geom = conv_geometry(case["in_hw"], case["kernel"], case["stride"], case["padding"],
                         case["dilation"])
    N, C, O = case["N"], case["C"], case["O"]
    x = rng.standard_normal((N, C) + geom.in_hw).astype(dtype)
    w = rng.standard_normal((O, C) + geom.kernel_hw).astype(dtype)
    gy = rng.standard_normal((N, O) + geom.out_hw).astype(dtype)
    return geom, x, w, gy


# --------------------------------------------------------------------------------------
# correctness against the references
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", GRID)
def test_trio_matches_direct_reference(case, impl):
    geom, x, w, gy = _make(case)
    y = conv2d(x, w, geom, impl=impl)
    assert y.shape == (case["N"], case["O"]) + geom.out_hw
    assert y.dtype == np.float64 and y.flags.c_contiguous
    assert _rel(y, conv2d_reference(x, w, geom)) < 1e-12

    gx = conv2d_input_grad(gy, w, geom, impl=impl)
    assert gx.shape == x.shape and gx.flags.c_contiguous
    assert _rel(gx, input_grad_reference(gy, w, geom)) < 1e-12

    gw = conv2d_weight_grad(x, gy, geom, impl=impl)
    assert gw.shape == w.shape and gw.flags.c_contiguous
    assert _rel(gw, weight_grad_reference(x, gy, geom)) < 1e-12


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", GRID)
def test_adjoint_identities(case, impl):
    geom, x, w, gy = _make(case, seed=1)
    a = np.vdot(conv2d(x, w, geom, impl=impl), gy)
    b = np.vdot(x, conv2d_input_grad(gy, w, geom, impl=impl))
    c = np.vdot(w, conv2d_weight_grad(x, gy, geom, impl=impl))
    scale = max(abs(a), 1.0)
    assert abs(a - b) / scale < 1e-10
    assert abs(a - c) / scale < 1e-10


def test_unread_input_pixels_get_zero_gradient():
    # H=10, k=3, s=3: outputs read rows 0..8; row 9 / col 8 are never read
    geom = conv_geometry((10, 9), 3, 3, 0)
    assert geom.out_hw == (3, 3)
    gy = np.ones((1, 2) + geom.out_hw)
    w = np.ones((2, 1, 3, 3))
    for impl in IMPLS:
        gx = conv2d_input_grad(gy, w, geom, impl=impl)
        assert np.all(gx[:, :, 9, :] == 0) and np.all(gx[:, :, :9, :9] == 2)


@pytest.mark.skipif(not K.NUMBA_AVAILABLE, reason="numba not importable")
@pytest.mark.parametrize("case", GRID)
def test_numba_kernels_match_numpy_reference(case):
    from kernels import numba_cpu

    geom, x, w, gy = _make(case, seed=2)
    N, C = x.shape[:2]
    cols_np = K._im2col_numpy(np, x, geom, np.float64)
    cols_nb = numba_cpu.im2col(x, geom)
    assert cols_nb.shape == cols_np.shape
    assert np.array_equal(cols_nb, cols_np)  # pure data movement: bit-identical
    d = np.random.default_rng(3).standard_normal(cols_np.shape)
    gx_np = K._col2im_numpy(np, d, geom, N, C, np.float64)
    gx_nb = numba_cpu.col2im(d, geom, N, C)
    assert gx_nb.flags.c_contiguous and gx_nb.shape == gx_np.shape
    assert _rel(gx_nb, gx_np) < 1e-12
    with pytest.raises(ValueError, match="does not match"):
        numba_cpu.im2col(x[:, :, :-1], geom)
    with pytest.raises(ValueError, match="does not match"):
        numba_cpu.col2im(d[:-1], geom, N, C)
    with pytest.raises(TypeError, match="float32/float64"):
        numba_cpu.col2im(d.astype(np.float16), geom, N, C)
    # and the full trio agrees between implementations
    for f, args in ((conv2d, (x, w)), (conv2d_input_grad, (gy, w)), (conv2d_weight_grad, (x, gy))):
        assert _rel(f(*args, geom, impl="numba"), f(*args, geom, impl="numpy")) < 1e-12


# --------------------------------------------------------------------------------------
# dtypes, layouts, argument checks
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kernel,stride,padding", [(5, 2, "same"), (1, 1, 0), (3, 1, 1)])
def test_float32_stays_float32(impl, kernel, stride, padding):
    geom, x, w, gy = _make(dict(N=2, C=3, O=4, in_hw=(9, 8), kernel=kernel, stride=stride,
                                padding=padding, dilation=1), dtype=np.float32)
    outs = [conv2d(x, w, geom, impl=impl), conv2d_input_grad(gy, w, geom, impl=impl),
            conv2d_weight_grad(x, gy, geom, impl=impl)]
    refs = [conv2d_reference(x.astype(np.float64), w.astype(np.float64), geom),
            input_grad_reference(gy.astype(np.float64), w.astype(np.float64), geom),
            weight_grad_reference(x.astype(np.float64), gy.astype(np.float64), geom)]
    for out, ref in zip(outs, refs, strict=True):
        assert out.dtype == np.float32 and out.flags.c_contiguous
        assert _rel(out, ref) < 1e-5


def test_mixed_dtypes_promote_and_ints_are_rejected():
    geom, x, w, gy = _make(dict(N=1, C=2, O=2, in_hw=(5, 5), kernel=3, stride=1, padding=1,
                                dilation=1))
    assert conv2d(x.astype(np.float32), w, geom).dtype == np.float64
    with pytest.raises(TypeError, match="floating"):
        conv2d(x.astype(np.int64), w.astype(np.int64), geom)


@pytest.mark.parametrize("impl", IMPLS)
def test_non_contiguous_inputs(impl):
    geom, x, w, gy = _make(dict(N=2, C=3, O=4, in_hw=(7, 6), kernel=3, stride=2, padding=1,
                                dilation=1))
    xs = np.asfortranarray(x)
    ws = np.ascontiguousarray(w[:, :, ::-1, ::-1])[:, :, ::-1, ::-1]  # negative strides
    gys = np.asfortranarray(gy)
    assert _rel(conv2d(xs, ws, geom, impl=impl), conv2d_reference(x, w, geom)) < 1e-12
    assert _rel(conv2d_input_grad(gys, ws, geom, impl=impl),
                input_grad_reference(gy, w, geom)) < 1e-12
    assert _rel(conv2d_weight_grad(xs, gys, geom, impl=impl),
                weight_grad_reference(x, gy, geom)) < 1e-12


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kernel,stride,padding", [(1, 1, 0), (3, 2, "same")])
def test_results_are_fresh_arrays(impl, kernel, stride, padding):
    # O == 1 / C == 1 make several internal reshapes/transposes no-ops: still no aliasing
    geom, x, w, gy = _make(dict(N=1, C=1, O=1, in_hw=(5, 4), kernel=kernel, stride=stride,
                                padding=padding, dilation=1))
    for out in (conv2d(x, w, geom, impl=impl), conv2d_input_grad(gy, w, geom, impl=impl),
                conv2d_weight_grad(x, gy, geom, impl=impl)):
        assert out.flags.c_contiguous and out.flags.writeable
        for a in (x, w, gy):
            assert not np.shares_memory(out, a)


def test_empty_batch():
    geom = conv_geometry((6, 6), 3, 2, "same")
    x = np.zeros((0, 2, 6, 6)); w = np.ones((3, 2, 3, 3)); gy = np.zeros((0, 3, 3, 3))
    assert conv2d(x, w, geom).shape == (0, 3, 3, 3)
    assert conv2d_input_grad(gy, w, geom).shape == (0, 2, 6, 6)
    gw = conv2d_weight_grad(x, gy, geom)
    assert gw.shape == (3, 2, 3, 3) and not gw.any()


def test_shape_mismatch_errors():
    geom = conv_geometry((8, 8), 3, 1, 1)
    x = np.zeros((1, 2, 8, 8)); w = np.zeros((4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"x spatial size \(7, 8\)"):
        conv2d(np.zeros((1, 2, 7, 8)), w, geom)
    with pytest.raises(ValueError, match="channels"):
        conv2d(x, np.zeros((4, 3, 3, 3)), geom)
    with pytest.raises(ValueError, match=r"w kernel size \(5, 5\)"):
        conv2d(x, np.zeros((4, 2, 5, 5)), geom)
    with pytest.raises(ValueError, match=r"gy spatial size \(4, 4\)"):
        conv2d_input_grad(np.zeros((1, 4, 4, 4)), w, geom)
    with pytest.raises(ValueError, match="channels"):
        conv2d_input_grad(np.zeros((1, 5, 8, 8)), w, geom)
    with pytest.raises(ValueError, match="batch"):
        conv2d_weight_grad(x, np.zeros((2, 4, 8, 8)), geom)
    with pytest.raises(ValueError, match="4-D"):
        conv2d(x[0], w, geom)
    with pytest.raises(ValueError, match="impl"):
        conv2d(x, w, geom, impl="fortran")
    with pytest.raises(ValueError, match="impl"):  # validated on the 1x1 fast path too
        conv2d(x, np.zeros((4, 2, 1, 1)), conv_geometry((8, 8), 1), impl="fortran")


# --------------------------------------------------------------------------------------
# geometry
# --------------------------------------------------------------------------------------

def test_same_padding_wgan_chain():
    sizes, pads, h = [], [], 28
    for _ in range(3):
        g = conv_geometry((h, h), 5, 2, "same")
        pads.append(g.padding4)
        h = g.out_hw[0]
        sizes.append(h)
    assert sizes == [14, 7, 4]
    assert pads == [(1, 2, 1, 2), (1, 2, 1, 2), (2, 2, 2, 2)]


@pytest.mark.parametrize("H", [1, 2, 5, 7, 8, 13, 14, 28])
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("s", [1, 2, 3])
@pytest.mark.parametrize("d", [1, 2])
def test_same_rule_matches_tensorflow(H, k, s, d):
    g = conv_geometry((H, H + 1), k, s, "same", d)
    out = -(-H // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - H, 0)
    assert g.out_hw[0] == out == (H + s - 1) // s
    assert g.out_hw[1] == -(-(H + 1) // s)
    assert g.padding4[:2] == (total // 2, total - total // 2)


def test_padding_forms():
    assert conv_geometry(8, 3, 1, 1).padding4 == (1, 1, 1, 1)
    assert conv_geometry(8, 3, 1, (1, 2)).padding4 == (1, 1, 2, 2)
    assert conv_geometry(8, 3, 1, (0, 1, 2, 3)).padding4 == (0, 1, 2, 3)
    assert conv_geometry(8, 3, 1, "valid").padding4 == (0, 0, 0, 0)
    assert conv_geometry(8, 3, 1, "SAME").padding4 == (1, 1, 1, 1)
    g = ConvGeometry(in_hw=8, kernel_hw=3, stride=2, padding4=1, dilation=1)
    assert g.in_hw == (8, 8) and g.padding4 == (1, 1, 1, 1) and g.out_hw == (4, 4)
    assert hash(g) == hash(conv_geometry((8, 8), (3, 3), (2, 2), 1))


def test_geometry_errors():
    with pytest.raises(ValueError, match=r"stride must be positive, got \(0, 1\)"):
        conv_geometry((8, 8), 3, (0, 1))
    with pytest.raises(ValueError, match=r"dilation must be positive, got \(1, -1\)"):
        conv_geometry((8, 8), 3, 1, 0, (1, -1))
    with pytest.raises(ValueError, match=r"padding must be non-negative.*\(-1, -1, -1, -1\)"):
        conv_geometry((8, 8), 3, 1, -1)
    with pytest.raises(ValueError, match=r"kernel \(5, 5\).*padded input \(4, 4\)"):
        conv_geometry((4, 4), 5)
    with pytest.raises(ValueError, match=r"kernel \(3, 3\) with dilation \(3, 3\) spans \(7, 7\)"
                                         r".*padded input \(6, 6\)"):
        conv_geometry((4, 4), 3, 1, 1, 3)
    with pytest.raises(ValueError, match="'same' or 'valid'"):
        conv_geometry((8, 8), 3, 1, "full")
    with pytest.raises(ValueError, match=r"padding must be .*got \(1, 2, 3\)"):
        conv_geometry((8, 8), 3, 1, (1, 2, 3))
    with pytest.raises(ValueError, match="sequence of 2 ints"):
        conv_geometry((8, 8, 1), 3)
    with pytest.raises(TypeError, match="ints"):
        conv_geometry((8, 8), 2.5)
    with pytest.raises(ValueError, match="in_hw must be positive"):
        conv_geometry((0, 8), 1)
    with pytest.raises(ValueError, match="kernel_hw must be positive"):
        conv_geometry((8, 8), 0)
    with pytest.raises(ValueError, match=r"output_padding \(2, 2\).*stride \(2, 2\)"):
        conv_transpose_geometry((4, 4), 3, 2, 1, output_padding=2)
    with pytest.raises(ValueError, match="output_padding"):
        conv_transpose_geometry((4, 4), 3, 1, 1, output_padding=1)
    with pytest.raises(ValueError, match="output_padding"):
        conv_transpose_geometry((4, 4), 3, 2, "same", output_padding=1)
    with pytest.raises(ValueError, match="<= 0"):
        conv_transpose_geometry((1, 1), 1, 1, 1)
    with pytest.raises(ValueError, match="negative padding"):
        conv_transpose_geometry((4, 4), 3, 1, 0, output_padding=1, dilation=2)


def test_transpose_same_wgan_generator_sizes():
    for hin, hout in [(4, 8), (7, 14), (14, 28)]:
        g = conv_transpose_geometry((hin, hin), 5, 2, "same")
        assert g.in_hw == (hout, hout) and g.out_hw == (hin, hin)
        assert g == conv_geometry((hout, hout), 5, 2, "same")


@pytest.mark.parametrize("hin", [1, 3, 4, 7])
@pytest.mark.parametrize("k,s,p,op,d", [(3, 1, 0, 0, 1), (3, 2, 1, 1, 1), (4, 2, 1, 0, 1),
                                         (5, 2, 2, 1, 1), (5, 3, 0, 2, 1), (3, 1, 1, 1, 2),
                                         (3, 2, 2, 1, 2), (2, 1, 3, 2, 3)])
def test_transpose_output_size_formula(hin, k, s, p, op, d):
    hout = (hin - 1) * s - 2 * p + d * (k - 1) + op + 1
    if hout <= 0:
        with pytest.raises(ValueError):
            conv_transpose_geometry((hin, hin + 1), k, s, p, op, d)
        return
    g = conv_transpose_geometry((hin, hin + 1), k, s, p, op, d)
    assert g.in_hw == (hout, hout + s)
    assert g.out_hw == (hin, hin + 1)


# --------------------------------------------------------------------------------------
# against PyTorch (float64)
# --------------------------------------------------------------------------------------

def _torch():
    torch = pytest.importorskip("torch")
    return torch, torch.nn.functional


@pytest.mark.torch
@pytest.mark.parametrize("case", GRID)
def test_conv2d_and_grads_match_torch(case):
    torch, F = _torch()
    geom, x, w, gy = _make(case, seed=4)
    pt, pb, pl, pr = geom.padding4
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    yt = F.conv2d(F.pad(xt, (pl, pr, pt, pb)), wt, stride=geom.stride, dilation=geom.dilation)
    gxt, gwt = torch.autograd.grad(yt, (xt, wt), torch.tensor(gy))
    assert _rel(conv2d(x, w, geom), yt.detach().numpy()) < 1e-10
    assert _rel(conv2d_input_grad(gy, w, geom), gxt.numpy()) < 1e-10
    assert _rel(conv2d_weight_grad(x, gy, geom), gwt.numpy()) < 1e-10
    if pt == pb and pl == pr:
        gw2 = torch.nn.grad.conv2d_weight(torch.tensor(x), w.shape, torch.tensor(gy),
                                          stride=geom.stride, padding=(pt, pl),
                                          dilation=geom.dilation)
        assert _rel(conv2d_weight_grad(x, gy, geom), gw2.numpy()) < 1e-10


def _torch_conv_transpose(torch, F, x, w, geom, stride, dilation):
    """PyTorch conv_transpose2d for any (asymmetric) padding: run it unpadded, then crop
    the geometry's padding (the output padding appears as extra zero rows at the end)."""
    full = F.conv_transpose2d(torch.tensor(x), torch.tensor(w), stride=stride,
                              dilation=dilation)
    pt, pb, pl, pr = geom.padding4
    H, W = geom.in_hw
    full = F.pad(full, (0, max(0, pl + W - full.shape[3]), 0, max(0, pt + H - full.shape[2])))
    return full[:, :, pt:pt + H, pl:pl + W].numpy()


TRANSPOSE_CASES = [
    (hin, k, s, p, op, d)
    for (hin, k, s, p, op, d) in itertools.product(
        [(4, 5)], [3, 4, 5], [1, 2], [0, 1, 2, "same", (0, 2, 1, 0)], [0, 1], [1])
    if op < s and not (p == "same" and op)
] + [((6, 5), 3, 1, 1, 1, 2), ((5, 5), 3, 2, 2, 1, 2), ((3, 4), 2, 1, 3, 2, 3),
     ((4, 4), 5, 2, "same", 0, 2), ((7, 7), 5, 2, "same", 0, 1)]


@pytest.mark.torch
@pytest.mark.parametrize("hin,k,s,p,op,d", TRANSPOSE_CASES)
def test_conv_transpose2d_matches_torch(hin, k, s, p, op, d):
    torch, F = _torch()
    try:
        geom = conv_transpose_geometry(hin, k, s, p, op, d)
    except ValueError:
        hout = (hin[0] - 1) * s - 2 * p + d * (k - 1) + op + 1 if isinstance(p, int) else 1
        assert hout <= 0
        return
    rng = np.random.default_rng(5)
    cin, cout = 3, 2
    x = rng.standard_normal((2, cin) + tuple(hin))
    w = rng.standard_normal((cin, cout, k, k))  # PyTorch's transposed-conv weight layout
    ours = conv_transpose2d(x, w, geom)
    assert ours.shape == (2, cout) + geom.in_hw and ours.flags.c_contiguous
    if isinstance(p, int):  # symmetric: compare with PyTorch directly, incl. its output size
        ref = F.conv_transpose2d(torch.tensor(x), torch.tensor(w), stride=s, padding=p,
                                 output_padding=op, dilation=d).numpy()
        assert ref.shape == ours.shape
        assert _rel(ours, ref) < 1e-10
    ref = _torch_conv_transpose(torch, F, x, w, geom, s, d)
    assert _rel(ours, ref) < 1e-10
