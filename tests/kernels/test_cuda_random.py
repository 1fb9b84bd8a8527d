"""kernels/cuda/random.cu (Philox4x32-10) in the host emulator against its NumPy twin
(kernels.cuda_reference.philox_draw), and the twin against Random123's known answers."""
import numpy as np
import pytest

from kernels import cuda_kernels, emulator
from kernels.cuda_reference import philox_blocks, philox_draw

needs_emulator = pytest.mark.skipif(not emulator.compiler_available(),
                                    reason="the CUDA emulator needs g++ with -std=c++20")


@pytest.mark.parametrize("counter, key, expected", [
    (0, 0, (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),  # Random123 kat_vectors
])
def test_philox_matches_random123s_known_answer(counter, key, expected):
    assert tuple(int(v) for v in philox_blocks(np.array([counter], np.uint64), key)[0]) == expected


@pytest.fixture(scope="module")
def kernels():
    return cuda_kernels.CudaKernels(load_module=emulator.RawModule)


@needs_emulator
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("kind", ["uniform", "normal"])
def test_the_kernel_draws_its_numpy_twins_stream(kernels, kind, dtype):
    seed, offset, shape = 2**40 + 12345, 17, (3, 333)
    ours = kernels.philox(np, kind, shape, dtype, seed, offset)
    expected = philox_draw(kind, 999, dtype, seed, offset).reshape(shape)
    assert ours.dtype == dtype and ours.shape == shape
    if kind == "uniform":
        np.testing.assert_array_equal(ours, expected)  # integer arithmetic: bit for bit
    else:  # log/cos of the host libm against NumPy's: within a few ulps (|z| < 6)
        np.testing.assert_allclose(ours, expected, rtol=0, atol=64 * np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_the_stream_has_the_right_distribution(dtype):
    u = philox_draw("uniform", 40000, dtype, 3, 0)
    z = philox_draw("normal", 40000, dtype, 3, 0)
    assert 0.0 <= u.min() and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.01
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1.0) < 0.02 and np.isfinite(z).all()
