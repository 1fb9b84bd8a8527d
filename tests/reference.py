"""NumPy references for the forward checks of ``tests/opcheck.py``.

Each is written from the op's definition (a loop over kernel taps or output pixels,
mean/var formulas), in float64, and never calls minigrad or ``kernels/``: an oracle that
reused the code under test would check nothing. Shapes follow PyTorch: images
(N, C, H, W), conv weights (C_out, C_in, kH, kW), transposed-conv weights
(C_in, C_out, kH, kW).
"""
from __future__ import annotations

import numpy as np


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def _same_padding(size: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TensorFlow's SAME: ceil(size / s) outputs; the odd padded pixel goes after."""
    total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def conv_padding4(padding, in_hw, k_hw, stride, dilation) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from an int, (ph, pw), a 4-tuple, 'same' or 'valid'."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        return (*_same_padding(in_hw[0], k_hw[0], stride[0], dilation[0]),
                *_same_padding(in_hw[1], k_hw[1], stride[1], dilation[1]))
    if isinstance(padding, tuple) and len(padding) == 4:
        return padding
    ph, pw = _pair(padding)
    return (ph, ph, pw, pw)


def _taps(xp, k_hw, out_hw, stride, dilation):
    """For each kernel tap (i, j): the (N, C, Ho, Wo) input pixels it multiplies."""
    for i in range(k_hw[0]):
        for j in range(k_hw[1]):
            r, c = i * dilation[0], j * dilation[1]
            yield i, j, xp[:, :, r:r + stride[0] * (out_hw[0] - 1) + 1:stride[0],
                           c:c + stride[1] * (out_hw[1] - 1) + 1:stride[1]]


def _padded_and_out_hw(x, k_hw, stride, padding, dilation):
    stride, dilation = _pair(stride), _pair(dilation)
    t, b, l, r = conv_padding4(padding, x.shape[2:], k_hw, stride, dilation)
    xp = np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)))
    out_hw = tuple((xp.shape[2 + a] - dilation[a] * (k_hw[a] - 1) - 1) // stride[a] + 1
                   for a in range(2))
    return xp, out_hw, stride, dilation


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1):
    """y[n, o, p, q] = sum_{c, i, j} xpad[n, c, p*s + i*d, q*s + j*d] w[o, c, i, j] + b[o]."""
    xp, out_hw, stride, dilation = _padded_and_out_hw(x, w.shape[2:], stride, padding, dilation)
    y = np.zeros((x.shape[0], w.shape[0], *out_hw))
    for i, j, patch in _taps(xp, w.shape[2:], out_hw, stride, dilation):
        y += np.einsum("ncpq,oc->nopq", patch, w[:, :, i, j])
    return y if b is None else y + b[None, :, None, None]


def conv2d_weight_grad(x, g, kernel_size, stride=1, padding=0, dilation=1):
    """dL/dw[o, c, i, j] = sum_{n, p, q} g[n, o, p, q] xpad[n, c, p*s + i*d, q*s + j*d]."""
    k_hw = _pair(kernel_size)
    xp, out_hw, stride, dilation = _padded_and_out_hw(x, k_hw, stride, padding, dilation)
    assert out_hw == g.shape[2:], f"grad_output {g.shape} does not fit conv output {out_hw}"
    dw = np.zeros((g.shape[1], x.shape[1], *k_hw))
    for i, j, patch in _taps(xp, k_hw, out_hw, stride, dilation):
        dw[:, :, i, j] = np.einsum("ncpq,nopq->oc", patch, g)
    return dw


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1):
    """Every input pixel scatters its kernel: full[n, o, p*s + i*d, q*s + j*d] +=
    x[n, c, p, q] w[c, o, i, j]; the output is full cropped by the padding
    (top/left) to Hout = (H-1)*s - pt - pb + d*(k-1) + output_padding + 1.
    'same' is TensorFlow's: Hout = H*s, cropped by the SAME padding of a conv on Hout."""
    stride, dilation, op = _pair(stride), _pair(dilation), _pair(output_padding)
    (h, wd), k_hw = x.shape[2:], w.shape[2:]
    if padding == "same":
        out_hw = (h * stride[0], wd * stride[1])
        t, _, l, _ = conv_padding4("same", out_hw, k_hw, stride, dilation)
    else:
        t, b_, l, r = conv_padding4(padding, None, k_hw, stride, dilation)
        out_hw = ((h - 1) * stride[0] - t - b_ + dilation[0] * (k_hw[0] - 1) + op[0] + 1,
                  (wd - 1) * stride[1] - l - r + dilation[1] * (k_hw[1] - 1) + op[1] + 1)
    full_hw = [(x.shape[2 + a] - 1) * stride[a] + dilation[a] * (k_hw[a] - 1) + 1 for a in range(2)]
    # room for the output rows beyond the last tap (output_padding): they stay zero
    full = np.zeros((x.shape[0], w.shape[1], max(full_hw[0], t + out_hw[0]),
                     max(full_hw[1], l + out_hw[1])))
    for i in range(k_hw[0]):
        for j in range(k_hw[1]):
            r0, c0 = i * dilation[0], j * dilation[1]
            full[:, :, r0:r0 + stride[0] * (h - 1) + 1:stride[0],
                 c0:c0 + stride[1] * (wd - 1) + 1:stride[1]] += np.einsum("ncpq,co->nopq", x, w[:, :, i, j])
    y = full[:, :, t:t + out_hw[0], l:l + out_hw[1]]
    return y if b is None else y + b[None, :, None, None]


def _windows(x, kernel_size, stride, padding, fill):
    """(N, C, Ho, Wo, kH*kW): each output pixel's window of x padded with ``fill``."""
    (kh, kw), (ph, pw) = _pair(kernel_size), _pair(padding)
    sh, sw = _pair(kernel_size if stride is None else stride)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    ho, wo = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    out = np.empty((*x.shape[:2], ho, wo, kh * kw))
    for p in range(ho):
        for q in range(wo):
            out[:, :, p, q] = xp[:, :, p * sh:p * sh + kh, q * sw:q * sw + kw].reshape(*x.shape[:2], -1)
    return out


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """The largest value of each window; padding never wins (it is -inf)."""
    return _windows(x, kernel_size, stride, padding, -np.inf).max(-1)


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """The window sum over kH*kW, or over the window's pixels inside x."""
    sums = _windows(x, kernel_size, stride, padding, 0.0).sum(-1)
    if count_include_pad:
        kh, kw = _pair(kernel_size)
        return sums / (kh * kw)
    return sums / _windows(np.ones_like(x), kernel_size, stride, padding, 0.0).sum(-1)


def interpolate_nearest(x, size=None, scale_factor=None):
    """PyTorch's 'nearest': output pixel p reads input pixel floor(p * in / out) with a size,
    floor(p / scale) with a scale factor (out = floor(in * scale))."""
    in_hw = x.shape[2:]
    if size is not None:
        out_hw = _pair(size)
        src = [np.arange(o) * i // o for i, o in zip(in_hw, out_hw, strict=True)]
    else:
        scales = (scale_factor, scale_factor) if np.isscalar(scale_factor) else scale_factor
        out_hw = [int(np.floor(i * s)) for i, s in zip(in_hw, scales, strict=True)]
        src = [np.minimum(np.floor(np.arange(o) / s).astype(int), i - 1)
               for i, o, s in zip(in_hw, out_hw, scales, strict=True)]
    return x[:, :, src[0][:, None], src[1][None, :]]


NUMPY_PAD_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
                  "circular": "wrap"}


def pad(x, pads, mode="constant", value=0.0):
    """PyTorch's pad: (left, right) of the last dim first, then the dim before; a negative
    amount crops."""
    widths = [(0, 0)] * x.ndim
    for k in range(len(pads) // 2):
        widths[x.ndim - 1 - k] = (pads[2 * k], pads[2 * k + 1])
    grown = [(max(a, 0), max(b, 0)) for a, b in widths]
    kw = {"constant_values": value} if mode == "constant" else {}
    y = np.pad(x, grown, mode=NUMPY_PAD_MODE[mode], **kw)
    crop = tuple(slice(max(-a, 0), y.shape[d] - max(-b, 0)) for d, (a, b) in enumerate(widths))
    return y[crop]


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, eps=1e-5):
    """(x - mean) / sqrt(var + eps) per channel (axis 1), then * weight + bias; in training
    mean and biased var over every axis but 1, else the running statistics."""
    axes = (0, *range(2, x.ndim))
    channel = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        mean = x.mean(axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axes, keepdims=True)
    else:
        mean, var = running_mean.reshape(channel), running_var.reshape(channel)
    y = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        y = y * weight.reshape(channel)
    return y if bias is None else y + bias.reshape(channel)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """(x - mean) / sqrt(var + eps) over the trailing ``normalized_shape`` dims, biased var."""
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    mean = x.mean(axes, keepdims=True)
    y = (x - mean) / np.sqrt(((x - mean) ** 2).mean(axes, keepdims=True) + eps)
    if weight is not None:
        y = y * weight
    return y if bias is None else y + bias


def leaky_relu(x, negative_slope=0.01):
    return np.where(x > 0, x, negative_slope * x)


def elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch's rule)."""
    z = beta * x
    return np.where(z > threshold, x, (np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))) / beta)


def log_softmax(x, dim):
    shifted = x - x.max(dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(dim, keepdims=True))


def softmax(x, dim):
    e = np.exp(x - x.max(dim, keepdims=True))
    return e / e.sum(dim, keepdims=True)


REDUCE = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}


def binary_cross_entropy(p, target, weight=None, reduction="mean"):
    """-w [t log p + (1 - t) log(1 - p)], each log floored at -100 (torch's clamp)."""
    loss = -(target * np.maximum(np.log(p), -100.0) + (1.0 - target) * np.maximum(np.log1p(-p), -100.0))
    return REDUCE[reduction](loss if weight is None else weight * loss)


def l1_loss(x, y, reduction="mean"):
    return REDUCE[reduction](np.abs(x - y))


def binary_cross_entropy_with_logits(x, target, weight=None, reduction="mean"):
    """-w [t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))] = w [max(x, 0) - x t + log(1 + exp(-|x|))]."""
    loss = np.maximum(x, 0.0) - x * target + np.log1p(np.exp(-np.abs(x)))
    return REDUCE[reduction](loss if weight is None else weight * loss)


def cross_entropy(logits, classes, reduction="mean"):
    """-log softmax(logits)[n, classes[n]] for logits (N, C) and integer classes (N,)."""
    return REDUCE[reduction](-log_softmax(logits, 1)[np.arange(len(classes)), classes])


def mse_loss(x, y, reduction="mean"):
    return REDUCE[reduction]((x - y) ** 2)


def safe_norm(x, dims, eps=1e-12):
    return np.sqrt((x * x).sum(dims) + eps)
