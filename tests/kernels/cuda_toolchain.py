"""nvcc and NVRTC for the compile checks of kernels/cuda/*.cu, without a GPU.

NVRTC is what ``cupy.RawModule`` compiles with at run time; it is loaded here with ctypes
from the ``nvidia-cuda-nvrtc`` wheel (the ``cuda-check`` extra) or a CUDA toolkit.
"""
from __future__ import annotations

import ctypes
import functools
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ARCH = "sm_90"


@dataclass(frozen=True)
class EntryUsage:
    """What ptxas -v reports for one kernel."""

    registers: int
    spill_stores: int
    spill_loads: int
    stack_frame: int


def ptxas_usage(log: str) -> dict[str, EntryUsage]:
    """Per-entry resource use from ``ptxas -v`` output (nvcc's stderr or NVRTC's log)."""
    usage = {}
    for chunk in re.split(r"Compiling entry function '", log)[1:]:
        name = chunk.split("'", 1)[0]
        frame = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads",
                          chunk)
        registers = re.search(r"Used (\d+) registers", chunk)
        if frame is None or registers is None:
            raise ValueError(f"cannot read ptxas' report for {name}:\n{chunk}")
        usage[name] = EntryUsage(int(registers.group(1)), int(frame.group(2)), int(frame.group(3)),
                                 int(frame.group(1)))
    return usage


def nvcc_path() -> str | None:
    return shutil.which("nvcc") or next(
        (str(p) for p in (Path(os.environ.get("CUDA_PATH", "/usr/local/cuda")) / "bin" / "nvcc",)
         if p.exists()), None)


def nvcc_cubin_report(path: Path, options: tuple[str, ...]) -> str:
    """Compiles ``path`` to an sm_90 cubin with ``-Xptxas -v``; returns ptxas' report."""
    with tempfile.TemporaryDirectory() as work:
        result = subprocess.run(
            [nvcc_path(), "-cubin", f"-arch={ARCH}", "-Xptxas", "-v", "-Werror", "all-warnings",
             *options, str(path), "-o", str(Path(work) / "out.cubin")],
            capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"nvcc failed on {path.name}:\n{result.stderr}")
    return result.stderr


def _nvrtc_candidates():
    spec = importlib.util.find_spec("nvidia")
    for root in (spec.submodule_search_locations or []) if spec else []:
        yield from sorted(Path(root).glob("cu13/lib/libnvrtc.so.*"))
        yield from sorted(Path(root).glob("cuda_nvrtc/lib/libnvrtc.so.*"))
    yield from sorted((Path(os.environ.get("CUDA_PATH", "/usr/local/cuda")) / "lib64").glob("libnvrtc.so.*"))


@functools.cache
def nvrtc():
    """The NVRTC library (ctypes), or None when none is installed."""
    for candidate in _nvrtc_candidates():
        if "builtins" in candidate.name or "alt" in candidate.name:
            continue
        for builtins in sorted(candidate.parent.glob("libnvrtc-builtins.so.*")):
            if "alt" not in builtins.name:  # NVRTC dlopens it by name: make it findable
                ctypes.CDLL(str(builtins), mode=ctypes.RTLD_GLOBAL)
        try:
            return ctypes.CDLL(str(candidate))
        except OSError:
            continue
    return None


def nvrtc_version() -> tuple[int, int]:
    major, minor = ctypes.c_int(), ctypes.c_int()
    nvrtc().nvrtcVersion(ctypes.byref(major), ctypes.byref(minor))
    return major.value, minor.value


def nvrtc_compile(code: str, name: str, options: tuple[str, ...]) -> tuple[str, bytes]:
    """Compiles with NVRTC; returns (log, the PTX or cubin). Raises AssertionError with
    the log when the compile fails."""
    lib = nvrtc()
    program = ctypes.c_void_p()
    _check(lib, lib.nvrtcCreateProgram(ctypes.byref(program), code.encode(), name.encode(), 0, None, None))
    try:
        encoded = [o.encode() for o in options]
        status = lib.nvrtcCompileProgram(program, len(encoded), (ctypes.c_char_p * len(encoded))(*encoded))
        log = _read(lib, program, "nvrtcGetProgramLogSize", "nvrtcGetProgramLog").decode(errors="replace")
        if status != 0:
            raise AssertionError(f"NVRTC failed on {name} with {options}:\n{log}")
        cubin = any(o.startswith(("--gpu-architecture=sm_", "-arch=sm_")) for o in options)
        output = (_read(lib, program, "nvrtcGetCUBINSize", "nvrtcGetCUBIN") if cubin
                  else _read(lib, program, "nvrtcGetPTXSize", "nvrtcGetPTX"))
        return log, output
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(program))


def _read(lib, program, size_name: str, get_name: str) -> bytes:
    size = ctypes.c_size_t()
    _check(lib, getattr(lib, size_name)(program, ctypes.byref(size)))
    buffer = ctypes.create_string_buffer(size.value)
    _check(lib, getattr(lib, get_name)(program, buffer))
    return buffer.raw[:size.value].rstrip(b"\0")


def _check(lib, status: int) -> None:
    if status != 0:
        lib.nvrtcGetErrorString.restype = ctypes.c_char_p
        raise AssertionError(f"NVRTC error {status}: {lib.nvrtcGetErrorString(status).decode()}")


def ptx_entries(ptx: str) -> dict[str, str]:
    """The body text of each ``.entry`` in a PTX listing."""
    return {m.group(1): m.group(0) for m in re.finditer(r"\.entry (\w+)\(.*?\n\}", ptx, re.S)}
