"""Thread pinning that has to happen before NumPy (OpenBLAS), Numba or PyTorch are imported.

OpenBLAS reads OPENBLAS_NUM_THREADS once, when its library is loaded by ``import numpy``;
Numba reads NUMBA_NUM_THREADS when it is imported; PyTorch's OpenMP pool reads
OMP_NUM_THREADS (and is also set with ``torch.set_num_threads`` later). So the entry modules
call :func:`pin_threads_from_argv` first thing, before any of those imports. This module
imports nothing but the standard library.
"""
from __future__ import annotations

import os
import sys

THREAD_VARIABLES = (
    "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
)
DEFAULT_THREADS = 2


def threads_from_argv(argv: list[str]) -> int:
    """The value of ``--threads N`` / ``--threads=N`` in ``argv`` (default 2)."""
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
    return DEFAULT_THREADS


def pin_threads(threads: int) -> dict[str, object]:
    """Set the thread variables to ``threads``; say whether the libraries will see them.

    Returns ``{'threads': n, 'numpy_imported_before': bool, 'numba_imported_before': bool}``;
    when a library was already imported (e.g. the harness called in-process by a test), its
    variable came too late and the report says so.
    """
    if threads < 1:
        raise SystemExit(f"--threads must be >= 1, got {threads}")
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    return {
        "threads": threads,
        "numpy_imported_before": "numpy" in sys.modules,
        "numba_imported_before": "numba" in sys.modules,
    }


def pin_threads_from_argv(argv: list[str] | None = None) -> dict[str, object]:
    """:func:`pin_threads` with the ``--threads`` value of the command line."""
    return pin_threads(threads_from_argv(sys.argv[1:] if argv is None else argv))
