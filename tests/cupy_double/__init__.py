"""A strict CuPy test double: NumPy underneath, CuPy's rules on top, and counters.

It lets the whole engine and the trainer run the cupy backend on a machine without a GPU,
and catches what would break or be slow on one:

* an array is a ``cupy.ndarray`` (its class's module is ``cupy``, so the engine's
  ``backend_of`` takes it for CuPy's) wrapping a NumPy array; views stay views;
* implicit host conversion is refused as CuPy refuses it: ``numpy.asarray(a)`` (``__array__``)
  raises TypeError; ``a.get()``, ``cupy.asnumpy(a)``, ``a.item()``, ``float(a)``, ``bool(a)``,
  ``a.tolist()`` and printing fetch explicitly and each counts as one device-to-host sync;
* a NumPy array (of any rank) given to a CuPy function or operator raises TypeError, as in
  CuPy; only ``cupy.asarray``/``cupy.array`` (and ``a.set``) take one, and each counts as a
  host-to-device copy (so do Python lists and tuples of numbers);
* every call that computes (a ufunc, a reduction, a copy, a RawModule kernel) counts as one
  kernel launch; views (reshape, transpose, basic slicing, as_strided, broadcast_to...) do not;
* a call whose array inputs are all float32 and whose result is float64 is recorded in
  ``counters.float64_from_float32`` (an explicit ``astype`` is not);
* ``RawModule(code=, options=)`` builds our CUDA C through the host emulator
  (:mod:`kernels.emulator`) and launches it with CuPy's ``fn(grid, block, args, shared_mem=)``.

Use :func:`installed` (a context manager; the ``cupy_double`` pytest fixture wraps it): it
puts the double in ``sys.modules['cupy']`` and resets minigrad's cached CuPy backend and
kernel set, and undoes both on exit. Nothing in minigrad knows about the double.
"""
from __future__ import annotations

import contextlib
import sys
import types
from dataclasses import dataclass, field

from .array import ndarray, unwrap, wrap
from .module import build_module


@dataclass
class Counters:
    """What the engine asked of the "device" since the last ``reset``."""

    syncs: int = 0                # device -> host fetches (.get, asnumpy, item, float, bool, ...)
    uploads: int = 0              # host -> device copies (asarray/array of host data)
    launches: int = 0             # kernels: ufuncs, reductions, copies, RawModule functions
    raw_launches: int = 0         # of which RawModule functions (our CUDA C kernels)
    float64_from_float32: list = field(default_factory=list)  # names of calls that promoted
    trace: bool = False           # when set, ``sites`` collects where each sync and upload came from
    sites: list = field(default_factory=list)

    def record(self, kind: str) -> None:
        if self.trace:
            import traceback

            frames = [f for f in traceback.extract_stack()[:-2] if "cupy_double" not in f.filename]
            self.sites.append((kind, " < ".join(f"{f.name}:{f.lineno}" for f in reversed(frames[-4:]))))

    def reset(self) -> None:
        self.syncs = self.uploads = self.launches = self.raw_launches = 0
        self.float64_from_float32.clear()
        self.sites.clear()

    def snapshot(self) -> tuple[int, int, int]:
        return self.syncs, self.uploads, self.launches


@contextlib.contextmanager
def installed():
    """The double as ``cupy`` (yields the module; its ``counters`` count), then the real state back."""
    import kernels.cuda_kernels as cuda_kernels
    import minigrad.backends as backends

    module = build_module(Counters())
    saved_modules = {name: sys.modules.get(name) for name in ("cupy",)}
    saved_backend = (backends._cupy_backend, backends._cupy_checked)
    sys.modules["cupy"] = module
    backends._cupy_backend, backends._cupy_checked = None, False
    _clear_kernel_caches(cuda_kernels)
    try:
        yield module
    finally:
        for name, value in saved_modules.items():
            if value is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = value
        backends._cupy_backend, backends._cupy_checked = saved_backend
        _clear_kernel_caches(cuda_kernels)


def _clear_kernel_caches(cuda_kernels: types.ModuleType) -> None:
    cuda_kernels.cupy_kernels.cache_clear()
    from kernels import dispatch

    if hasattr(dispatch.for_backend, "cache_clear"):
        dispatch.for_backend.cache_clear()


__all__ = ["Counters", "installed", "ndarray", "unwrap", "wrap"]
