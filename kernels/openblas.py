"""A one-time touch of OpenBLAS's GEMM packing buffer (NumPy's BLAS), done when minigrad loads.

OpenBLAS maps a 32 MB buffer for its packed panels on the first GEMM of a process and touches
only the pages each call packs into. Until a GEMM with a wide enough panel has touched the
rest, the kernel's reads ahead land on pages that are not mapped yet, and on a virtual machine
each such miss is a slow nested page walk. Measured on the 2-core EPYC VM, one BLAS thread
(benchmarks/NOTES.md, "OpenBLAS's cold buffer"):

* the MLP's (64, 784) @ (784, 128) took 830 us instead of 380;
* the critic's (3136, 1600) @ (1600, 128) took 250 ms instead of 60-80.

They never recover on their own: no GEMM of the MLP WGAN has a wide enough panel. With
transparent huge pages on for the buffer the slowdown is gone as well. One (64, 1024) @
(1024, 1024) float64 product, about 20 ms once, touches it all; any BLAS is unharmed by it.
"""
from __future__ import annotations

import numpy as np


def prefault_blas_buffer() -> None:
    """One GEMM with a panel as wide as OpenBLAS's packing buffer (float64, 0.13 GFLOP)."""
    np.ones((64, 1024)) @ np.ones((1024, 1024))
