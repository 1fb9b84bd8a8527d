"""Random numbers: an explicit ``Generator`` and a default one seeded by ``manual_seed``.

Numbers are drawn on the host with NumPy's PCG64 and moved to the tensor's
device, so a seed gives the same stream on every backend. A generator's state
is plain data (``get_state``/``set_state``), so it checkpoints without pickle.
"""
from __future__ import annotations

import numpy

from ._device import as_device
from .backends import backend_for_device
from .tensor import DEFAULT_DTYPE, Tensor, as_dtype, _shape_arg


class Generator:
    """A reproducible random stream (PCG64)."""

    def __init__(self, seed: int | None = None):
        self._rng = numpy.random.Generator(numpy.random.PCG64(seed))

    def manual_seed(self, seed: int) -> Generator:
        self._rng = numpy.random.Generator(numpy.random.PCG64(seed))
        return self

    @property
    def numpy_generator(self) -> numpy.random.Generator:
        return self._rng

    def get_state(self) -> dict:
        """The state as plain data; 128-bit integers are stored as decimal strings."""
        st = self._rng.bit_generator.state
        return {
            "bit_generator": st["bit_generator"],
            "state": str(st["state"]["state"]),
            "inc": str(st["state"]["inc"]),
            "has_uint32": int(st["has_uint32"]),
            "uinteger": int(st["uinteger"]),
        }

    def set_state(self, state: dict) -> None:
        if state.get("bit_generator") != "PCG64":
            raise ValueError(f"generator state is for {state.get('bit_generator')!r}, expected 'PCG64'")
        self._rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int(state["state"]), "inc": int(state["inc"])},
            "has_uint32": int(state["has_uint32"]),
            "uinteger": int(state["uinteger"]),
        }


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (used when no ``generator=`` is passed)."""
    return default_generator.manual_seed(seed)


def _make(host: numpy.ndarray, dtype, requires_grad, device) -> Tensor:
    target = as_device(device)
    host = host.astype(as_dtype(dtype) or DEFAULT_DTYPE, copy=False)
    return Tensor._leaf(backend_for_device(target).place(host, target), requires_grad)


def _rng(generator: Generator | None) -> numpy.random.Generator:
    return (generator or default_generator).numpy_generator


def rand(*shape, generator=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Uniform on [0, 1)."""
    return _make(_rng(generator).random(_shape_arg(shape)), dtype, requires_grad, device)


def randn(*shape, generator=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Standard normal."""
    return _make(_rng(generator).standard_normal(_shape_arg(shape)), dtype, requires_grad, device)


def randint(low, high=None, size=(), generator=None, dtype="int64", device=None) -> Tensor:
    """Integers in [low, high)."""
    if high is None:
        low, high = 0, low
    host = _rng(generator).integers(low, high, size=_shape_arg((size,)))
    return _make(host, dtype, False, device)


def randn_like(t: Tensor, generator=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    return randn(*t.shape, generator=generator, dtype=dtype or t.dtype,
                 requires_grad=requires_grad, device=t.device if device is None else device)


def rand_like(t: Tensor, generator=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    return rand(*t.shape, generator=generator, dtype=dtype or t.dtype,
                requires_grad=requires_grad, device=t.device if device is None else device)
