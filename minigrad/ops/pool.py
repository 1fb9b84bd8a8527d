"""Pooling, resizing, padding and embedding lookups on NCHW tensors.

Every op is built from primitives that come in adjoint pairs, each the other's backward,
so all of them are differentiable to any order:

    Gather         y = a.ravel()[index]                      backward: ScatterAdd(gy, index)
    ScatterAdd     y = zeros(shape); y.ravel()[index] += a   backward: Gather(gy, index)
    WindowSum      y[i, j] = sum of a's pooling window (i, j)  backward: WindowScatter(gy)
    WindowScatter  each y value added over its window          backward: WindowSum(gy)
    Pad            a framed by a constant                      backward: a slice (GetItem)

max_pool2d is a Gather at the argmax of each window; avg_pool2d is a WindowSum times
1/count; nearest upsampling by an integer factor r is the WindowScatter of r x r blocks
(the adjoint of a block sum is a block repeat); reflect/replicate/circular padding are
slices and a cat; embedding is ``weight[indices]``.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy  # host arithmetic on sizes only (interpolate's index rule); array math uses xp

from kernels.args import pair, positive_pair

from ..autograd import Function, is_recorded
from ..tensor import Tensor
from ._export import export
from .shape import GetItem, broadcast_to, cat

__all__ = [
    "Gather", "ScatterAdd", "WindowSum", "WindowScatter", "Pad", "max_pool2d", "avg_pool2d",
    "interpolate", "pad", "embedding",
]


# ----- the gather / scatter-add pair --------------------------------------------------------
class Gather(Function):
    """y = a.ravel()[index]: y has ``index``'s shape; ``index`` holds flat positions in a.

    Backward: da = ScatterAdd(gy, index) into a's shape (positions may repeat, then their
    gradients add up; ``unique=True`` promises they do not, which allows a plain store).
    """

    index: Any  # an integer backend array of flat positions
    unique: bool

    def forward(self, a):
        self.in_shape = a.shape
        return self.xp.take(a, self.index)

    def backward(self, gy):
        return ScatterAdd.apply(gy, index=self.index, shape=self.in_shape, unique=self.unique)

    def release_saved(self):
        self.index = None


class ScatterAdd(Function):
    """y = zeros(shape); y.ravel()[index] += a, with a shaped like ``index``.

    Backward: da = Gather(gy, index), because <ScatterAdd(a), g> = <a, g.ravel()[index]>.
    """

    index: Any  # as Gather's
    shape: tuple[int, ...]
    unique: bool

    def forward(self, a):
        out = self.xp.zeros(self.shape, dtype=a.dtype)
        flat = out.reshape(-1)
        if self.unique:
            flat[self.index] = a
        else:
            self.xp.add.at(flat, self.index.reshape(-1), a.reshape(-1))
        return out

    def backward(self, gy):
        return Gather.apply(gy, index=self.index, unique=self.unique)

    def release_saved(self):
        self.index = None


# ----- the window-sum / window-scatter pair ------------------------------------------------
def _taps(a, kernel, stride, out_hw):
    """The kH*kW strided views of ``a`` (already padded): view (p, q)[i, j] is the tap
    (p, q) of window (i, j), i.e. a[..., i*sh + p, j*sw + q]."""
    (kh, kw), (sh, sw), (ho, wo) = kernel, stride, out_hw
    return [a[:, :, p:p + (ho - 1) * sh + 1:sh, q:q + (wo - 1) * sw + 1:sw]
            for p in range(kh) for q in range(kw)]


class WindowSum(Function):
    """y[n,c,i,j] = sum_{p<kH, q<kW} apad[n, c, i*sh + p, j*sw + q], apad = a zero-padded
    by (ph, pw): a (N, C, H, W) -> y (N, C, Ho, Wo). A depthwise conv with a kernel of ones,
    computed as kH*kW strided adds (no im2col, no GEMM with one output column).

    Backward: da = WindowScatter(gy), every pixel of a window receives the window's gy.
    """

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    in_hw: tuple[int, int]
    out_hw: tuple[int, int]

    def forward(self, a):
        ph, pw = self.padding
        if ph or pw:
            n, c, h, w = a.shape
            padded = self.xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=a.dtype)
            padded[:, :, ph:ph + h, pw:pw + w] = a
            a = padded
        taps = _taps(a, self.kernel, self.stride, self.out_hw)
        out = taps[0].copy()
        for tap in taps[1:]:
            out += tap
        return out

    def backward(self, gy):
        return WindowScatter.apply(gy, kernel=self.kernel, stride=self.stride,
                                   padding=self.padding, in_hw=self.in_hw, out_hw=self.out_hw)


class WindowScatter(Function):
    """The adjoint of ``WindowSum``: g (N, C, Ho, Wo) -> y (N, C, H, W), each g[n,c,i,j]
    added to every pixel of window (i, j), overlaps summed, padding dropped.

    Non-overlapping unpadded windows make it a block repeat (nearest upsampling), done
    with ``repeat``. Backward: dg = WindowSum(gy).
    """

    kernel: tuple[int, int]  # the window geometry, as WindowSum's
    stride: tuple[int, int]
    padding: tuple[int, int]
    in_hw: tuple[int, int]
    out_hw: tuple[int, int]

    def forward(self, g):
        xp = self.xp
        (kh, kw), (sh, sw), (ph, pw) = self.kernel, self.stride, self.padding
        (h, w), (ho, wo) = self.in_hw, self.out_hw
        n, c = g.shape[:2]
        if (sh, sw) == (kh, kw) and (ph, pw) == (0, 0):
            blocks = xp.repeat(g, kw, axis=3) if kw > 1 else g
            blocks = xp.repeat(blocks, kh, axis=2) if kh > 1 else blocks
            if blocks.shape[2:] == (h, w):
                return blocks if blocks is not g else g.copy()
            out = xp.zeros((n, c, h, w), dtype=g.dtype)  # rows/cols no window reaches
            out[:, :, :ho * kh, :wo * kw] = blocks
            return out
        out = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=g.dtype)
        for tap in _taps(out, self.kernel, self.stride, self.out_hw):
            tap += g
        return xp.ascontiguousarray(out[:, :, ph:ph + h, pw:pw + w]) if ph or pw else out

    def backward(self, gy):
        return WindowSum.apply(gy, kernel=self.kernel, stride=self.stride, padding=self.padding,
                               in_hw=self.in_hw, out_hw=self.out_hw)


# ----- argument checks ----------------------------------------------------------------------
def _check_nchw(op: str, x: Tensor) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{op}: input must be (N, C, H, W), got shape {x.shape}")


def _pool_geometry(op: str, x: Tensor, kernel_size, stride, padding):
    """(kernel, stride, padding, out_hw) of a PyTorch pooling window (ceil_mode=False)."""
    _check_nchw(op, x)
    k = positive_pair(kernel_size, f"{op}: kernel_size")
    s = k if stride is None else positive_pair(stride, f"{op}: stride")
    p = pair(padding, f"{op}: padding")
    if min(p) < 0 or p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{op}: padding {p} must be >= 0 and at most half the kernel {k}")
    out = tuple((n + 2 * pp - kk) // ss + 1 for n, kk, ss, pp in zip(x.shape[2:], k, s, p))
    if min(out) <= 0:
        raise ValueError(f"{op}: input of shape {x.shape} is smaller than the kernel {k} "
                         f"(padding {p}); the output would be {out}")
    return k, s, p, out


# ----- max pooling --------------------------------------------------------------------------
def _window_max(xp, a, k, s, p, out_hw):
    """(the kH*kW strided tap views of each window, the max of each window).

    A loop over taps: each pass is one vectorised max over the output, far cheaper than
    copying out every window for a max/argmax along a short last axis. Padding is -inf.
    """
    N, C, H, W = a.shape
    ph, pw = p
    if ph or pw:
        padded = xp.full((N, C, H + 2 * ph, W + 2 * pw), -xp.inf, dtype=a.dtype)
        padded[:, :, ph:ph + H, pw:pw + W] = a
        a = padded
    taps = _taps(a, k, s, out_hw)
    best = taps[0].copy()
    for tap in taps[1:]:
        xp.maximum(best, tap, out=best)
    return taps, best


def _first_max_index(xp, taps, best, in_hw, k, s, p, out_hw):
    """Position row*W + col, in each (H, W) plane, of the first maximum of each window
    (PyTorch's tie rule), with taps counted row-major inside the window."""
    (H, W), (kh, kw), (sh, sw), (ph, pw), (Ho, Wo) = in_hw, k, s, p, out_hw
    # the first maximum's tap number = how many taps come before it, i.e. the length of
    # the leading run of taps that differ from the max: cheap boolean passes
    tap = xp.zeros(best.shape, dtype=xp.int32)
    before_first = xp.ones(best.shape, dtype=bool)
    for view in taps[:-1]:
        before_first &= view != best
        tap += before_first
    top = (xp.arange(Ho, dtype=xp.int64) * sh - ph)[:, None]
    left = xp.arange(Wo, dtype=xp.int64) * sw - pw
    if ph or pw:
        # a window that is all -inf (or NaN) may pick a padding tap: clip it into the image.
        # Any other window's first max is an image tap, which the clip leaves alone, so this
        # needs no (host) test of whether such a window exists
        rows, cols = xp.clip(top + tap // kw, 0, H - 1), xp.clip(left + tap % kw, 0, W - 1)
        return rows * W + cols
    # row*W + col = (top*W + left) + (p*W + q) for tap (p, q): one small table lookup
    tap_offsets = xp.asarray([p * W + q for p in range(kh) for q in range(kw)], dtype=xp.int64)
    return (top * W + left) + xp.take(tap_offsets, tap)


@export(functional=True)
def max_pool2d(x: Tensor, kernel_size, stride=None, padding: int | tuple = 0,
               return_indices: bool = False):
    """2-D max pooling, as ``torch.nn.functional.max_pool2d`` (dilation 1, ceil_mode False).

    x (N, C, H, W) -> (N, C, Ho, Wo), Ho = (H + 2*ph - kH) // sh + 1; ``stride`` defaults
    to ``kernel_size``; padding (at most half the kernel) is -inf. The output is a
    ``Gather`` of x at the first maximum of each window (PyTorch's tie rule), so the
    gradient is a ScatterAdd there and every higher order is exact. With
    ``return_indices`` also returns that argmax as int64 positions row*W + col in each plane.
    """
    k, s, p, out_hw = _pool_geometry("max_pool2d", x, kernel_size, stride, padding)
    xp = x._backend.xp
    N, C, H, W = x.shape
    taps, best = _window_max(xp, x.array, k, s, p, out_hw)
    track = is_recorded((x,))
    if not (track or return_indices):
        return Tensor._make(best)
    plane_index = _first_max_index(xp, taps, best, (H, W), k, s, p, out_hw)
    if track:
        offsets = xp.arange(N * C, dtype=xp.int64).reshape(N, C, 1, 1) * (H * W)
        # windows that do not overlap never share an argmax: the scatter can be a plain store
        unique = s[0] >= k[0] and s[1] >= k[1]
        y = Gather.apply(x, index=plane_index + offsets, unique=unique)
    else:
        y = Tensor._make(best)
    return (y, Tensor._make(plane_index)) if return_indices else y


# ----- average pooling ----------------------------------------------------------------------
@export(functional=True)
def avg_pool2d(x: Tensor, kernel_size, stride=None, padding: int | tuple = 0,
               count_include_pad: bool = True) -> Tensor:
    """2-D average pooling, as ``torch.nn.functional.avg_pool2d`` (ceil_mode False).

    x (N, C, H, W) -> (N, C, Ho, Wo): a ``WindowSum`` (zero padding) divided by kH*kW or,
    with ``count_include_pad=False``, by the number of real pixels in each window.
    """
    (kh, kw), (sh, sw), (ph, pw), (Ho, Wo) = _pool_geometry("avg_pool2d", x, kernel_size,
                                                           stride, padding)
    xp = x._backend.xp
    H, W = x.shape[2:]
    total = WindowSum.apply(x, kernel=(kh, kw), stride=(sh, sw), padding=(ph, pw),
                            in_hw=(H, W), out_hw=(Ho, Wo))
    if count_include_pad or (ph, pw) == (0, 0):
        return total * (1.0 / (kh * kw))
    # windows are separable, so the count of real pixels is rows-in-image x cols-in-image
    counts = [xp.minimum(xp.arange(n, dtype=x.dtype) * st - pp + kk, size)
              - xp.maximum(xp.arange(n, dtype=x.dtype) * st - pp, 0)
              for n, st, pp, kk, size in ((Ho, sh, ph, kh, H), (Wo, sw, pw, kw, W))]
    return total * Tensor._make(1.0 / (counts[0][:, None] * counts[1][None, :]))


# ----- nearest-neighbour resizing -----------------------------------------------------------
def _nearest_source(in_size: int, out_size: int, scale: float | None) -> numpy.ndarray:
    """PyTorch's nearest rule: src = min(floor(dst * scale), in - 1), in float32 arithmetic,
    with scale = 1 / scale_factor when one was given, else in / out. A host array: it depends
    on the sizes only, so choosing the resize's form needs no device sync."""
    step = numpy.float32(1.0 / scale if scale is not None else in_size / out_size)
    src = numpy.floor(numpy.arange(out_size, dtype=numpy.float32) * step).astype(numpy.int64)
    return numpy.minimum(src, in_size - 1)


@export(functional=True)
def interpolate(x: Tensor, size=None, scale_factor=None, mode: str = "nearest") -> Tensor:
    """Resize the (H, W) plane of x (N, C, H, W), as ``torch.nn.functional.interpolate``.

    Only ``mode='nearest'``. Exactly one of ``size`` (int or (Ho, Wo)) and ``scale_factor``
    (number or pair; Ho = floor(H * factor)). An integer upsampling is a block repeat (its
    gradient sums each block), an integer downsampling a strided slice; other ratios index
    rows and columns.
    """
    _check_nchw("interpolate", x)
    if mode != "nearest":
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported (only 'nearest')")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    in_hw = x.shape[2:]
    if size is not None:
        out_hw, scales = pair(size, "interpolate: size"), (None, None)
    else:
        per_axis = isinstance(scale_factor, (tuple, list))
        scales = tuple(scale_factor) if per_axis else (scale_factor,) * 2
        if len(scales) != 2 or not all(isinstance(f, numbers.Real) and f > 0 for f in scales):
            raise ValueError(f"interpolate: scale_factor must be a positive number or pair, "
                             f"got {scale_factor!r}")
        out_hw = tuple(int(math.floor(n * f)) for n, f in zip(in_hw, scales))
    if min(out_hw) <= 0:
        raise ValueError(f"interpolate: output size {out_hw} must be positive (input {x.shape})")
    xp = x._backend.xp
    repeats = [1, 1]
    for axis, (n, m, scale) in enumerate(zip(in_hw, out_hw, scales)):
        src = _nearest_source(n, m, scale)
        dst = numpy.arange(m, dtype=numpy.int64)
        if m % n == 0 and (src == dst // (m // n)).all():
            repeats[axis] = m // n
            continue
        if n % m == 0 and (src == dst * (n // m)).all():
            pick = slice(None, None, n // m)
        else:
            pick = xp.asarray(src)
        index = (slice(None),) * (2 + axis) + (pick,)
        x = GetItem.apply(x, index=index)
    if repeats == [1, 1]:
        return x
    (rh, rw), (h, w) = repeats, x.shape[2:]
    # nearest upsampling by (rh, rw) is the adjoint of summing (rh, rw) blocks
    return WindowScatter.apply(x, kernel=(rh, rw), stride=(rh, rw), padding=(0, 0),
                               in_hw=(h * rh, w * rw), out_hw=(h, w))


# ----- padding ------------------------------------------------------------------------------
class Pad(Function):
    """y = a framed by ``value``: y[inner] = a, with ``inner`` the slices that place a.

    Backward: da = gy[inner] (a GetItem, whose own backward scatters into zeros, i.e.
    pads with 0), so every order is a slice or a zero pad.
    """

    out_shape: tuple[int, ...]
    inner: tuple[slice, ...]
    value: float

    def forward(self, a):
        out = self.xp.full(self.out_shape, self.value, dtype=a.dtype)
        out[self.inner] = a
        return out

    def backward(self, gy):
        return GetItem.apply(gy, index=self.inner)


def _along(ndim: int, dim: int, index) -> tuple:
    return (slice(None),) * dim + (index,) + (slice(None),) * (ndim - dim - 1)


def _pad_dim(x: Tensor, dim: int, before: int, after: int, mode: str) -> Tensor:
    """Pad one dim by reflection, replication or wrap-around: slices and a cat, so the
    gradient is slices scattered back (plain stores) and a sum over the replicated edge."""
    n, nd = x.shape[dim], x.ndim
    if mode == "reflect" and (before >= n or after >= n):
        raise ValueError(f"pad: reflect padding ({before}, {after}) must be smaller than "
                         f"the size {n} of dim {dim} (input {x.shape})")
    if mode == "circular" and (before > n or after > n):
        raise ValueError(f"pad: circular padding ({before}, {after}) must be at most the "
                         f"size {n} of dim {dim} (input {x.shape})")

    def edge(index: slice, width: int) -> Tensor:
        part = GetItem.apply(x, index=_along(nd, dim, index))
        if mode != "replicate":
            return part
        shape = list(part.shape)
        shape[dim] = width
        return broadcast_to(part, tuple(shape))

    if mode == "reflect":
        stop = n - 2 - after
        left, right = slice(before, 0, -1), slice(n - 2, stop if stop >= 0 else None, -1)
    elif mode == "replicate":
        left, right = slice(0, 1), slice(n - 1, n)
    else:  # circular
        left, right = slice(n - before, n), slice(0, after)
    parts = ([edge(left, before)] if before else []) + [x] + ([edge(right, after)] if after else [])
    return cat(parts, dim) if len(parts) > 1 else x


@export(functional=True)
def pad(x: Tensor, pad: tuple | list, mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad trailing dims, as ``torch.nn.functional.pad``.

    ``pad`` lists (before, after) pairs from the LAST dim backwards:
    (left, right) pads W, (left, right, top, bottom) pads W and H, and so on.
    ``mode``: 'constant' (fill ``value``; negative widths crop), 'reflect' (mirror without
    the edge), 'replicate' (repeat the edge) or 'circular' (wrap around).
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"pad: input must be a Tensor, got {type(x).__name__}")
    widths = tuple(pad)
    if len(widths) % 2 or len(widths) // 2 > x.ndim or not all(
            isinstance(w, numbers.Integral) for w in widths):
        raise ValueError(f"pad: pad must be an even-length sequence of ints covering at most "
                         f"{x.ndim} dims, got {pad!r}")
    pairs = {x.ndim - 1 - i: (int(widths[2 * i]), int(widths[2 * i + 1]))
             for i in range(len(widths) // 2)}
    if mode != "constant":
        if mode not in ("reflect", "replicate", "circular"):
            raise ValueError(f"pad: unknown mode {mode!r}; expected 'constant', 'reflect', "
                             f"'replicate' or 'circular'")
        if any(w < 0 for w in widths):
            raise ValueError(f"pad: negative padding {widths} is only supported in constant mode")
        for dim, (before, after) in sorted(pairs.items(), reverse=True):
            x = _pad_dim(x, dim, before, after, mode)
        return x
    # negative widths crop first; what remains is a plain frame
    crop = tuple(slice(max(-pairs[d][0], 0), x.shape[d] - max(-pairs[d][1], 0)) if d in pairs
                 else slice(None) for d in range(x.ndim))
    if any(min(w) < 0 for w in pairs.values()):
        if any(s.stop - s.start <= 0 for s in crop if s.stop is not None):
            raise ValueError(f"pad: padding {widths} crops input of shape {x.shape} to nothing")
        x = GetItem.apply(x, index=crop)
    grow = {d: (max(b, 0), max(a, 0)) for d, (b, a) in pairs.items()}
    if not any(b or a for b, a in grow.values()):
        return x
    out_shape = tuple(n + sum(grow.get(d, (0, 0))) for d, n in enumerate(x.shape))
    inner = tuple(slice(grow[d][0], grow[d][0] + n) if d in grow else slice(None)
                  for d, n in enumerate(x.shape))
    return Pad.apply(x, out_shape=out_shape, inner=inner, value=value)


# ----- embedding ----------------------------------------------------------------------------
@export(functional=True)
def embedding(input, weight: Tensor) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) picked by integer ``input`` (any shape).

    Returns input.shape + (dim,). The gradient is scatter-added into the picked rows
    (repeated indices accumulate): it is ``weight[input]``, shape.GetItem whose backward
    is an IndexScatter with add.at.
    """
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        shape = weight.shape if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"embedding: weight must be a 2-D tensor (num_embeddings, dim), "
                         f"got {shape}")
    indices = input.array if isinstance(input, Tensor) else weight._backend.asarray(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {indices.dtype}")
    num = weight.shape[0]
    weight._backend.check_index_range(indices, num, "embedding: index")
    # GetItem directly: the range is checked above, and ``getitem`` would gather twice to validate
    return GetItem.apply(weight, index=indices)
