"""Compile checks of every kernels/cuda/*.cu for sm_90 (H100/H200), without a GPU:

* nvcc -cubin -Xptxas -v (warnings are errors): no register spills, modest register use;
* NVRTC, what cupy.RawModule compiles with at run time: the same to a cubin, and to PTX,
  in which a float32 kernel must hold no float64 instruction and a --fmad=false source no
  fused multiply-add, and whose kernels are the ones the emulator's parser finds.

Each skips with its reason when its compiler is missing.
"""
from __future__ import annotations

import re

import pytest

from kernels import emulator
from kernels.cuda_kernels import MODULE_OPTIONS, SOURCE_DIR
from tests.kernels import cuda_toolchain as tc

SOURCES = sorted(p.name for p in SOURCE_DIR.glob("*.cu"))
#: a kernel above this many registers per thread limits occupancy for no good reason here
MAX_REGISTERS = 64


def test_every_source_has_build_options():
    assert SOURCES and set(SOURCES) == set(MODULE_OPTIONS)


def _check_usage(name: str, usage: dict[str, tc.EntryUsage], compiler: str):
    assert usage, f"{compiler} reported no kernels for {name}"
    for entry, use in usage.items():
        assert use.spill_stores == 0 and use.spill_loads == 0, f"{compiler}: {entry} spills registers: {use}"
        assert use.registers <= MAX_REGISTERS, f"{compiler}: {entry} uses {use.registers} registers"


@pytest.mark.skipif(tc.nvcc_path() is None, reason="nvcc not found (CUDA toolkit not installed)")
@pytest.mark.parametrize("name", SOURCES)
def test_nvcc_compiles_without_spills(name):
    report = tc.nvcc_cubin_report(SOURCE_DIR / name, MODULE_OPTIONS[name])
    _check_usage(name, tc.ptxas_usage(report), "nvcc")


needs_nvrtc = pytest.mark.skipif(
    tc.nvrtc() is None, reason="NVRTC not found (pip install nvidia-cuda-nvrtc, the cuda-check extra)")


@needs_nvrtc
@pytest.mark.parametrize("name", SOURCES)
def test_nvrtc_compiles_without_spills_and_float32_kernels_use_no_double(name):
    code, options = (SOURCE_DIR / name).read_text(), MODULE_OPTIONS[name]
    log, cubin = tc.nvrtc_compile(code, name,
                                  (*options, f"--gpu-architecture={tc.ARCH}", "--ptxas-options=-v"))
    assert cubin.startswith(b"\x7fELF")
    _check_usage(name, tc.ptxas_usage(log), "NVRTC")
    _, ptx = tc.nvrtc_compile(code, name, (*options, "--gpu-architecture=compute_90"))
    entries = tc.ptx_entries(ptx.decode())
    assert set(entries) == set(emulator.parse_kernels(code))  # the emulator sees the same kernels
    for entry, body in entries.items():
        if entry.endswith("_f32"):
            assert not re.search(r"\.f64\b", body), f"{entry} computes in double:\n{body}"
        if "--fmad=false" in options:  # what makes optim.cu match NumPy bit for bit
            assert not re.search(r"\bfma\.", body), f"{entry} fuses a multiply-add"


@needs_nvrtc
def test_nvrtc_is_the_cuda_13_0_release():
    # CUDA 13.0's driver (the GPU machines') rejects PTX from a newer NVRTC
    assert tc.nvrtc_version() == (13, 0)


def test_ptxas_report_parser():
    log = ("ptxas info    : Compiling entry function 'k_f32' for 'sm_90'\n"
           "ptxas info    : Function properties for k_f32\n"
           "ptxas         .     8 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads\n"
           "ptxas info    : Used 255 registers, used 1 barriers\n")
    assert tc.ptxas_usage(log) == {"k_f32": tc.EntryUsage(255, 4, 4, 8)}
    with pytest.raises(AssertionError, match="spills registers"):
        _check_usage("x.cu", tc.ptxas_usage(log), "nvcc")
