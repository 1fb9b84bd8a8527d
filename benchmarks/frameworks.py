"""The two frameworks behind one small interface, so a model and a training iteration are
written once (``benchmarks.model``) and run identically on minigrad and on PyTorch.

minigrad already has PyTorch's names (``nn``, ``nn.functional``, ``optim``, ``grad``,
``no_grad``); what differs is collected here:

* TensorFlow's SAME padding for strided convolutions, which the WGAN-GP paper's model uses.
  minigrad has it (``padding='same'``). PyTorch rejects strided 'same', so its conv pads
  explicitly with ``F.pad`` (top/left = total // 2, the odd pixel bottom/right, total =
  max((out - 1) * s + k - H, 0)) and convolves with padding 0.
* TensorFlow's conv2d_transpose SAME (out = in * stride) is the adjoint of that conv: the
  full transposed output (size (in - 1) * s + k = out + top + bottom) cropped to
  [top, top + out). PyTorch's ``padding=p`` crops p from both ends, so with p = top it leaves
  out + bottom - top rows and a view keeps the first ``out``. (The obvious ``padding=2,
  output_padding=1`` has the right size but is shifted by one pixel; the agreement gate of
  ``benchmarks.step`` compares both in float64 and the tests pin it.)
* weight clipping (``minigrad.optim.clip_weights_``; PyTorch: ``p.clamp_`` under no_grad),
  moving arrays in and out, device synchronisation and peak device memory.

PyTorch is imported only when a ``TorchFramework`` is built (the minigrad memory children
never load it). minigrad never imports torch; only this benchmark package does.
"""
from __future__ import annotations

from typing import Any

import numpy as np

FRAMEWORKS = ("minigrad", "pytorch")


class BackendUnavailable(RuntimeError):
    """The requested backend (CuPy / CUDA) is not usable on this machine."""


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME rule for one dim: (before, after), the odd pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def require_backend(backend: str) -> None:
    """Raise :class:`BackendUnavailable` with a clear message unless ``backend`` can run."""
    if backend == "numpy":
        return
    if backend != "cupy":
        raise BackendUnavailable(f"unknown backend {backend!r}; expected 'numpy' or 'cupy'")
    try:
        import cupy
    except ImportError as exc:
        raise BackendUnavailable(
            "--backend cupy needs CuPy and an NVIDIA GPU (pip install 'minigrad-wgan[gpu]'); "
            f"CuPy could not be imported: {exc}") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # noqa: BLE001 - any CUDA runtime failure means "no GPU"
        raise BackendUnavailable(
            f"--backend cupy: CuPy found no usable CUDA device ({exc})") from None
    if count < 1:
        raise BackendUnavailable("--backend cupy: CuPy found no CUDA device")
    import torch

    if not torch.cuda.is_available():
        raise BackendUnavailable(
            "--backend cupy compares against PyTorch on CUDA, but this PyTorch has no CUDA "
            f"support or sees no GPU (torch {torch.__version__})")


class MinigradFramework:
    """minigrad on NumPy (``backend='numpy'``) or CuPy (``backend='cupy'``)."""

    name = "minigrad"

    def __init__(self, backend: str = "numpy"):
        import minigrad
        import minigrad.nn.functional as F
        from minigrad import nn, optim

        self.mg, self.nn, self.F, self.optim = minigrad, nn, F, optim
        self.backend = backend
        self.device = "cuda" if backend == "cupy" else "cpu"
        self.version = minigrad.__version__

    # ----- arrays -------------------------------------------------------------------------
    def tensor(self, array: np.ndarray, requires_grad: bool = False):
        return self.mg.tensor(array, dtype=array.dtype, requires_grad=requires_grad,
                              device=self.device)

    def to_numpy(self, t) -> np.ndarray:
        return t._backend.to_numpy(t.array).copy()

    def synchronize(self) -> None:
        if self.device == "cuda":
            import cupy

            cupy.cuda.Device().synchronize()

    def reset_peak_device_memory(self) -> None:
        """CuPy's pool has no peak counter; the pool total after a run is the reported bound."""

    def peak_device_memory(self) -> int | None:
        if self.device != "cuda":
            return None
        import cupy

        return int(cupy.get_default_memory_pool().total_bytes())

    # ----- autograd -----------------------------------------------------------------------
    def grad(self, outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
             allow_unused=False):
        return self.mg.grad(outputs, inputs, grad_outputs=grad_outputs, retain_graph=retain_graph,
                            create_graph=create_graph, allow_unused=allow_unused)

    def no_grad(self):
        return self.mg.no_grad()

    # ----- layers and models --------------------------------------------------------------
    def same_conv2d(self, cin: int, cout: int, kernel: int, stride: int):
        return self.nn.Conv2d(cin, cout, kernel, stride=stride, padding="same")

    def same_conv_transpose2d(self, cin: int, cout: int, kernel: int, stride: int):
        return self.nn.ConvTranspose2d(cin, cout, kernel, stride=stride, padding="same")

    def crop(self, size: int):
        return _crop_module(self.nn.Module, size)

    def place(self, module, dtype: str):
        return module.to(device=self.device, dtype=dtype)

    def load_weights(self, module, arrays: dict[str, np.ndarray]) -> None:
        module.load_state_dict(dict(arrays))

    def weights(self, module) -> dict[str, np.ndarray]:
        return {k: self.to_numpy(v) for k, v in module.state_dict().items()}

    def clip_weights_(self, params, clip_value: float) -> None:
        self.optim.clip_weights_(params, clip_value)

    def manual_seed(self, seed: int) -> None:
        self.mg.manual_seed(seed)


class TorchFramework:
    """PyTorch on CPU (``backend='numpy'``) or CUDA (``backend='cupy'``)."""

    name = "pytorch"

    def __init__(self, backend: str = "numpy", threads: int | None = None):
        import torch
        import torch.nn.functional as F
        from torch import nn, optim

        self.torch, self.nn, self.F, self.optim = torch, nn, F, optim
        self.backend = backend
        self.device = "cuda" if backend == "cupy" else "cpu"
        self.version = torch.__version__
        if threads is not None:
            torch.set_num_threads(threads)
        if self.device == "cuda":  # full float32 on both sides: cuDNN convs default to TF32
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False

    def tensor(self, array: np.ndarray, requires_grad: bool = False):
        t = self.torch.from_numpy(np.ascontiguousarray(array)).clone().to(self.device)
        return t.requires_grad_(requires_grad)

    def to_numpy(self, t) -> np.ndarray:
        return t.detach().cpu().numpy().copy()

    def synchronize(self) -> None:
        if self.device == "cuda":
            self.torch.cuda.synchronize()

    def reset_peak_device_memory(self) -> None:
        if self.device == "cuda":
            self.torch.cuda.reset_peak_memory_stats()

    def peak_device_memory(self) -> int | None:
        if self.device != "cuda":
            return None
        return int(self.torch.cuda.max_memory_allocated())

    def grad(self, outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
             allow_unused=False):
        return self.torch.autograd.grad(outputs, inputs, grad_outputs=grad_outputs,
                                        retain_graph=retain_graph, create_graph=create_graph,
                                        allow_unused=allow_unused)

    def no_grad(self):
        return self.torch.no_grad()

    def same_conv2d(self, cin: int, cout: int, kernel: int, stride: int):
        F = self.F

        class SameConv2d(self.nn.Conv2d):
            """Conv2d with TensorFlow's SAME padding, padded explicitly (asymmetric)."""

            def forward(self, x):
                (kh, kw), (sh, sw) = self.kernel_size, self.stride
                top, bottom = same_padding(x.shape[2], kh, sh)
                left, right = same_padding(x.shape[3], kw, sw)
                if top or bottom or left or right:
                    x = F.pad(x, (left, right, top, bottom))
                return F.conv2d(x, self.weight, self.bias, self.stride)

        return SameConv2d(cin, cout, kernel, stride=stride)

    def same_conv_transpose2d(self, cin: int, cout: int, kernel: int, stride: int):
        F = self.F

        class SameConvTranspose2d(self.nn.ConvTranspose2d):
            """TensorFlow's conv2d_transpose SAME: out = in * stride (see the module docstring)."""

            def forward(self, x):
                (kh, kw), (sh, sw) = self.kernel_size, self.stride
                out_h, out_w = x.shape[2] * sh, x.shape[3] * sw
                top, _ = same_padding(out_h, kh, sh)
                left, _ = same_padding(out_w, kw, sw)
                y = F.conv_transpose2d(x, self.weight, self.bias, self.stride, (top, left))
                return y[:, :, :out_h, :out_w]

        return SameConvTranspose2d(cin, cout, kernel, stride=stride)

    def crop(self, size: int):
        return _crop_module(self.nn.Module, size)

    def place(self, module, dtype: str):
        return module.to(device=self.device, dtype=getattr(self.torch, dtype))

    def load_weights(self, module, arrays: dict[str, np.ndarray]) -> None:
        module.load_state_dict({k: self.torch.from_numpy(np.ascontiguousarray(v))
                                for k, v in arrays.items()})

    def weights(self, module) -> dict[str, np.ndarray]:
        return {k: self.to_numpy(v) for k, v in module.state_dict().items()}

    def clip_weights_(self, params, clip_value: float) -> None:
        with self.torch.no_grad():
            for p in params:
                p.clamp_(-clip_value, clip_value)

    def manual_seed(self, seed: int) -> None:
        self.torch.manual_seed(seed)


def _crop_module(module_base, size: int):
    class Crop(module_base):
        """Keep the top-left ``size`` x ``size`` pixels (the paper's 8x8 -> 7x7 crop)."""

        def __init__(self):
            super().__init__()
            self.size = size

        def forward(self, x):
            return x[:, :, :self.size, :self.size]

    return Crop()


def make_framework(name: str, backend: str = "numpy", threads: int | None = None) -> Any:
    """``'minigrad'`` or ``'pytorch'`` on ``backend`` ('numpy' = CPU, 'cupy' = CUDA)."""
    if name == "minigrad":
        return MinigradFramework(backend)
    if name == "pytorch":
        return TorchFramework(backend, threads)
    raise ValueError(f"unknown framework {name!r}; expected one of {FRAMEWORKS}")
