// The WGAN-GP penalty's reductions (minigrad/ops/loss.py: safe_norm, gradient_penalty), on the
// critic's input gradient g viewed as (N, D):
//
//   gp_norms:         norms[n] = sqrt(sum_d g[n, d]^2 + eps)          one block per sample
//   gp_penalty:       penalty[0] = mean_n (norms[n] - center)^2        one block
//   gp_penalty_grad:  out[n, d] = 2 / N * (norms[n] - center) / norms[n] * g[n, d]   (dP/dg)
//
// Blocks are exactly REDUCE_THREADS wide (a power of two; the launcher sets it with -D): the tree
// sum below halves a shared array of that size with a __syncthreads between levels
// (no warp shuffles, so the host emulator models it exactly). Sums are accumulated in the
// array's dtype, in another order than NumPy's pairwise sum.

#ifndef REDUCE_THREADS
#define REDUCE_THREADS 256
#endif

template <typename T>
__device__ T block_sum(T value) {
    __shared__ T partial[REDUCE_THREADS];
    const unsigned int t = threadIdx.x;
    partial[t] = value;
    __syncthreads();
    for (unsigned int half = REDUCE_THREADS / 2; half > 0; half >>= 1) {
        if (t < half) partial[t] += partial[t + half];
        __syncthreads();
    }
    const T total = partial[0];
    __syncthreads();  // the next call may overwrite partial[0]
    return total;
}

template <typename T>
__device__ void gp_norms_body(const T* __restrict__ g, T* __restrict__ norms, int N, long long D,
                              T eps) {
    for (int n = blockIdx.x; n < N; n += gridDim.x) {  // uniform per block: every thread syncs
        const T* row = g + (long long)n * D;
        T sum = T(0);
        for (long long d = threadIdx.x; d < D; d += REDUCE_THREADS) sum += row[d] * row[d];
        const T total = block_sum(sum);
        if (threadIdx.x == 0) norms[n] = sqrt(total + eps);
    }
}

template <typename T>
__device__ void gp_penalty_body(const T* __restrict__ norms, int N, T center, T* __restrict__ penalty) {
    T sum = T(0);
    for (int n = threadIdx.x; n < N; n += REDUCE_THREADS) {
        const T deviation = norms[n] - center;
        sum += deviation * deviation;
    }
    const T total = block_sum(sum);
    if (threadIdx.x == 0) penalty[0] = total / T(N);
}

template <typename T>
__device__ void gp_penalty_grad_body(const T* __restrict__ g, const T* __restrict__ norms, int N,
                                     long long D, T center, T* __restrict__ out) {
    const long long total = (long long)N * D;
    const long long step = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += step) {
        const T norm = norms[i / D];
        out[i] = T(2) / T(N) * (norm - center) / norm * g[i];
    }
}

extern "C" __global__ void __launch_bounds__(REDUCE_THREADS)
gp_norms_f32(const float* g, float* norms, int N, long long D, float eps) {
    gp_norms_body<float>(g, norms, N, D, eps);
}

extern "C" __global__ void __launch_bounds__(REDUCE_THREADS)
gp_norms_f64(const double* g, double* norms, int N, long long D, double eps) {
    gp_norms_body<double>(g, norms, N, D, eps);
}

extern "C" __global__ void __launch_bounds__(REDUCE_THREADS)
gp_penalty_f32(const float* norms, int N, float center, float* penalty) {
    gp_penalty_body<float>(norms, N, center, penalty);
}

extern "C" __global__ void __launch_bounds__(REDUCE_THREADS)
gp_penalty_f64(const double* norms, int N, double center, double* penalty) {
    gp_penalty_body<double>(norms, N, center, penalty);
}

extern "C" __global__ void gp_penalty_grad_f32(const float* g, const float* norms, int N,
                                               long long D, float center, float* out) {
    gp_penalty_grad_body<float>(g, norms, N, D, center, out);
}

extern "C" __global__ void gp_penalty_grad_f64(const double* g, const double* norms, int N,
                                               long long D, double center, double* out) {
    gp_penalty_grad_body<double>(g, norms, N, D, center, out);
}
