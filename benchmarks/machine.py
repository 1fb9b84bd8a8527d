"""What the numbers were measured on: CPU, cores, library versions, BLAS and its kernel.

NumPy's wheels bundle scipy-openblas, whose kernel is picked at load time from the CPU
(DYNAMIC_ARCH) unless OPENBLAS_CORETYPE names one; ``openblas_info`` asks the loaded library
itself (``scipy_openblas_get_corename64_``), which is the only reliable answer: NumPy's
``show_config`` prints the build machine's kernel, not this one's.
"""
from __future__ import annotations

import ctypes
import datetime as _dt
import glob
import os
import platform
import re
import sys

import numpy as np

from kernels.threads import THREAD_VARIABLES


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """The SIMD flags that matter for GEMM kernels (avx2, fma, avx512*)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return sorted(x for x in line.split(":", 1)[1].split()
                                  if x in ("avx2", "fma") or x.startswith("avx512"))
    except OSError:
        pass
    return []


def _openblas_library() -> str | None:
    libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    found = sorted(glob.glob(os.path.join(libs, "libscipy_openblas*.so*")))
    return os.path.realpath(found[0]) if found else None


def _symbol(lib, names):
    for name in names:
        fn = getattr(lib, name, None)
        if fn is not None:
            return fn
    return None


def openblas_info() -> dict[str, object]:
    """Kernel (corename), build config and thread count of the OpenBLAS NumPy loaded."""
    path = _openblas_library()
    if path is None:
        return {"library": None, "note": "NumPy has no bundled scipy-openblas here"}
    lib = ctypes.CDLL(path)
    info: dict[str, object] = {"library": os.path.basename(path)}
    for key, stem in (("corename", "get_corename"), ("config", "get_config")):
        fn = _symbol(lib, [f"scipy_openblas_{stem}64_", f"scipy_openblas_{stem}",
                           f"openblas_{stem}64_", f"openblas_{stem}"])
        if fn is not None:
            fn.restype = ctypes.c_char_p
            info[key] = fn().decode()
    fn = _symbol(lib, ["scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
                       "openblas_get_num_threads64_", "openblas_get_num_threads"])
    if fn is not None:
        fn.restype = ctypes.c_int
        info["threads"] = fn()
    return info


def torch_info(torch) -> dict[str, object]:
    info = {
        "version": torch.__version__,
        "num_threads": torch.get_num_threads(),
        "num_interop_threads": torch.get_num_interop_threads(),
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "cpu_capability": _cpu_capability(torch),
        "parallel_info": torch.__config__.parallel_info(),
        "config": torch.__config__.show(),
    }
    if torch.cuda.is_available():
        info["cuda_device"] = torch.cuda.get_device_name()
        info["cuda_version"] = torch.version.cuda
    return info


def _cpu_capability(torch) -> str | None:
    try:
        return torch.backends.cpu.get_cpu_capability()
    except AttributeError:  # older PyTorch
        return None


def machine_info(backend: str, threads: dict, torch=None) -> dict[str, object]:
    """Everything the report header needs; ``torch`` is the imported module or None."""
    import numba

    import minigrad

    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    info: dict[str, object] = {
        "date": _dt.date.today().isoformat(),
        "time": _dt.datetime.now().isoformat(timespec="seconds"),
        "host": platform.node(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_flags": cpu_flags(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": affinity,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "numba": numba.__version__,
        "minigrad": minigrad.__version__,
        "backend": backend,
        "threads": threads,
        "thread_env": {k: os.environ.get(k) for k in (*THREAD_VARIABLES, "OPENBLAS_CORETYPE")},
        "openblas": openblas_info(),
        "conv_impl": _conv_impl(),
    }
    if torch is not None:
        info["torch"] = torch_info(torch)
    if backend == "cupy":
        import cupy

        info["cupy"] = cupy.__version__
        info["gpu"] = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    return info


def _conv_impl() -> str | None:
    try:
        from kernels import dispatch
    except ImportError:
        return None
    return dispatch.for_backend("numpy").impl


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-")


def machine_kind(info: dict) -> str:
    """A short file-name-safe name for the machine: ``cpu-<model>-<n>c`` or ``cuda-<gpu>``."""
    if info.get("backend") == "cupy" and info.get("gpu"):
        return "cuda-" + slug(str(info["gpu"]))
    model = re.sub(r"\((r|tm)\)|\bcpu\b|\bprocessor\b|@", " ", str(info["cpu"]), flags=re.I)
    return f"cpu-{slug(model)}-{info.get('usable_cpus') or info.get('logical_cpus')}c"


def summary_lines(info: dict) -> list[str]:
    """The machine as a few Markdown bullet lines."""
    blas = info["openblas"]
    threads = info["threads"]
    lines = [
        f"- machine: {info['cpu']} ({info['usable_cpus']} usable of {info['logical_cpus']} "
        f"logical CPUs; {', '.join(info['cpu_flags']) or 'no AVX2/AVX-512'}), {info['platform']}",
        f"- load average at start (1/5/15 min): {info['load_average']}",
        f"- threads: {threads['threads']} (OPENBLAS/OMP/MKL/NUMBA_NUM_THREADS set before NumPy was "
        f"imported: {not threads['numpy_imported_before']}; torch.set_num_threads)",
        f"- Python {info['python']}, NumPy {info['numpy']}, Numba {info['numba']}, "
        f"minigrad {info['minigrad']} (conv im2col/col2im: {info['conv_impl']})",
        f"- NumPy BLAS: {blas.get('config', blas.get('note'))}; kernel in use: "
        f"**{blas.get('corename')}**, {blas.get('threads')} threads "
        f"(OPENBLAS_CORETYPE={info['thread_env'].get('OPENBLAS_CORETYPE')})",
    ]
    torch = info.get("torch")
    if torch:
        lines.append(
            f"- PyTorch {torch['version']}: {torch['num_threads']} threads, CPU capability "
            f"{torch['cpu_capability']}, oneDNN {'on' if torch['mkldnn'] else 'off'}"
            + (f", GPU {torch['cuda_device']}" if torch.get("cuda_device") else ""))
    if info.get("gpu"):
        lines.append(f"- CuPy {info['cupy']} on {info['gpu']}")
    return lines
