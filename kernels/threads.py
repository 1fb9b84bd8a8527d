"""Thread pinning that has to happen before NumPy (OpenBLAS), Numba or PyTorch are imported.

Used by the benchmarks (``--threads``, default 2) and by ``python -m wgan.train --threads``
(default 1, so that two runs sharing a machine do not oversubscribe its cores).

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


def pin_threads_for_training(argv: list[str], default: int = 1) -> int | None:
    """Pin for ``python -m wgan.train``: ``--threads N`` sets every thread variable to N;
    without it, each variable the environment does not set gets ``default``.

    OpenBLAS and Numba busy-wait in their pools, so two runs of 2 threads on 2 cores run
    about 20 times slower each; 1 thread each runs them at full speed. A value that is not a
    positive integer is left to argparse, which reports it. Returns the ``--threads`` value
    given, or None."""
    try:
        given = threads_from_argv(argv) if _gives_threads(argv) else None
    except ValueError:
        given = None
    if given is not None and given < 1:
        given = None
    for name in THREAD_VARIABLES:
        if given is not None:
            os.environ[name] = str(given)
        else:
            os.environ.setdefault(name, str(default))
    return given


def _gives_threads(argv: list[str]) -> bool:
    return any(a == "--threads" or a.startswith("--threads=") for a in argv)


def thread_settings() -> dict[str, str | None]:
    """The thread variables as this process sees them (recorded in a run's config.json)."""
    return {name: os.environ.get(name) for name in THREAD_VARIABLES}
