"""Run our CUDA C kernels on the CPU: g++ builds the ``.cu`` text with ``cuda_host.h``.

``RawModule(code=src)`` stands in for ``cupy.RawModule``: ``get_function(name)`` returns
a callable launched as ``fn(grid, block, args, shared_mem=0)`` on NumPy arrays, so a
launcher written for CuPy runs unchanged on host memory. The threading model (one
std::thread per CUDA thread, blocks in turn, a std::barrier for ``__syncthreads``) is
described in ``cuda_host.h``.

Arguments follow CuPy's rules, and are checked where CuPy would silently pass the
wrong bytes: an ndarray (or None) fills a pointer parameter; a NumPy scalar is passed
in its own dtype, a Python int as int64 and a Python float as float64, and each must
match the parameter's C type exactly, so a ``float`` parameter needs ``numpy.float32``.

Every kernel of the source gets a generated trampoline
``int emu_launch_<name>(grid[3], block[3], void** args, char* error, size_t size)``
(the ``void**`` of cudaLaunchKernel). The shared library is cached by the hash of the
header, the source, the compiler and its flags in ``$MINIGRAD_CUDA_EMULATOR_CACHE`` or
``~/.cache/minigrad/cuda-emulator`` (a temp dir when that is not writable).
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["RawModule", "EmulatedFunction", "KernelParam", "parse_kernels", "compiler_available",
           "EmulatorBuildError"]

HEADER = Path(__file__).with_name("cuda_host.h")
CXX_FLAGS = ("-std=c++20", "-O2", "-fPIC", "-shared", "-pthread", "-ffp-contract=off",
             "-Wall", "-Wextra", "-Werror", "-Wno-unused-function")
MAX_THREADS_PER_BLOCK = 1024

#: C scalar types a kernel may take, and the NumPy dtype an argument must have for them
SCALAR_DTYPES = {
    "float": np.dtype(np.float32), "double": np.dtype(np.float64),
    "int": np.dtype(np.int32), "unsigned int": np.dtype(np.uint32),
    "long long": np.dtype(np.int64), "unsigned long long": np.dtype(np.uint64),
    "int32_t": np.dtype(np.int32), "int64_t": np.dtype(np.int64),
    "uint32_t": np.dtype(np.uint32), "uint64_t": np.dtype(np.uint64),
    "bool": np.dtype(np.bool_),
}
_QUALIFIERS = re.compile(r"\b(const|volatile|__restrict__)\b")
_KERNEL = re.compile(r'extern\s+"C"\s+__global__\s+void\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?'
                     r"(\w+)\s*\(([^)]*)\)")
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)


class EmulatorBuildError(RuntimeError):
    """g++ rejected a kernel source (the message holds its diagnostics)."""


@dataclass(frozen=True)
class KernelParam:
    """One kernel parameter: its C type as written, its name, and what it accepts."""

    ctype: str
    name: str

    @property
    def pointer_depth(self) -> int:
        return self.ctype.count("*")

    @property
    def base_type(self) -> str:
        """The type without qualifiers and stars: 'float' for ``const float* __restrict__``."""
        return " ".join(_QUALIFIERS.sub(" ", self.ctype).replace("*", " ").split())

    @property
    def alias_type(self) -> str:
        """The type as a C++ alias can spell it (``__restrict__`` dropped)."""
        return " ".join(self.ctype.replace("__restrict__", " ").split())


def parse_kernels(source: str) -> dict[str, tuple[KernelParam, ...]]:
    """The ``extern "C" __global__`` kernels of ``source``: name -> parameters in order."""
    kernels = {}
    for match in _KERNEL.finditer(_COMMENTS.sub(" ", source)):
        params = []
        for i, text in enumerate(p.strip() for p in match.group(2).split(",")):
            if not text or text == "void":
                continue
            found = re.match(r"(.*?)(\w+)$", text, re.S)
            if found is None or not found.group(1).strip():
                raise ValueError(f"kernel {match.group(1)}: cannot parse parameter {i} {text!r}")
            params.append(KernelParam(" ".join(found.group(1).split()), found.group(2)))
        kernels[match.group(1)] = tuple(params)
    return kernels


def compiler_available() -> bool:
    """Whether a g++ that accepts -std=c++20 (with <barrier>) is on PATH."""
    return _probe_compiler() is not None


@functools.cache
def _probe_compiler() -> str | None:
    cxx = shutil.which(os.environ.get("CXX", "g++"))
    if cxx is None:
        return None
    probe = subprocess.run([cxx, "-std=c++20", "-fsyntax-only", "-x", "c++", "-"],
                           input="#include <barrier>\nstd::barrier<> b(1);\n",
                           capture_output=True, text=True)
    return cxx if probe.returncode == 0 else None


def _cache_dir() -> Path:
    configured = os.environ.get("MINIGRAD_CUDA_EMULATOR_CACHE")
    base = (Path(configured) if configured else
            Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "minigrad" / "cuda-emulator")
    try:
        base.mkdir(parents=True, exist_ok=True)
        if os.access(base, os.W_OK):
            return base
    except OSError:
        pass
    fallback = Path(tempfile.gettempdir()) / f"minigrad-cuda-emulator-{os.getuid()}"
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


def _trampolines(kernels: dict[str, tuple[KernelParam, ...]], threaded: bool) -> str:
    """C++ entry points that unpack cudaLaunchKernel-style ``void** args`` per kernel."""
    parts = []
    for name, params in kernels.items():
        aliases = "".join(f"    using A{i} = {p.alias_type};\n"
                          f"    A{i} a{i} = *static_cast<A{i}*>(args[{i}]);\n" for i, p in enumerate(params))
        call_args = ", ".join(f"a{i}" for i in range(len(params)))
        parts.append(
            f'extern "C" int emu_launch_{name}(const unsigned int* grid, const unsigned int* block,\n'
            f"                                 void** args, char* error, std::size_t error_size) {{\n"
            f"    (void)args;\n{aliases}"
            f"    return emu::launch(dim3{{grid[0], grid[1], grid[2]}},\n"
            f"                       dim3{{block[0], block[1], block[2]}}, {str(threaded).lower()},\n"
            f"                       [=] {{ {name}({call_args}); }}, error, error_size);\n}}\n")
    return "\n".join(parts)


def _defines(options) -> list[str]:
    """The -D options of an NVRTC option list (the rest: arch, fmad, std; g++ has its own)."""
    return [o for o in options if o.startswith("-D")]


class RawModule:
    """``cupy.RawModule(code=..., options=...)`` for host memory, built with g++.

    ``options``: NVRTC options; ``-DNAME=VALUE`` ones are passed on to g++, the rest
    ignored (the build always uses IEEE float math without FMA contraction, which is
    what ``--fmad=false`` asks of the GPU).
    """

    def __init__(self, code: str, options: tuple[str, ...] = (), name: str = "kernel.cu"):
        self.kernels = parse_kernels(code)
        if not self.kernels:
            raise ValueError(f"{name}: no extern \"C\" __global__ kernels found")
        cxx = _probe_compiler()
        if cxx is None:
            raise EmulatorBuildError("the CUDA emulator needs g++ with -std=c++20 (<barrier>) on PATH")
        # a source without barriers runs each block's threads in turn, on one OS thread
        threaded = "__syncthreads" in _COMMENTS.sub(" ", code)
        unit = (f'#include "{HEADER}"\n#line 1 "{name}"\n{code}\n'
                f'#line 1 "{name}.trampolines"\n{_trampolines(self.kernels, threaded)}')
        flags = (*CXX_FLAGS, *_defines(options))
        self._lib = ctypes.CDLL(str(self._build(cxx, unit, flags, name)))
        self._functions = {}

    @staticmethod
    def library_path(cxx: str, unit: str, flags: tuple[str, ...], name: str) -> Path:
        """Where the build of ``unit`` is cached: keyed by header, unit, flags and compiler."""
        version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout
        key = hashlib.sha256("\0".join((HEADER.read_text(), unit, " ".join(flags), version))
                             .encode()).hexdigest()[:24]
        return _cache_dir() / f"{Path(name).stem}-{key}.so"

    @classmethod
    def _build(cls, cxx: str, unit: str, flags: tuple[str, ...], name: str) -> Path:
        library = cls.library_path(cxx, unit, flags, name)
        if library.exists():
            return library
        with tempfile.TemporaryDirectory(dir=library.parent) as work:
            source = Path(work) / "unit.cpp"
            source.write_text(unit)
            built = Path(work) / "unit.so"
            result = subprocess.run([cxx, *flags, str(source), "-o", str(built)],
                                    capture_output=True, text=True)
            if result.returncode != 0:
                raise EmulatorBuildError(f"g++ failed on {name}:\n{result.stderr}")
            os.replace(built, library)  # atomic: a concurrent build of the same key is identical
        return library

    def get_function(self, name: str) -> "EmulatedFunction":
        if name not in self.kernels:
            raise AttributeError(f"no kernel {name!r} in this module; it has {sorted(self.kernels)}")
        if name not in self._functions:
            entry = getattr(self._lib, f"emu_launch_{name}")
            entry.restype = ctypes.c_int
            entry.argtypes = [ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_uint),
                              ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p, ctypes.c_size_t]
            self._functions[name] = EmulatedFunction(name, self.kernels[name], entry)
        return self._functions[name]


def _dims(what: str, value) -> tuple[int, int, int]:
    dims = (value,) if isinstance(value, (int, np.integer)) else tuple(value)
    if not 1 <= len(dims) <= 3 or any(not isinstance(d, (int, np.integer)) or d < 1 for d in dims):
        raise ValueError(f"{what} must be a positive int or 1-3 positive ints, got {value!r}")
    return tuple(int(d) for d in dims) + (1,) * (3 - len(dims))


class EmulatedFunction:
    """A kernel of a :class:`RawModule`, launched as ``fn(grid, block, args, shared_mem=0)``."""

    def __init__(self, name: str, params: tuple[KernelParam, ...], entry):
        self.name, self.params, self._entry = name, params, entry

    def __call__(self, grid, block, args, *, shared_mem: int = 0, stream=None) -> None:
        grid3, block3 = _dims("grid", grid), _dims("block", block)
        if int(np.prod(block3)) > MAX_THREADS_PER_BLOCK:
            raise ValueError(f"{self.name}: block {block3} has more than {MAX_THREADS_PER_BLOCK} threads")
        if shared_mem:
            raise ValueError(f"{self.name}: dynamic shared memory is not emulated; "
                             "use fixed-size __shared__ arrays")
        args = tuple(args)
        if len(args) != len(self.params):
            raise TypeError(f"{self.name} takes {len(self.params)} arguments "
                            f"({', '.join(p.name for p in self.params)}), got {len(args)}")
        slots = [self._slot(p, a) for p, a in zip(self.params, args)]
        pointers = (ctypes.c_void_p * max(len(slots), 1))(*(ctypes.addressof(s) for s in slots))
        error = ctypes.create_string_buffer(512)
        status = self._entry((ctypes.c_uint * 3)(*grid3), (ctypes.c_uint * 3)(*block3),
                             pointers, error, len(error))
        if status != 0:
            raise RuntimeError(f"{self.name}: {error.value.decode(errors='replace')}")

    def _slot(self, param: KernelParam, value):
        """A ctypes object holding the bytes CuPy would pass for ``value``, after the checks."""
        where = f"{self.name}: argument {param.name!r} ({param.ctype})"
        if param.pointer_depth:
            return ctypes.c_void_p(self._address(where, param, value))
        expected = SCALAR_DTYPES.get(param.base_type)
        if expected is None:
            raise TypeError(f"{where}: the emulator does not know this parameter type")
        if isinstance(value, np.ndarray):
            raise TypeError(f"{where} is a scalar parameter, got an array of shape {value.shape}")
        if isinstance(value, (bool, int)):
            value = np.int64(value)  # CuPy: every Python int (and bool) is passed as int64
        elif isinstance(value, float):
            value = np.float64(value)  # CuPy: every Python float is passed as a C double
        if not isinstance(value, np.generic):
            raise TypeError(f"{where}: unsupported argument type {type(value).__name__}")
        if value.dtype != expected:
            raise TypeError(f"{where} needs numpy.{expected.name}, got {value.dtype} "
                            f"({type(value).__name__}); CuPy would pass the wrong bytes")
        return ctypes.create_string_buffer(value.tobytes(), value.dtype.itemsize)

    @staticmethod
    def _address(where: str, param: KernelParam, value) -> int | None:
        if value is None:
            return None
        if not isinstance(value, np.ndarray):
            raise TypeError(f"{where} is a pointer: pass a NumPy array or None, "
                            f"got {type(value).__name__}")
        if not value.flags.c_contiguous:
            raise ValueError(f"{where}: the array must be C-contiguous (shape {value.shape}, "
                             f"strides {value.strides})")
        if param.pointer_depth == 1 and param.base_type in SCALAR_DTYPES:
            expected = SCALAR_DTYPES[param.base_type]
            if value.dtype != expected:
                raise TypeError(f"{where} needs a {expected.name} array, got {value.dtype}")
        elif param.pointer_depth > 1 and value.dtype not in (np.dtype(np.uint64), np.dtype(np.int64)):
            raise TypeError(f"{where} is a pointer table: pass a uint64 array of addresses, "
                            f"got {value.dtype}")
        return value.ctypes.data
