// Counter-based random numbers on the device: Philox4x32-10 (Salmon et al., SC'11), the
// generator of minigrad.Generator on a GPU. Its state is two integers, a 64-bit key (the seed)
// and a 64-bit block offset, so it checkpoints as plain data and any element can be computed
// on its own: element j of a draw of kind K uses counter block offset + j / K's elements per
// block, whatever the launch shape. Each block is (ctr_lo, ctr_hi, 0, 0) -> 4 x uint32.
//
//   uniform float32: lane j%4,           (u >> 8) * 2^-24                      in [0, 1)
//   uniform float64: lanes 2(j%2), +1,   ((a >> 5) * 2^26 + (b >> 6)) * 2^-53  in [0, 1)
//   normal float32:  lanes 2(j%2), +1,   sqrt(-2 log u1) cospi(2 u2), u1 in (0, 1]
//   normal float64:  all four lanes,     the same with 53-bit u1, u2
// kernels/cuda_reference.py restates this in NumPy (the uint32 streams agree bit for bit).

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

struct Lanes { unsigned int v[4]; };

__device__ __forceinline__ Lanes philox(unsigned long long block, unsigned long long seed) {
    unsigned int c0 = (unsigned int)block, c1 = (unsigned int)(block >> 32), c2 = 0u, c3 = 0u;
    unsigned int k0 = (unsigned int)seed, k1 = (unsigned int)(seed >> 32);
    for (int round = 0; round < 10; ++round) {
        const unsigned long long p0 = (unsigned long long)PHILOX_M0 * c0;
        const unsigned long long p1 = (unsigned long long)PHILOX_M1 * c2;
        const unsigned int hi0 = (unsigned int)(p0 >> 32), lo0 = (unsigned int)p0;
        const unsigned int hi1 = (unsigned int)(p1 >> 32), lo1 = (unsigned int)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    Lanes out = {{c0, c1, c2, c3}};
    return out;
}

__device__ __forceinline__ float unit_f32(unsigned int u) { return (float)(u >> 8) * 5.9604644775390625e-08f; }

__device__ __forceinline__ double unit_f64(unsigned int a, unsigned int b) {
    return ((double)(a >> 5) * 67108864.0 + (double)(b >> 6)) * 1.1102230246251565e-16;
}

#define GRID_STRIDE(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)blockDim.x * gridDim.x)

extern "C" __global__ void philox_uniform_f32(float* out, long long n, unsigned long long seed,
                                              unsigned long long offset) {
    GRID_STRIDE(j, n) out[j] = unit_f32(philox(offset + (unsigned long long)(j / 4), seed).v[j % 4]);
}

extern "C" __global__ void philox_uniform_f64(double* out, long long n, unsigned long long seed,
                                              unsigned long long offset) {
    GRID_STRIDE(j, n) {
        const Lanes r = philox(offset + (unsigned long long)(j / 2), seed);
        const int lane = 2 * (int)(j % 2);
        out[j] = unit_f64(r.v[lane], r.v[lane + 1]);
    }
}

extern "C" __global__ void philox_normal_f32(float* out, long long n, unsigned long long seed,
                                             unsigned long long offset) {
    GRID_STRIDE(j, n) {
        const Lanes r = philox(offset + (unsigned long long)(j / 2), seed);
        const int lane = 2 * (int)(j % 2);
        const float u1 = 1.0f - unit_f32(r.v[lane]);  // (0, 1]: log(u1) is finite
        const float u2 = unit_f32(r.v[lane + 1]);
        out[j] = sqrtf(-2.0f * logf(u1)) * cospif(2.0f * u2);  // cospi: no float64 range reduction
    }
}

extern "C" __global__ void philox_normal_f64(double* out, long long n, unsigned long long seed,
                                             unsigned long long offset) {
    GRID_STRIDE(j, n) {
        const Lanes r = philox(offset + (unsigned long long)j, seed);
        const double u1 = 1.0 - unit_f64(r.v[0], r.v[1]);
        const double u2 = unit_f64(r.v[2], r.v[3]);
        out[j] = sqrt(-2.0 * log(u1)) * cospi(2.0 * u2);
    }
}
