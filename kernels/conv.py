"""The convolution trio on raw arrays (NumPy or CuPy), NCHW layout.

Three computations share one geometry (:class:`ConvGeometry`) and are each
other's adjoints, so the autograd layer can write every derivative of each one
with the other two:

* ``conv2d(x, w, geom)``             x (N, C, H, W), w (O, C, kH, kW) -> y (N, O, Ho, Wo)
      y[n,o,i,j] = sum_{c,p,q} xpad[n, c, i*sh + p*dh, j*sw + q*dw] * w[o,c,p,q]
* ``conv2d_input_grad(gy, w, geom)`` adjoint of conv2d in x: (N, O, Ho, Wo) -> (N, C, H, W).
      This *is* conv_transpose2d (see :func:`conv_transpose_geometry`).
* ``conv2d_weight_grad(x, gy, geom)`` adjoint of conv2d in w: -> (O, C, kH, kW).

Here ``xpad`` is x zero-padded by ``padding4 = (top, bottom, left, right)``.

Implementation: one large 2-D GEMM over im2col columns.  x is laid out NHWC
(+ padding), an ``as_strided`` view ``(N, Ho, Wo, kH, kW, C)`` is copied to
``cols (N*Ho*Wo, kH*kW*C)`` and multiplied by the weight as ``(kH*kW*C, O)``.
The input gradient is ``gy_mat @ w_mat`` followed by col2im (kH*kW vectorised
strided ``+=`` into a padded NHWC buffer, then crop); the weight gradient is
``gy_mat.T @ cols``.  On CPU the im2col/col2im data movement can run in the
Numba kernels of :mod:`kernels.numba_cpu` (``impl='numba'``); the NumPy
versions here are the reference and the CuPy path.  Every result is a fresh
C-contiguous array of the inputs' (common) floating dtype.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .args import (
    conv_padding, non_negative_padding4, output_padding_pair, padding4, pair, positive_pair,
)

__all__ = [
    "ConvGeometry",
    "conv_geometry",
    "conv_transpose_geometry",
    "conv2d",
    "conv2d_input_grad",
    "conv2d_weight_grad",
    "conv_transpose2d",
    "array_module",
    "NUMBA_AVAILABLE",
    "IMPLS",
]


def array_module(a):
    """``cupy`` for CuPy arrays, else ``numpy`` (cupy is imported only when seen)."""
    if type(a).__module__.startswith("cupy"):
        import cupy  # noqa: PLC0415 - deliberately lazy

        return cupy
    return np


def _as_strided(xp, a, shape, strides):
    return xp.lib.stride_tricks.as_strided(a, shape=shape, strides=strides)


# --------------------------------------------------------------------------------------
# geometry
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConvGeometry:
    """Spatial geometry shared by conv2d / conv2d_input_grad / conv2d_weight_grad.

    in_hw      (H, W) of the image side x (for a transposed conv: its *output*)
    kernel_hw  (kH, kW)
    stride     (sh, sw) > 0
    padding4   (top, bottom, left, right) >= 0, asymmetric allowed
    dilation   (dh, dw) > 0

    Ints are accepted for every pair field (and for padding4: all four sides).
    """

    in_hw: tuple
    kernel_hw: tuple
    stride: tuple = (1, 1)
    padding4: tuple = (0, 0, 0, 0)
    dilation: tuple = (1, 1)

    def __post_init__(self):
        set_ = object.__setattr__
        for name in ("in_hw", "kernel_hw", "stride", "dilation"):
            set_(self, name, positive_pair(getattr(self, name), name))
        set_(self, "padding4", non_negative_padding4(self.padding4))
        eff = self.effective_kernel_hw
        padded = self.padded_hw
        if eff[0] > padded[0] or eff[1] > padded[1]:
            dil = f" with dilation {self.dilation} spans {eff}" if self.dilation != (1, 1) else ""
            raise ValueError(
                f"kernel {self.kernel_hw}{dil} is larger than the padded input {padded} "
                f"(input {self.in_hw}, padding (top, bottom, left, right) = {self.padding4})")

    @property
    def padded_hw(self):
        pt, pb, pl, pr = self.padding4
        return (self.in_hw[0] + pt + pb, self.in_hw[1] + pl + pr)

    @property
    def effective_kernel_hw(self):
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_hw, self.dilation))

    @property
    def out_hw(self):
        """(Ho, Wo) = ((H + pt + pb - dh*(kH-1) - 1) // sh + 1, same for W)."""
        return tuple((p - e) // s + 1
                     for p, e, s in zip(self.padded_hw, self.effective_kernel_hw, self.stride))


def conv_geometry(in_hw, kernel_hw, stride=1, padding=0, dilation=1) -> ConvGeometry:
    """Geometry of a conv2d whose input has spatial size ``in_hw``.

    ``padding``: int, (ph, pw), (top, bottom, left, right), ``'valid'`` (= 0) or
    ``'same'`` (TensorFlow's rule for any stride: Ho = ceil(H / sh); total padding
    max((Ho-1)*sh + (kH-1)*dh + 1 - H, 0); top = total // 2, the extra on bottom/right).
    """
    in_hw, kernel_hw = pair(in_hw, "in_hw"), pair(kernel_hw, "kernel_hw")
    # positive before the SAME rule divides by the stride
    stride, dilation = positive_pair(stride, "stride"), positive_pair(dilation, "dilation")
    pad4 = padding4(padding, in_hw, kernel_hw, stride, dilation)
    return ConvGeometry(in_hw, kernel_hw, stride, pad4, dilation)


def conv_transpose_geometry(in_hw, kernel_hw, stride=1, padding=0, output_padding=0,
                            dilation=1) -> ConvGeometry:
    """Geometry for conv_transpose2d of an input with spatial size ``in_hw``.

    PyTorch semantics: Hout = (Hin - 1)*sh - (pt + pb) + dh*(kH - 1) + output_padding + 1,
    with padding an int, (ph, pw) or (top, bottom, left, right).  ``padding='same'``
    follows TF's conv2d_transpose: Hout = Hin * sh and the SAME-padded conv geometry
    on Hout ('valid' = 0 padding).  The returned geometry describes the *forward*
    conv: its ``in_hw`` is (Hout, Wout) and its ``out_hw`` equals ``in_hw`` given here,
    so ``conv_transpose2d(x, w) == conv2d_input_grad(x, w, geom)`` with w of shape
    (C_in_of_x, C_out, kH, kW) as in PyTorch.

    ``output_padding`` must satisfy 0 <= op < max(stride, dilation) (PyTorch's rule).
    The extra op rows only ever receive zeros-or-taps exactly as in PyTorch; when
    op >= stride (possible only with dilation > stride) the returned geometry trims
    the bottom/right padding so that the conv has exactly Hin outputs, which is the
    same linear map; if that would need negative padding a ValueError is raised.
    """
    in_hw, kernel_hw = positive_pair(in_hw, "in_hw"), pair(kernel_hw, "kernel_hw")
    stride, dilation = positive_pair(stride, "stride"), positive_pair(dilation, "dilation")
    op = output_padding_pair(output_padding, stride, dilation)
    spec = conv_padding(padding)
    if spec == "same":
        if op != (0, 0):
            raise ValueError(f"output_padding {op} is not supported with padding='same' "
                             "(TF rule: output size is input size * stride)")
        # SAME gives the conv on H*s inputs ceil(H*s / s) = H outputs: exactly in_hw
        return conv_geometry(tuple(h * s for h, s in zip(in_hw, stride)), kernel_hw, stride,
                             "same", dilation)
    pad4 = non_negative_padding4(padding4(spec, in_hw, kernel_hw, stride, dilation))
    pads, out_hw = [pad4[:2], pad4[2:]], []
    for ax in range(2):
        (a, b), h, k, s, d, o = pads[ax], in_hw[ax], kernel_hw[ax], stride[ax], dilation[ax], op[ax]
        hout = (h - 1) * s - (a + b) + d * (k - 1) + o + 1
        if hout <= 0:
            raise ValueError(
                f"conv_transpose output size would be {hout} <= 0 along axis {ax} "
                f"(input {in_hw}, kernel {kernel_hw}, stride {stride}, padding "
                f"{pad4}, output_padding {op}, dilation {dilation})")
        if o >= s:
            # the conv with `b` after-padding would have more than h outputs; any
            # b' in [b - o, b - o + s - 1] gives exactly h outputs and the same map.
            b2 = b - o + s - 1
            if b2 < 0:
                raise ValueError(
                    f"output_padding {op} >= stride {stride} with padding "
                    f"{pad4} would need negative padding; not supported")
            pads[ax] = (a, b2)
        out_hw.append(hout)
    # Hout above is exactly the size whose conv (with these pads) has in_hw outputs
    return ConvGeometry(tuple(out_hw), kernel_hw, stride, (*pads[0], *pads[1]), dilation)


# --------------------------------------------------------------------------------------
# implementation selection
# --------------------------------------------------------------------------------------

try:  # Numba is optional: fall back to NumPy if it is missing or broken
    from . import numba_cpu as _numba_cpu
except Exception:  # noqa: BLE001 - any import failure means "no numba"
    _numba_cpu = None

NUMBA_AVAILABLE = _numba_cpu is not None

IMPLS = ("numpy", "numba")


def _use_numba(impl, xp, dtype):
    """Whether the Numba im2col/col2im kernels handle this call: ``impl='numba'`` asks for
    them (on NumPy arrays only; dtypes they are not compiled for take the NumPy path)."""
    if impl not in IMPLS:
        raise ValueError(f"impl must be 'numpy' or 'numba', got {impl!r}")
    if impl == "numpy":
        return False
    if xp is not np:
        raise ValueError("impl='numba' works on NumPy arrays only")
    if not NUMBA_AVAILABLE:
        raise ValueError("impl='numba' requested but numba is not available")
    return dtype in _numba_cpu.SUPPORTED_DTYPES


# --------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------

def _dtype(xp, *arrays):
    dt = np.dtype(xp.result_type(*arrays))
    if dt.kind != "f":
        names = ", ".join(str(a.dtype) for a in arrays)
        raise TypeError(f"convolution needs floating-point arrays, got dtypes ({names})")
    return dt


def _check4(name, a):
    if a.ndim != 4:
        raise ValueError(f"{name} must be 4-D, got shape {tuple(a.shape)}")


def _check_x(x, geom, name="x"):
    _check4(name, x)
    if tuple(x.shape[2:]) != geom.in_hw:
        raise ValueError(f"{name} spatial size {tuple(x.shape[2:])} does not match "
                         f"geometry in_hw {geom.in_hw} (shape {tuple(x.shape)})")


def _check_w(w, geom):
    _check4("w", w)
    if tuple(w.shape[2:]) != geom.kernel_hw:
        raise ValueError(f"w kernel size {tuple(w.shape[2:])} does not match "
                         f"geometry kernel_hw {geom.kernel_hw} (w shape {tuple(w.shape)})")


def _check_gy(gy, geom):
    _check4("gy", gy)
    if tuple(gy.shape[2:]) != geom.out_hw:
        raise ValueError(f"gy spatial size {tuple(gy.shape[2:])} does not match the "
                         f"geometry's output size {geom.out_hw} (gy shape {tuple(gy.shape)})")


def _check_same(what, a, b):
    if a != b:
        raise ValueError(f"{what} mismatch: {a} vs {b}")


# --------------------------------------------------------------------------------------
# NumPy / CuPy reference halves (also the GPU path)
# --------------------------------------------------------------------------------------

def _im2col_numpy(xp, x, geom, dtype):
    """NCHW x -> C-contiguous cols (N*Ho*Wo, kH*kW*C), column order (p, q, c)."""
    N, C, H, W = x.shape
    pt, pb, pl, pr = geom.padding4
    Hp, Wp = geom.padded_hw
    Ho, Wo = geom.out_hw
    kH, kW = geom.kernel_hw
    sh, sw = geom.stride
    dh, dw = geom.dilation
    xpad = xp.zeros((N, Hp, Wp, C), dtype=dtype)
    xpad[:, pt:pt + H, pl:pl + W, :] = x.transpose(0, 2, 3, 1)
    sN, sH, sW, sC = xpad.strides
    view = _as_strided(xp, xpad, (N, Ho, Wo, kH, kW, C),
                       (sN, sH * sh, sW * sw, sH * dh, sW * dw, sC))
    return xp.ascontiguousarray(view).reshape(N * Ho * Wo, kH * kW * C)


def _col2im_numpy(xp, cols, geom, N, C, dtype):
    """Adjoint of _im2col_numpy: (N*Ho*Wo, kH*kW*C) -> C-contiguous (N, C, H, W)."""
    pt, pb, pl, pr = geom.padding4
    Hp, Wp = geom.padded_hw
    H, W = geom.in_hw
    Ho, Wo = geom.out_hw
    kH, kW = geom.kernel_hw
    sh, sw = geom.stride
    dh, dw = geom.dilation
    d = cols.reshape(N, Ho, Wo, kH, kW, C)
    buf = xp.zeros((N, Hp, Wp, C), dtype=dtype)
    for p in range(kH):
        r0 = p * dh
        for q in range(kW):
            c0 = q * dw
            buf[:, r0:r0 + (Ho - 1) * sh + 1:sh, c0:c0 + (Wo - 1) * sw + 1:sw, :] += d[:, :, :, p, q, :]
    return xp.ascontiguousarray(buf[:, pt:pt + H, pl:pl + W, :].transpose(0, 3, 1, 2))


#: Below this many channels the NumPy im2col is used even with impl='numba'
#: (measured: for C=1 the Numba gather was ~0.2-0.5 ms slower per call).
NUMBA_IM2COL_MIN_CHANNELS = 8


def _im2col(xp, x, geom, dtype, numba):
    if numba and x.shape[1] >= NUMBA_IM2COL_MIN_CHANNELS:
        return _numba_cpu.im2col(x.astype(dtype, copy=False), geom)
    return _im2col_numpy(xp, x, geom, dtype)


def _col2im(xp, cols, geom, N, C, dtype, numba):
    if numba:
        return _numba_cpu.col2im(cols, geom, N, C)
    return _col2im_numpy(xp, cols, geom, N, C, dtype)


def _wmat(xp, w, dtype):
    """(O, C, kH, kW) -> (kH*kW*C, O), row order (p, q, c): the transposed view of a
    C-contiguous (O, kH*kW*C) copy. Moving C last is a per-output-channel copy, 3x cheaper
    than the full permutation to (kH, kW, C, O), and BLAS takes the view with no copy and
    the same result."""
    O = w.shape[0]
    return xp.ascontiguousarray(w.transpose(0, 2, 3, 1), dtype=dtype).reshape(O, -1).T


def _nhwc_mat(xp, a, dtype):
    """(N, O, Ho, Wo) -> C-contiguous (N*Ho*Wo, O)."""
    N, O, Ho, Wo = a.shape
    return xp.ascontiguousarray(a.transpose(0, 2, 3, 1), dtype=dtype).reshape(N * Ho * Wo, O)


def _is_pointwise(geom):
    return geom.kernel_hw == (1, 1) and geom.stride == (1, 1) and geom.padding4 == (0, 0, 0, 0)


# --------------------------------------------------------------------------------------
# the trio
# --------------------------------------------------------------------------------------

def conv2d(x, w, geom: ConvGeometry, *, impl="numpy"):
    """Cross-correlation y (N, O, Ho, Wo) of x (N, C, H, W) with w (O, C, kH, kW).

    ``impl``: 'numpy' (any array module: the reference and the fallback) or 'numba'.
    """
    xp = array_module(x)
    _check_x(x, geom)
    _check_w(w, geom)
    _check_same("channels (x.shape[1] vs w.shape[1])", x.shape[1], w.shape[1])
    dtype = _dtype(xp, x, w)
    numba = _use_numba(impl, xp, dtype)
    N, C, H, W = x.shape
    O = w.shape[0]
    Ho, Wo = geom.out_hw
    if N * C * O == 0:
        return xp.zeros((N, O, Ho, Wo), dtype=dtype)
    if _is_pointwise(geom):
        y = xp.matmul(w.reshape(O, C).astype(dtype, copy=False),
                      x.reshape(N, C, H * W).astype(dtype, copy=False))
        return xp.ascontiguousarray(y).reshape(N, O, Ho, Wo)
    cols = _im2col(xp, x, geom, dtype, numba)
    y = cols @ _wmat(xp, w, dtype)                                  # (N*Ho*Wo, O)
    return xp.ascontiguousarray(y.reshape(N, Ho, Wo, O).transpose(0, 3, 1, 2))


def conv2d_input_grad(gy, w, geom: ConvGeometry, *, impl="numpy"):
    """Adjoint of :func:`conv2d` in x: gy (N, O, Ho, Wo) -> gx (N, C, H, W).

    Equals conv_transpose2d(gy, w) for the geometry from :func:`conv_transpose_geometry`.
    Input pixels that no output reads (stride remainder) get 0.
    """
    xp = array_module(gy)
    _check_gy(gy, geom)
    _check_w(w, geom)
    _check_same("channels (gy.shape[1] vs w.shape[0])", gy.shape[1], w.shape[0])
    dtype = _dtype(xp, gy, w)
    numba = _use_numba(impl, xp, dtype)
    N, O = gy.shape[:2]
    C = w.shape[1]
    H, W = geom.in_hw
    if N * C * O == 0:
        return xp.zeros((N, C, H, W), dtype=dtype)
    if _is_pointwise(geom):
        gx = xp.matmul(w.reshape(O, C).T.astype(dtype, copy=False),
                       gy.reshape(N, O, H * W).astype(dtype, copy=False))
        return xp.ascontiguousarray(gx).reshape(N, C, H, W)
    dcols = _nhwc_mat(xp, gy, dtype) @ _wmat(xp, w, dtype).T       # (N*Ho*Wo, kH*kW*C)
    return _col2im(xp, dcols, geom, N, C, dtype, numba)


def conv2d_weight_grad(x, gy, geom: ConvGeometry, *, impl="numpy"):
    """Adjoint of :func:`conv2d` in w: x (N, C, H, W), gy (N, O, Ho, Wo) -> (O, C, kH, kW)."""
    xp = array_module(x)
    _check_x(x, geom)
    _check_gy(gy, geom)
    _check_same("batch (x.shape[0] vs gy.shape[0])", x.shape[0], gy.shape[0])
    dtype = _dtype(xp, x, gy)
    numba = _use_numba(impl, xp, dtype)
    N, C, H, W = x.shape
    O = gy.shape[1]
    kH, kW = geom.kernel_hw
    if N * C * O == 0:
        return xp.zeros((O, C, kH, kW), dtype=dtype)
    gmat = _nhwc_mat(xp, gy, dtype)                                 # (N*Ho*Wo, O)
    if _is_pointwise(geom):
        xmat = _nhwc_mat(xp, x, dtype)                              # (N*H*W, C)
        return xp.ascontiguousarray((xmat.T @ gmat).T).reshape(O, C, 1, 1)
    cols = _im2col(xp, x, geom, dtype, numba)
    # OpenBLAS's speed depends on the orientation: for wide columns (kH*kW*C > O) cols.T @ gmat
    # was 2x faster (48 vs 96 ms, critic 64->128 at batch 64); for narrow ones (the C=1 first
    # layer, 25 columns) gmat.T @ cols was 8 vs 232 ms with two threads (benchmarks/NOTES.md)
    if cols.shape[1] > O:
        gw = (cols.T @ gmat).reshape(kH, kW, C, O).transpose(3, 2, 0, 1)
    else:
        gw = (gmat.T @ cols).reshape(O, kH, kW, C).transpose(0, 3, 1, 2)
    return xp.ascontiguousarray(gw)


def conv_transpose2d(x, w, geom: ConvGeometry, *, impl="numpy"):
    """conv_transpose2d (PyTorch semantics, w of shape (C_in, C_out, kH, kW)).

    ``geom`` comes from :func:`conv_transpose_geometry`; this is exactly
    ``conv2d_input_grad(x, w, geom)``.
    """
    return conv2d_input_grad(x, w, geom, impl=impl)
