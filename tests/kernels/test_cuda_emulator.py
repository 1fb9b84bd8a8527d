"""The host emulator itself (kernels.emulator): what it models of CUDA and the argument
rules of cupy.RawModule it enforces."""
from __future__ import annotations

import numpy as np
import pytest

from kernels import emulator

pytestmark = pytest.mark.skipif(not emulator.compiler_available(),
                                reason="the CUDA emulator needs g++ with -std=c++20")

SOURCE = r'''
#define THREADS 64

// block-wide reversal through shared memory: needs the barrier to be correct
extern "C" __global__ void reverse_blocks(const float* x, float* y) {
    __shared__ float tile[THREADS];
    const int base = blockIdx.x * THREADS;
    tile[threadIdx.x] = x[base + threadIdx.x];
    __syncthreads();
    y[base + threadIdx.x] = tile[THREADS - 1 - threadIdx.x];
}

// every thread of every block adds into a few counters
extern "C" __global__ void histogram(const int* bins, unsigned long long n, double* counts) {
    const unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) atomicAdd(&counts[bins[i]], 1.0);
}

// the index variables of a 3-D launch
extern "C" __global__ void coordinates(int* out) {
    const int block = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
    const int thread = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
    const int i = block * blockDim.x * blockDim.y * blockDim.z + thread;
    out[4 * i] = threadIdx.x + 10 * threadIdx.y + 100 * threadIdx.z;
    out[4 * i + 1] = blockIdx.x + 10 * blockIdx.y + 100 * blockIdx.z;
    out[4 * i + 2] = blockDim.x + 10 * blockDim.y + 100 * blockDim.z;
    out[4 * i + 3] = gridDim.x + 10 * gridDim.y + 100 * gridDim.z;
}

extern "C" __global__ void scale(float* x, long long n, float factor, double offset) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = x[i] * factor + (float)offset;
}

extern "C" __global__ void early_exit_then_sync(float* x) {
    if (threadIdx.x % 2) return;  // odd threads leave; the even ones still meet at the barrier
    __syncthreads();
    x[threadIdx.x] = 1.0f;
}
'''


@pytest.fixture(scope="module")
def module():
    return emulator.RawModule(SOURCE, name="emulator_test.cu")


def test_parses_every_kernel_and_its_parameter_types(module):
    assert set(module.kernels) == {"reverse_blocks", "histogram", "coordinates", "scale",
                                   "early_exit_then_sync"}
    assert [(p.ctype, p.name) for p in module.kernels["scale"]] == [
        ("float*", "x"), ("long long", "n"), ("float", "factor"), ("double", "offset")]


def test_syncthreads_and_shared_memory_per_block(module):
    x = np.arange(3 * 64, dtype=np.float32)
    y = np.full_like(x, np.nan)
    module.get_function("reverse_blocks")((3,), (64,), (x, y))
    np.testing.assert_array_equal(y, x.reshape(3, 64)[:, ::-1].reshape(-1))


def test_atomic_add_across_threads_and_blocks(module):
    bins = np.random.default_rng(0).integers(0, 4, 1000).astype(np.int32)
    counts = np.zeros(4)
    module.get_function("histogram")((8,), (128,), (bins, np.uint64(bins.size), counts))
    np.testing.assert_array_equal(counts, np.bincount(bins, minlength=4))


def test_three_dimensional_grid_and_block_indices(module):
    grid, block = (2, 3, 2), (4, 2, 3)
    out = np.full((12 * 24, 4), -1, np.int32)
    module.get_function("coordinates")(grid, block, (out,))
    expected = [(tx + 10 * ty + 100 * tz, bx + 10 * by + 100 * bz, 4 + 20 + 300, 2 + 30 + 200)
                for bz in range(2) for by in range(3) for bx in range(2)
                for tz in range(3) for ty in range(2) for tx in range(4)]
    np.testing.assert_array_equal(out, np.array(expected))


def test_threads_that_return_early_leave_the_barrier(module):
    x = np.zeros(32, np.float32)
    module.get_function("early_exit_then_sync")((1,), (32,), (x,))
    np.testing.assert_array_equal(x, np.tile([1.0, 0.0], 16))


def test_cupy_argument_rules(module):
    scale = module.get_function("scale")
    x = np.ones(5, np.float32)
    scale((1,), (8,), (x, 5, np.float32(3), 0.5))  # Python int -> int64, Python float -> double
    np.testing.assert_array_equal(x, np.full(5, 3.5, np.float32))
    with pytest.raises(TypeError, match=r"'factor' \(float\) needs numpy.float32, got float64"):
        scale((1,), (8,), (x, 5, 3.0, 0.5))  # what CuPy would pass as 8 bytes of a double
    with pytest.raises(TypeError, match=r"'n' \(long long\) needs numpy.int64, got int32"):
        scale((1,), (8,), (x, np.int32(5), np.float32(3), 0.5))
    with pytest.raises(TypeError, match="needs a float32 array, got float64"):
        scale((1,), (8,), (np.ones(5), 5, np.float32(3), 0.5))
    with pytest.raises(ValueError, match="must be C-contiguous"):
        scale((1,), (8,), (np.ones(10, np.float32)[::2], 5, np.float32(3), 0.5))
    with pytest.raises(TypeError, match="is a pointer: pass a NumPy array or None, got float"):
        scale((1,), (8,), (1.0, 5, np.float32(3), 0.5))
    with pytest.raises(TypeError, match="is a scalar parameter, got an array"):
        scale((1,), (8,), (x, np.array([5]), np.float32(3), 0.5))
    with pytest.raises(TypeError, match=r"scale takes 4 arguments \(x, n, factor, offset\), got 3"):
        scale((1,), (8,), (x, 5, np.float32(3)))


def test_launch_configuration_errors(module):
    fn = module.get_function("reverse_blocks")
    x = np.zeros(64, np.float32)
    with pytest.raises(ValueError, match="more than 1024 threads"):
        fn((1,), (64, 32), (x, x))
    with pytest.raises(ValueError, match="grid must be a positive int"):
        fn((0,), (64,), (x, x))
    with pytest.raises(ValueError, match="dynamic shared memory is not emulated"):
        fn((1,), (64,), (x, x), shared_mem=256)
    with pytest.raises(AttributeError, match="no kernel 'missing'"):
        module.get_function("missing")


def test_build_errors_carry_the_compiler_message():
    with pytest.raises(emulator.EmulatorBuildError, match="undeclared|not declared"):
        emulator.RawModule('extern "C" __global__ void broken(float* x) { x[0] = undeclared; }',
                           name="broken.cu")
    with pytest.raises(ValueError, match="no extern \"C\" __global__ kernels"):
        emulator.RawModule("__device__ int helper() { return 1; }")


def test_builds_are_cached_by_source(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGRAD_CUDA_EMULATOR_CACHE", str(tmp_path))
    code = 'extern "C" __global__ void one(float* x) { x[threadIdx.x] = 1.0f; }'
    emulator.RawModule(code, name="cached.cu")
    (library,) = tmp_path.glob("cached-*.so")
    built = library.stat().st_mtime_ns
    emulator.RawModule(code, name="cached.cu")
    assert list(tmp_path.glob("cached-*.so")) == [library]
    assert library.stat().st_mtime_ns == built
    key = emulator.RawModule.library_path
    assert key("g++", code, (), "a.cu") != key("g++", code + "\n", (), "a.cu")
    assert key("g++", code, (), "a.cu") != key("g++", code, ("-DX",), "a.cu")
