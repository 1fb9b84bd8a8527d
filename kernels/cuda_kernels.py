"""Launchers for our CUDA C kernels (``kernels/cuda/*.cu``), loaded with ``cupy.RawModule``.

:class:`CudaKernels` compiles each source once (NVRTC, through CuPy) and exposes the
kernels as array functions. The conv ones have the signatures and semantics of
:mod:`kernels.conv` (``conv2d(x, w, geom)`` and its two adjoints, plus
``im2col``/``col2im`` as in :mod:`kernels.numba_cpu`), so a CuPy backend can hand this
object out where the NumPy one hands out the module. The GEMMs stay in the array
module (cuBLAS through CuPy); the kernels do the data movement and the fused
elementwise work:

* ``conv_cols.cu``: im2col, col2im (gather form, no atomics);
* ``activation.cu``: leaky_relu with its derivative mask; bias + leaky_relu;
* ``gradient_penalty.cu``: per-sample norms, the penalty, its gradient in g;
* ``optim.cu``: Adam/AMSGrad, RMSprop (PyTorch or TF eps, centered, momentum) and weight
  clipping, each one launch over all parameters.

The NumPy references are :mod:`kernels.conv` (im2col/col2im), minigrad's own ops and
optimizers (the tests run both) and :mod:`kernels.cuda_reference`. The launcher code is
array-module agnostic: given ``load_module=kernels.emulator.RawModule`` and NumPy arrays
it runs every kernel on the CPU (the test suite does this), with CuPy arrays and the
default loader on a GPU. Only float32 and float64 have kernels; other dtypes go to
:mod:`kernels.conv`'s array-module path (conv) or raise TypeError (the rest).
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from . import conv
from .conv import ConvGeometry, array_module

__all__ = ["CudaKernels", "cupy_kernels", "SOURCE_DIR", "MODULE_OPTIONS", "REDUCE_THREADS",
           "source"]

SOURCE_DIR = Path(__file__).with_name("cuda")
#: block width of the reduction kernels (gradient_penalty.cu's REDUCE_THREADS)
REDUCE_THREADS = 256
#: NVRTC options per source; the nvcc and emulator checks build with the same ones.
#: optim.cu is built without multiply-add fusion so that it matches NumPy bit for bit.
MODULE_OPTIONS = {
    "conv_cols.cu": (),
    "activation.cu": (),
    "gradient_penalty.cu": (f"-DREDUCE_THREADS={REDUCE_THREADS}",),
    "optim.cu": ("--fmad=false",),
    "random.cu": (),
}
BLOCK = 256
TABLE_CACHE = 64  # device copies of address tables kept (see CudaKernels._table)
MAX_GRID = 65535  # the kernels loop grid-stride, so a capped grid still covers everything
_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}


def source(name: str) -> str:
    """The text of ``kernels/cuda/<name>``."""
    return (SOURCE_DIR / name).read_text()


def _cupy_module(code: str, options: tuple[str, ...], name: str):
    import cupy  # noqa: PLC0415 - only on a GPU

    return cupy.RawModule(code=code, options=options)


def _grid(n: int, block: int = BLOCK) -> int:
    return max(1, min(-(-n // block), MAX_GRID))


def _address(a) -> int:
    return a.data.ptr if type(a).__module__.startswith("cupy") else a.ctypes.data


def _dtype_of(what: str, *arrays) -> np.dtype:
    dtype = np.dtype(arrays[0].dtype)
    if dtype not in _SUFFIX:
        raise TypeError(f"{what}: CUDA kernels take float32 or float64 arrays, got {dtype}")
    for a in arrays[1:]:
        if a is not None and np.dtype(a.dtype) != dtype:
            raise TypeError(f"{what}: all arrays must share one dtype, got {dtype} and {a.dtype}")
    return dtype


class CudaKernels:
    """The CUDA kernel set. ``load_module(code, options, name)`` builds a module with
    ``get_function(name)`` (default: ``cupy.RawModule``; the tests pass the emulator's)."""

    MULTI_TENSOR = True  # adam_, rmsprop_ and clip_ update every parameter in one launch

    def __init__(self, load_module: Callable | None = None):
        self._load_module = load_module or _cupy_module
        self._modules = {}
        self._tables = {}

    def _kernel(self, file: str, name: str, dtype: np.dtype):
        if file not in self._modules:
            self._modules[file] = self._load_module(source(file), MODULE_OPTIONS[file], file)
        return self._modules[file].get_function(f"{name}_{_SUFFIX[dtype]}")

    # ----- im2col / col2im and the convolution trio -------------------------------------
    def im2col(self, x, geom: ConvGeometry):
        """NCHW ``x`` -> C-contiguous columns ``(N*Ho*Wo, kH*kW*C)``, column order (p, q, c)."""
        xp = array_module(x)
        dtype = _dtype_of("im2col", x)
        conv._check_x(x, geom)
        N, C = x.shape[:2]
        (Ho, Wo), (kH, kW) = geom.out_hw, geom.kernel_hw
        cols = xp.empty((N * Ho * Wo, kH * kW * C), dtype=dtype)
        if cols.size:
            self._kernel("conv_cols.cu", "im2col", dtype)(
                (_grid(cols.size),), (BLOCK,), (xp.ascontiguousarray(x), cols, *self._shape(geom, N, C)))
        return cols

    def col2im(self, cols, geom: ConvGeometry, N: int, C: int):
        """Adjoint of :meth:`im2col`: ``(N*Ho*Wo, kH*kW*C)`` -> C-contiguous ``(N, C, H, W)``."""
        xp = array_module(cols)
        dtype = _dtype_of("col2im", cols)
        (Ho, Wo), (kH, kW) = geom.out_hw, geom.kernel_hw
        if tuple(cols.shape) != (N * Ho * Wo, kH * kW * C):
            raise ValueError(f"cols of shape {tuple(cols.shape)} does not match "
                             f"{(N * Ho * Wo, kH * kW * C)} for N={N}, C={C}, {geom}")
        x = xp.empty((N, C, *geom.in_hw), dtype=dtype)
        if x.size:
            self._kernel("conv_cols.cu", "col2im", dtype)(
                (_grid(x.size),), (BLOCK,), (xp.ascontiguousarray(cols), x, *self._shape(geom, N, C)))
        return x

    @staticmethod
    def _shape(geom: ConvGeometry, N: int, C: int) -> tuple:
        """The int32 geometry arguments of the conv_cols kernels, in their order."""
        values = (N, C, *geom.in_hw, *geom.out_hw, *geom.kernel_hw, *geom.stride, *geom.dilation,
                  geom.padding4[0], geom.padding4[2])
        return tuple(np.int32(v) for v in values)

    @staticmethod
    def _uses_kernels(impl, *arrays) -> bool:
        """impl=None: the kernels when all arrays are float32 or all float64 (anything else,
        mixed dtypes included, takes kernels.conv's path, which promotes); impl='numpy': that path."""
        if impl not in (None, "numpy"):
            raise ValueError(f"impl must be None or 'numpy' for the CUDA kernels, got {impl!r}")
        dtypes = {np.dtype(a.dtype) for a in arrays}
        return impl is None and len(dtypes) == 1 and dtypes <= _SUFFIX.keys()

    @staticmethod
    def _trivial(geom: ConvGeometry, sizes: tuple) -> bool:
        """1x1 convs are one GEMM and empty ones zeros: kernels.conv does both without im2col."""
        return conv._is_pointwise(geom) or 0 in sizes

    def conv2d(self, x, w, geom: ConvGeometry, *, impl=None):
        """As :func:`kernels.conv.conv2d`: x (N, C, H, W), w (O, C, kH, kW) -> (N, O, Ho, Wo)."""
        if not self._uses_kernels(impl, x, w) or self._trivial(geom, x.shape[:2] + w.shape[:1]):
            return conv.conv2d(x, w, geom, impl="numpy")
        xp = array_module(x)
        conv._check_x(x, geom)
        conv._check_w(w, geom)
        conv._check_same("channels (x.shape[1] vs w.shape[1])", x.shape[1], w.shape[1])
        N, O = x.shape[0], w.shape[0]
        y = self.im2col(x, geom) @ conv._wmat(xp, w, x.dtype)               # (N*Ho*Wo, O), cuBLAS
        return xp.ascontiguousarray(y.reshape(N, *geom.out_hw, O).transpose(0, 3, 1, 2))

    def conv2d_input_grad(self, gy, w, geom: ConvGeometry, *, impl=None):
        """As :func:`kernels.conv.conv2d_input_grad` (= conv_transpose2d): gy (N, O, Ho, Wo)
        -> (N, C, H, W)."""
        if not self._uses_kernels(impl, gy, w) or self._trivial(geom, gy.shape[:2] + w.shape[1:2]):
            return conv.conv2d_input_grad(gy, w, geom, impl="numpy")
        xp = array_module(gy)
        conv._check_gy(gy, geom)
        conv._check_w(w, geom)
        conv._check_same("channels (gy.shape[1] vs w.shape[0])", gy.shape[1], w.shape[0])
        dcols = conv._nhwc_mat(xp, gy, gy.dtype) @ conv._wmat(xp, w, gy.dtype).T   # cuBLAS
        return self.col2im(dcols, geom, gy.shape[0], w.shape[1])

    def conv2d_weight_grad(self, x, gy, geom: ConvGeometry, *, impl=None):
        """As :func:`kernels.conv.conv2d_weight_grad`: x (N, C, H, W), gy (N, O, Ho, Wo)
        -> (O, C, kH, kW)."""
        if not self._uses_kernels(impl, x, gy) or self._trivial(geom, x.shape[:2] + gy.shape[1:2]):
            return conv.conv2d_weight_grad(x, gy, geom, impl="numpy")
        xp = array_module(x)
        conv._check_gy(gy, geom)
        conv._check_same("batch (x.shape[0] vs gy.shape[0])", x.shape[0], gy.shape[0])
        C, O, (kH, kW) = x.shape[1], gy.shape[1], geom.kernel_hw
        gw = self.im2col(x, geom).T @ conv._nhwc_mat(xp, gy, gy.dtype)      # (kH*kW*C, O), cuBLAS
        return xp.ascontiguousarray(gw.reshape(kH, kW, C, O).transpose(3, 2, 0, 1))

    def conv_transpose2d(self, x, w, geom: ConvGeometry, *, impl=None):
        """As :func:`kernels.conv.conv_transpose2d`: exactly ``conv2d_input_grad(x, w, geom)``."""
        return self.conv2d_input_grad(x, w, geom, impl=impl)

    # ----- activations -------------------------------------------------------------------
    @staticmethod
    def _leaky_scalars(dtype: np.dtype, negative_slope: float):
        """(pos, neg): the mask values NumPy's LeakyRelu builds, (1 - s) + s and s, in dtype."""
        kind = dtype.type
        return kind(kind(1.0 - negative_slope) + kind(negative_slope)), kind(negative_slope)

    def leaky_relu(self, x, negative_slope: float = 0.01, *, with_mask: bool = True):
        """y = leaky_relu(x) and, with ``with_mask``, its derivative (1 or slope), both x's shape.
        Returns (y, mask or None)."""
        xp = array_module(x)
        dtype = _dtype_of("leaky_relu", x)
        x = xp.ascontiguousarray(x)
        y = xp.empty_like(x)
        mask = xp.empty_like(x) if with_mask else None
        if x.size:
            self._kernel("activation.cu", "leaky_relu", dtype)(
                (_grid(x.size),), (BLOCK,),
                (x, y, mask, np.int64(x.size), *self._leaky_scalars(dtype, negative_slope)))
        return y, mask

    def bias_leaky_relu(self, x, bias, negative_slope: float = 0.01, *, with_mask: bool = True):
        """leaky_relu(x + bias) with bias (C,) on axis 1 of x (N, C, *spatial); slope 0 is
        relu, 1 the bias alone. Returns (y, mask or None), both x's shape."""
        xp = array_module(x)
        dtype = _dtype_of("bias_leaky_relu", x, bias)
        if x.ndim < 2 or tuple(bias.shape) != (x.shape[1],):
            raise ValueError(f"bias_leaky_relu: x must be (N, C, *spatial) and bias (C,), got x "
                             f"{tuple(x.shape)} and bias {tuple(bias.shape)}")
        x = xp.ascontiguousarray(x)
        y = xp.empty_like(x)
        mask = xp.empty_like(x) if with_mask else None
        if x.size:
            inner = math.prod(x.shape[2:])
            self._kernel("activation.cu", "bias_leaky_relu", dtype)(
                (_grid(x.size),), (BLOCK,),
                (x, xp.ascontiguousarray(bias), y, mask, np.int64(x.size), np.int64(inner),
                 np.int32(x.shape[1]), *self._leaky_scalars(dtype, negative_slope)))
        return y, mask

    # ----- the gradient penalty ----------------------------------------------------------
    def gradient_penalty_norms(self, g, eps: float = 1e-12):
        """sqrt(sum g[n]^2 + eps) per sample: g (N, *) -> (N,) (minigrad's safe_norm)."""
        xp = array_module(g)
        dtype = _dtype_of("gradient_penalty_norms", g)
        N = g.shape[0]
        norms = xp.empty((N,), dtype=dtype)
        if N:
            self._kernel("gradient_penalty.cu", "gp_norms", dtype)(
                (min(N, MAX_GRID),), (REDUCE_THREADS,),
                (xp.ascontiguousarray(g), norms, np.int32(N), np.int64(g.size // N), dtype.type(eps)))
        return norms

    def gradient_penalty(self, norms, center: float = 1.0):
        """mean_n (norms[n] - center)^2: norms (N,) -> a 0-d array."""
        xp = array_module(norms)
        dtype = _dtype_of("gradient_penalty", norms)
        if norms.ndim != 1 or norms.shape[0] == 0:
            raise ValueError(f"gradient_penalty: norms must be 1-D and non-empty, got shape {norms.shape}")
        penalty = xp.empty((), dtype=dtype)
        self._kernel("gradient_penalty.cu", "gp_penalty", dtype)(
            (1,), (REDUCE_THREADS,), (xp.ascontiguousarray(norms), np.int32(norms.shape[0]),
                                      dtype.type(center), penalty))
        return penalty

    def gradient_penalty_grad(self, g, norms, center: float = 1.0):
        """dP/dg = 2/N (norms[n] - center) / norms[n] * g[n]: g (N, *), norms (N,) -> g's shape."""
        xp = array_module(g)
        dtype = _dtype_of("gradient_penalty_grad", g, norms)
        N = g.shape[0]
        if tuple(norms.shape) != (N,):
            raise ValueError(f"gradient_penalty_grad: norms must have shape ({N},), got {norms.shape}")
        g = xp.ascontiguousarray(g)
        out = xp.empty_like(g)
        if g.size:
            self._kernel("gradient_penalty.cu", "gp_penalty_grad", dtype)(
                (_grid(g.size),), (BLOCK,), (g, xp.ascontiguousarray(norms), np.int32(N),
                                             np.int64(g.size // N), dtype.type(center), out))
        return out

    @staticmethod
    def total_norm(arrays):
        """sqrt(sum_i ||a_i||^2) over every array as one float64 vector: a 0-d array, in four
        launches whatever the number of arrays (concatenate, cast, dot, sqrt)."""
        xp = array_module(arrays[0])
        flat = xp.concatenate([a.ravel() for a in arrays]).astype(np.float64)
        return xp.sqrt(xp.vdot(flat, flat))

    # ----- random numbers: Philox4x32-10 --------------------------------------------------
    def philox(self, xp, kind: str, shape: tuple, dtype, seed: int, offset: int):
        """A ``kind`` ('uniform' [0, 1) or 'normal') draw of ``shape`` in ``dtype`` (float32 or
        float64), an array of ``xp``, from counter block ``offset`` under key ``seed``
        (random.cu; the caller advances its offset past the blocks used)."""
        dtype = _dtype_of(f"philox_{kind}", np.empty(0, dtype))
        out = xp.empty(shape, dtype=dtype)
        if out.size:
            self._kernel("random.cu", f"philox_{kind}", dtype)(
                (_grid(out.size),), (BLOCK,), (out, np.int64(out.size), np.uint64(seed), np.uint64(offset)))
        return out

    # ----- optimizers: one launch over every parameter -----------------------------------
    def adam_(self, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs=None, *, step: int,
              lr: float, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
              amsgrad: bool = False) -> None:
        """One Adam/AMSGrad step (minigrad.optim.Adam's formula, ``step`` = t >= 1) on every
        parameter in place; state arrays updated in place, each shaped like its parameter."""
        beta1, beta2 = betas
        state = [exp_avgs, exp_avg_sqs, max_exp_avg_sqs if amsgrad else None]
        launch, dtype = self._multi_tensor("adam", params, grads, state)
        t = dtype.type
        launch(t(beta1), t(1 - beta1), t(beta2), t(1 - beta2), t(math.sqrt(1 - beta2 ** step)),
               t(eps), t(lr / (1 - beta1 ** step)), t(weight_decay),
               np.int32(weight_decay != 0), np.int32(bool(amsgrad)))

    def rmsprop_(self, params, grads, square_avgs, grad_avgs=None, momentum_buffers=None, *,
                 lr: float, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False, eps_inside_sqrt: bool = False) -> None:
        """One RMSprop step (minigrad.optim.RMSprop's formula: PyTorch's eps outside the
        square root, or TF/Keras' inside; centered; momentum) on every parameter in place."""
        state = [square_avgs, grad_avgs if centered else None, momentum_buffers if momentum > 0 else None]
        launch, dtype = self._multi_tensor("rmsprop", params, grads, state)
        t = dtype.type
        launch(t(lr), t(alpha), t(1 - alpha), t(eps), t(weight_decay), t(momentum),
               np.int32(weight_decay != 0), np.int32(bool(centered)), np.int32(bool(eps_inside_sqrt)),
               np.int32(momentum > 0))

    def clip_(self, params, clip_value: float) -> None:
        """Clamp every parameter to [-clip_value, clip_value] in place (WGAN weight clipping)."""
        if clip_value <= 0:
            raise ValueError(f"clip_value must be positive, got {clip_value}")
        launch, dtype = self._multi_tensor("clip", params, None, [])
        launch(-dtype.type(clip_value), dtype.type(clip_value))

    def _multi_tensor(self, name: str, params: Sequence, grads: Sequence | None, state: list):
        """Checks the tensor lists and builds the address tables; returns
        (launch(*scalars), dtype), where launch passes the tables before the scalars."""
        params = list(params)
        if not params:
            raise ValueError(f"{name}: no parameters")
        lists = [params] + ([list(grads)] if grads is not None else [])
        lists += [list(s) if s is not None else None for s in state]
        dtype = _dtype_of(name, *params)
        for index, arrays in enumerate(lists):
            if arrays is not None:
                self._check_like(name, index, params, arrays, dtype)
        xp = array_module(params[0])
        sizes = [int(p.size) for p in params]
        starts = self._table(xp, np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64))
        tables = [None if arrays is None else
                  self._table(xp, np.array([_address(a) for a in arrays], dtype=np.uint64))
                  for arrays in lists]
        kernel = self._kernel("optim.cu", name, dtype)
        grid = (_grid(sum(sizes)),)

        def launch(*scalars):
            if sum(sizes):
                kernel(grid, (BLOCK,), (*tables, starts, np.int32(len(params)), *scalars))
        return launch, dtype

    def _table(self, xp, host: np.ndarray):
        """``host`` (addresses or offsets) on the device, uploaded once per distinct content:
        parameters and optimizer state keep their addresses from step to step, so after the
        first step only the gradients' table is new. At most ``TABLE_CACHE`` are kept."""
        key = (host.dtype.char, host.tobytes())
        table = self._tables.pop(key, None)
        if table is None:
            table = xp.asarray(host)
            if len(self._tables) >= TABLE_CACHE:
                self._tables.pop(next(iter(self._tables)))
        self._tables[key] = table  # most recently used last
        return table

    @staticmethod
    def _check_like(name: str, index: int, params: list, arrays: list, dtype: np.dtype) -> None:
        if len(arrays) != len(params):
            raise ValueError(f"{name}: tensor list {index} has {len(arrays)} arrays for "
                             f"{len(params)} parameters")
        for i, (p, a) in enumerate(zip(params, arrays)):
            if tuple(a.shape) != tuple(p.shape) or np.dtype(a.dtype) != dtype or not a.flags.c_contiguous:
                raise ValueError(f"{name}: array {i} of tensor list {index} must be a C-contiguous "
                                 f"{dtype} array of shape {tuple(p.shape)}, got {a.dtype} "
                                 f"{tuple(a.shape)} (contiguous: {a.flags.c_contiguous})")


@functools.cache
def cupy_kernels() -> CudaKernels:
    """The process's CUDA kernel set on CuPy (modules compile on first use of each)."""
    return CudaKernels()
