"""Runs the Numba CUDA kernel cases (numba_cudasim_cases.py) in a process of their own:
under Numba's CUDA simulator always, and on a GPU (marked ``gpu``) when there is one.
Numba reads NUMBA_ENABLE_CUDASIM once, when it is imported, hence the separate process."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kernels.cuda_targets import cuda_device_available

CASES = Path(__file__).with_name("numba_cudasim_cases.py")
ROOT = Path(__file__).resolve().parents[2]


def _run_cases(simulate: bool) -> subprocess.CompletedProcess:
    path = [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path), NUMBA_ENABLE_CUDASIM="1" if simulate else "0")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(CASES)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("simulate", [
    True,
    pytest.param(False, marks=[pytest.mark.gpu, pytest.mark.skipif(
        not cuda_device_available(), reason="needs CuPy, numba-cuda and a CUDA device")]),
], ids=["simulator", "gpu"])
def test_numba_cuda_kernels(simulate):
    result = _run_cases(simulate)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-2000:]
