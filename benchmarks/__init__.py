"""minigrad vs PyTorch benchmarks: ``python -m benchmarks.step`` (training iterations),
``python -m benchmarks.ops`` (single ops), ``python -m benchmarks.blas`` (GEMM kernels),
``python -m benchmarks.profile_step`` (where the critic iteration's time goes). See README.md.

Nothing is imported here: the entry modules must set the thread variables before NumPy loads.
"""
