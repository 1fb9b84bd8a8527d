"""2-D convolution as a closed trio of ops (Chainer's design).

Three linear maps share one ``ConvGeometry`` g (from the backend's kernel module):

* ``Conv2d``            y = conv(x, w)      x (N, C, H, W), w (O, C, kH, kW) -> y (N, O, Ho, Wo)
* ``ConvTranspose2d``   z = convT(g, w)     g (N, O, Ho, Wo), w (O, C, kH, kW) -> z (N, C, H, W)
* ``Conv2dWeightGrad``  v = convW(x, g)     x (N, C, H, W), g (N, O, Ho, Wo) -> v (O, C, kH, kW)

with y[n,o,i,j] = sum_{c,p,q} xpad[n, c, i*sh + p*dh, j*sw + q*dw] w[o,c,p,q]. The three
are one trilinear form seen from its three sides,

    <conv(x, w), g> = <x, convT(g, w)> = <w, convW(x, g)>,

so each one's vector-Jacobian product is one of the other two:

    y = conv(x, w):   dx = convT(gy, w),   dw = convW(x, gy)
    z = convT(g, w):  dg = conv(gz, w),    dw = convW(gz, g)
    v = convW(x, g):  dx = convT(g, gv),   dg = conv(x, gv)

Every backward is therefore built from the same three ops, and every derivative order
(the WGAN-GP penalty needs the gradient of an input gradient) runs on the same three
kernels. The kernels are reached through ``backend.kernels`` so a GPU backend can swap them.
"""
from __future__ import annotations

from kernels.conv import ConvGeometry, conv_geometry, conv_transpose_geometry

from ..autograd import Function
from ..tensor import Tensor
from ._export import export

__all__ = [
    "Conv2d", "ConvTranspose2d", "Conv2dWeightGrad", "conv2d", "conv_transpose2d",
    "conv2d_weight_grad",
]


def _bias_grad(gy: Tensor) -> Tensor:
    """d/db of a per-channel bias added to an (N, C, H, W) output: gy summed to (C,)."""
    return gy.sum((0, 2, 3))


def _add_bias(out, b):
    # the kernels return fresh arrays, so the bias can go in place (no extra output-sized copy)
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


class Conv2d(Function):
    """y = conv(x, w) (+ b per output channel): the cross-correlation of PyTorch's conv2d.

    Shapes: x (N, C, H, W), w (O, C, kH, kW), optional b (O,) -> y (N, O, Ho, Wo).
    Backward: dx = convT(gy, w), dw = convW(x, gy), db = sum of gy over (N, Ho, Wo).
    Only w is kept when only x needs a gradient, and only x when only w does.
    """

    geom: ConvGeometry

    def forward(self, x, w, b=None):
        wants = self.needs_input_grad
        self.save_inputs(1 if wants[0] else None, 0 if wants[1] else None)
        return _add_bias(self.backend.kernels.conv2d(x, w, self.geom), b)

    def backward(self, gy):
        wants = self.needs_input_grad
        gx = ConvTranspose2d.apply(gy, self.saved_input(1), geom=self.geom) if wants[0] else None
        gw = Conv2dWeightGrad.apply(self.saved_input(0), gy, geom=self.geom) if wants[1] else None
        if len(wants) == 2:
            return gx, gw
        return gx, gw, _bias_grad(gy) if wants[2] else None


class ConvTranspose2d(Function):
    """z = convT(g, w) (+ b per output channel): the adjoint of ``Conv2d`` in its input.

    Shapes: g (N, O, Ho, Wo), w (O, C, kH, kW), optional b (C,) -> z (N, C, H, W) with
    (H, W) = ``geom.in_hw``. This is PyTorch's conv_transpose2d with w read as
    (C_in, C_out, kH, kW). Backward: dg = conv(gz, w), dw = convW(gz, g), db = sum of gz.
    """

    geom: ConvGeometry

    def forward(self, g, w, b=None):
        wants = self.needs_input_grad
        self.save_inputs(1 if wants[0] else None, 0 if wants[1] else None)
        return _add_bias(self.backend.kernels.conv2d_input_grad(g, w, self.geom), b)

    def backward(self, gz):
        wants = self.needs_input_grad
        gg = Conv2d.apply(gz, self.saved_input(1), geom=self.geom) if wants[0] else None
        gw = Conv2dWeightGrad.apply(gz, self.saved_input(0), geom=self.geom) if wants[1] else None
        if len(wants) == 2:
            return gg, gw
        return gg, gw, _bias_grad(gz) if wants[2] else None


class Conv2dWeightGrad(Function):
    """v = convW(x, g): the adjoint of ``Conv2d`` in its weight.

    Shapes: x (N, C, H, W), g (N, O, Ho, Wo) -> v (O, C, kH, kW), with
    v[o,c,p,q] = sum_{n,i,j} xpad[n, c, i*sh + p*dh, j*sw + q*dw] g[n,o,i,j].
    Backward: dx = convT(g, gv), dg = conv(x, gv). (DeZero's node for this map had no
    working backward; here it is just the other two members of the trio.)
    """

    geom: ConvGeometry

    def forward(self, x, g):
        wants = self.needs_input_grad
        self.save_inputs(1 if wants[0] else None, 0 if wants[1] else None)
        return self.backend.kernels.conv2d_weight_grad(x, g, self.geom)

    def backward(self, gv):
        want_x, want_g = self.needs_input_grad
        return (
            ConvTranspose2d.apply(self.saved_input(1), gv, geom=self.geom) if want_x else None,
            Conv2d.apply(self.saved_input(0), gv, geom=self.geom) if want_g else None,
        )


# ----- public functions ------------------------------------------------------------------
def _check_4d(op: str, name: str, t: Tensor) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if t.ndim != 4:
        layout = "(N, C, H, W)" if name == "input" else "4-D"
        raise ValueError(f"{op}: {name} must be {layout}, got shape {t.shape}")


def _check_bias(op: str, bias: Tensor | None, channels: int, weight: Tensor) -> None:
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != (channels,)):
        shape = bias.shape if isinstance(bias, Tensor) else type(bias).__name__
        raise ValueError(f"{op}: bias must have shape ({channels},) for weight of shape "
                         f"{weight.shape}, got {shape}")


def _geometry(op: str, make, shapes: str):
    """Build a geometry, naming the op and the tensors' shapes if the settings are invalid."""
    try:
        return make()
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{op}: {exc} ({shapes})") from None


def _with_bias(fn, a: Tensor, b: Tensor, bias: Tensor | None, geom) -> Tensor:
    return fn.apply(a, b, geom=geom) if bias is None else fn.apply(a, b, bias, geom=geom)


@export(functional=True)
def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1) -> Tensor:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d`` (groups=1).

    x (N, C_in, H, W), weight (C_out, C_in, kH, kW), bias (C_out,) -> (N, C_out, Ho, Wo),
    Ho = (H + pad_top + pad_bottom - dilation*(kH - 1) - 1) // stride + 1.
    ``padding``: int, (ph, pw), (top, bottom, left, right), ``'valid'`` or ``'same'``
    (TensorFlow's rule for any stride: Ho = ceil(H / stride), the odd pixel at bottom/right).
    """
    _check_4d("conv2d", "input", x)
    _check_4d("conv2d", "weight", weight)
    if x.shape[1] != weight.shape[1]:
        raise ValueError(f"conv2d: input of shape {x.shape} has {x.shape[1]} channels but weight "
                         f"of shape {weight.shape} expects {weight.shape[1]} (C_out, C_in, kH, kW)")
    _check_bias("conv2d", bias, weight.shape[0], weight)
    geom = _geometry("conv2d", lambda: conv_geometry(
        x.shape[2:], weight.shape[2:], stride, padding, dilation),
        f"input {x.shape}, weight {weight.shape}")
    return _with_bias(Conv2d, x, weight, bias, geom)


@export(functional=True)
def conv_transpose2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, dilation=1) -> Tensor:
    """Transposed 2-D convolution, as ``torch.nn.functional.conv_transpose2d`` (groups=1).

    x (N, C_in, H, W), weight (C_in, C_out, kH, kW), bias (C_out,) -> (N, C_out, Ho, Wo),
    Ho = (H - 1)*stride - pad_top - pad_bottom + dilation*(kH - 1) + output_padding + 1.
    ``padding`` may also be (top, bottom, left, right) or ``'same'`` (TensorFlow's
    conv2d_transpose: Ho = H * stride). It is the adjoint of ``conv2d`` with the same
    weight, read as the (C_out_of_conv, C_in_of_conv, kH, kW) = (C_in, C_out, kH, kW)
    weight of a conv mapping C_out-channel images to C_in channels.
    """
    _check_4d("conv_transpose2d", "input", x)
    _check_4d("conv_transpose2d", "weight", weight)
    if x.shape[1] != weight.shape[0]:
        raise ValueError(
            f"conv_transpose2d: input of shape {x.shape} has {x.shape[1]} channels but weight "
            f"of shape {weight.shape} expects {weight.shape[0]} (C_in, C_out, kH, kW)")
    _check_bias("conv_transpose2d", bias, weight.shape[1], weight)
    geom = _geometry("conv_transpose2d", lambda: conv_transpose_geometry(
        x.shape[2:], weight.shape[2:], stride, padding, output_padding, dilation),
        f"input {x.shape}, weight {weight.shape}")
    return _with_bias(ConvTranspose2d, x, weight, bias, geom)


def conv2d_weight_grad(x: Tensor, grad_output: Tensor, kernel_size, stride=1, padding=0,
                       dilation=1) -> Tensor:
    """The gradient of ``conv2d(x, w, stride=..., ...)`` with respect to w, given grad_output.

    x (N, C_in, H, W), grad_output (N, C_out, Ho, Wo) -> (C_out, C_in, kH, kW); as
    ``torch.nn.grad.conv2d_weight`` but differentiable to any order in both arguments.
    """
    _check_4d("conv2d_weight_grad", "input", x)
    _check_4d("conv2d_weight_grad", "grad_output", grad_output)
    if x.shape[0] != grad_output.shape[0]:
        raise ValueError(f"conv2d_weight_grad: input of shape {x.shape} and grad_output of "
                         f"shape {grad_output.shape} have different batch sizes")
    shapes = f"input {x.shape}, grad_output {grad_output.shape}"
    geom = _geometry("conv2d_weight_grad", lambda: conv_geometry(
        x.shape[2:], kernel_size, stride, padding, dilation), shapes)
    if tuple(grad_output.shape[2:]) != geom.out_hw:
        raise ValueError(f"conv2d_weight_grad: grad_output spatial size {grad_output.shape[2:]} "
                         f"is not the conv output size {geom.out_hw} ({shapes})")
    return Conv2dWeightGrad.apply(x, grad_output, geom=geom)
