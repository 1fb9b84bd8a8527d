"""Random numbers: ``Generator`` objects (one per device, as in PyTorch) and default ones
seeded by ``manual_seed``.

A generator is created for a device and draws with that device's stream:

* ``Generator(seed)`` (the CPU): NumPy's PCG64 on the host; a draw for a GPU tensor is made
  on the host and copied over, so a CPU generator gives the same numbers on every device.
* ``Generator(seed, device='cuda')``: Philox4x32-10 (``kernels/cuda/random.cu``) computed on
  the GPU, one kernel launch per draw and no host-to-device copy. Its state is the seed and a
  counter, and the CPU can compute the same stream (its NumPy twin), so a GPU checkpoint
  continues on the CPU and back.

The CPU and GPU streams differ: the same seed gives different numbers on a CPU and on a GPU
generator. Each is reproducible on its own. A generator's state is plain data
(``get_state``/``set_state``, which also switches the stream kind to the state's), so it
checkpoints without pickle.
"""
from __future__ import annotations

import math

import numpy

from ._device import CPU, as_device
from .backends import backend_for_device
from .tensor import DEFAULT_DTYPE, Tensor, as_dtype, _shape_arg

PHILOX = "Philox4x32-10"
_ELEMENTS_PER_BLOCK = {("uniform", 4): 4, ("uniform", 8): 2, ("normal", 4): 2, ("normal", 8): 1}


class Generator:
    """A reproducible random stream: PCG64 for the CPU, Philox on a GPU (see the module)."""

    def __init__(self, seed: int | None = None, device=None):
        self.device = as_device(device) or CPU
        if self.device.type == "cuda":
            backend_for_device(self.device)  # the clear error now, without CuPy or a GPU
        self.manual_seed(seed)

    def manual_seed(self, seed: int | None) -> Generator:
        if seed is None:
            seed = int(numpy.random.SeedSequence().generate_state(1, numpy.uint64)[0])
        self._initial_seed = int(seed)
        if self.device.type == "cuda":
            self._rng, self._seed, self._offset = None, int(seed) % 2 ** 64, 0
        else:
            self._rng = numpy.random.Generator(numpy.random.PCG64(seed))
        return self

    def initial_seed(self) -> int:
        """The seed of the last ``manual_seed`` (or construction), as torch's."""
        return self._initial_seed

    @property
    def numpy_generator(self) -> numpy.random.Generator:
        if self._rng is None:
            raise RuntimeError(f"a generator on {self.device} draws with Philox, not a NumPy generator")
        return self._rng

    def get_state(self) -> dict:
        """The state as plain data; 64/128-bit integers are stored as decimal strings."""
        if self._rng is None:
            return {"bit_generator": PHILOX, "seed": str(self._seed), "offset": str(self._offset)}
        st = self._rng.bit_generator.state
        return {
            "bit_generator": st["bit_generator"],
            "state": str(st["state"]["state"]),
            "inc": str(st["state"]["inc"]),
            "has_uint32": int(st["has_uint32"]),
            "uinteger": int(st["uinteger"]),
        }

    def set_state(self, state: dict) -> None:
        """Restore ``get_state()``'s data, of either stream kind (a CPU checkpoint's PCG64
        state on a GPU generator continues that host stream, and a GPU's Philox on the CPU)."""
        kind = state.get("bit_generator")
        if kind == PHILOX:
            self._rng, self._seed, self._offset = None, int(state["seed"]), int(state["offset"])
            return
        if kind != "PCG64":
            raise ValueError(f"generator state is for {kind!r}, expected 'PCG64' or {PHILOX!r}")
        self._rng = numpy.random.Generator(numpy.random.PCG64(0))
        self._rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int(state["state"]), "inc": int(state["inc"])},
            "has_uint32": int(state["has_uint32"]),
            "uinteger": int(state["uinteger"]),
        }

    def _draw(self, kind: str, shape: tuple, dtype: numpy.dtype, device) -> Tensor:
        """A float tensor of ``kind`` ('uniform' or 'normal') on ``device`` (None: this
        generator's), with no graph."""
        target = self.device if device is None else as_device(device)
        backend = backend_for_device(target)
        if self._rng is not None:  # the host stream, drawn in float64 and rounded, then copied
            host = self._rng.random(shape) if kind == "uniform" else self._rng.standard_normal(shape)
            return Tensor._leaf(backend.place(host.astype(dtype, copy=False), target))
        width = 4 if dtype == numpy.float32 else 8
        with backend.on(target):
            array = backend.kernels.philox(backend.xp, kind, shape, dtype if width == 4 else numpy.float64,
                                           self._seed, self._offset)
        self._offset += math.ceil(math.prod(shape) / _ELEMENTS_PER_BLOCK[(kind, width)])
        return Tensor._leaf(array if width == 4 or array.dtype == dtype else array.astype(dtype))


default_generator = Generator(0)
_default_cuda_generators: dict[int, Generator] = {}
_seed = 0


def manual_seed(seed: int) -> Generator:
    """Seed the default generators of every device (used when no ``generator=`` is passed);
    returns the CPU's."""
    global _seed
    _seed = seed
    for generator in _default_cuda_generators.values():
        generator.manual_seed(seed)
    return default_generator.manual_seed(seed)


def default_generator_for(device) -> Generator:
    """The default generator of ``device``: the CPU's, or that GPU's (made on first use)."""
    target = as_device(device)
    if target is None or target.type == "cpu":
        return default_generator
    index = 0 if target.index is None else target.index
    if index not in _default_cuda_generators:
        _default_cuda_generators[index] = Generator(_seed, device=f"cuda:{index}")
    return _default_cuda_generators[index]


def _float(kind, shape, generator, dtype, requires_grad, device) -> Tensor:
    dtype = as_dtype(dtype) or numpy.dtype(DEFAULT_DTYPE)
    if dtype.kind != "f":
        raise TypeError(f"random floats need a floating dtype, got {dtype}")
    generator = generator or default_generator_for(device)
    _check_device(generator, device)
    out = generator._draw(kind, _shape_arg(shape), dtype, device)
    return out.requires_grad_() if requires_grad else out


def _check_device(generator: Generator, device) -> None:
    """A GPU generator draws for its own GPU or (computing its stream on the host) the CPU;
    a CPU generator for any device."""
    target = as_device(device)
    if generator._rng is None and target is not None and target.type == "cuda" and target != generator.device:
        raise RuntimeError(f"a generator on {generator.device} cannot draw for device {target}")


def rand(*shape, generator=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Uniform on [0, 1)."""
    return _float("uniform", shape, generator, dtype, requires_grad, device)


def randn(*shape, generator=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Standard normal."""
    return _float("normal", shape, generator, dtype, requires_grad, device)


def randint(low, high=None, size=(), generator=None, dtype="int64", device=None) -> Tensor:
    """Integers in [low, high) (on a GPU generator: floor of a float64 uniform draw scaled)."""
    if high is None:
        low, high = 0, low
    size = _shape_arg((size,))
    generator = generator or default_generator_for(device)
    _check_device(generator, device)
    if generator._rng is not None:
        target = as_device(device) or generator.device
        host = generator._rng.integers(low, high, size=size).astype(as_dtype(dtype), copy=False)
        return Tensor._leaf(backend_for_device(target).place(host, target))
    u = generator._draw("uniform", size, numpy.dtype(numpy.float64), device).array
    xp = backend_for_device(as_device(device) or generator.device).xp
    return Tensor._leaf(xp.floor(u * (high - low) + low).astype(as_dtype(dtype)))


def randn_like(t: Tensor, generator=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    return randn(*t.shape, generator=generator, dtype=dtype or t.dtype,
                 requires_grad=requires_grad, device=t.device if device is None else device)


def rand_like(t: Tensor, generator=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    return rand(*t.shape, generator=generator, dtype=dtype or t.dtype,
                requires_grad=requires_grad, device=t.device if device is None else device)


def _host_stream(generator: Generator | None, device) -> numpy.random.Generator | None:
    """The NumPy generator of ``generator`` (default: ``device``'s), or None for a Philox one:
    for draws written with NumPy's distributions (nn.init, ``normal_``), which the CPU keeps."""
    generator = generator or default_generator_for(device)
    _check_device(generator, device)
    return generator._rng


def _placed(host: numpy.ndarray, dtype, device) -> Tensor:
    """A host draw as a tensor of ``dtype`` on ``device``."""
    target = as_device(device)
    return Tensor._leaf(backend_for_device(target).place(host.astype(dtype, copy=False), target))
