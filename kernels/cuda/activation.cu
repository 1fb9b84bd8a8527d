// Fused leaky_relu forward (minigrad/ops/activation.py's LeakyRelu) and bias + leaky_relu.
//
//   mask = x > 0 ? pos : neg,  y = x * mask     (mask given: the derivative the backward scales by)
//   y = x > 0 ? x : x * neg                     (mask == nullptr: nothing will differentiate y)
//
// pos and neg come from the launcher in the array's dtype: neg = slope and pos is the value
// the NumPy op builds for a positive input, (1 - slope) + slope rounded in that dtype (1, or
// one ulp off it), so both paths agree bit for bit. slope = 0 is relu, slope = 1 the identity.
// The bias form adds bias[(i / inner) % C] first: inner = H*W for NCHW, 1 for (N, F).

template <typename T>
__device__ __forceinline__ void leaky_store(long long i, T v, T* y, T* mask, T pos, T neg) {
    if (mask != nullptr) {
        const T m = v > T(0) ? pos : neg;
        mask[i] = m;
        y[i] = v * m;
    } else {
        y[i] = v > T(0) ? v : v * neg;
    }
}

template <typename T>
__device__ void leaky_relu_body(const T* __restrict__ x, T* __restrict__ y, T* __restrict__ mask,
                                long long n, T pos, T neg) {
    const long long step = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step)
        leaky_store(i, x[i], y, mask, pos, neg);
}

template <typename T>
__device__ void bias_leaky_relu_body(const T* __restrict__ x, const T* __restrict__ bias,
                                     T* __restrict__ y, T* __restrict__ mask, long long n,
                                     long long inner, int C, T pos, T neg) {
    const long long step = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
        const T z = x[i] + bias[(i / inner) % C];
        leaky_store(i, z, y, mask, pos, neg);
    }
}

extern "C" __global__ void leaky_relu_f32(const float* x, float* y, float* mask, long long n,
                                          float pos, float neg) {
    leaky_relu_body<float>(x, y, mask, n, pos, neg);
}

extern "C" __global__ void leaky_relu_f64(const double* x, double* y, double* mask, long long n,
                                          double pos, double neg) {
    leaky_relu_body<double>(x, y, mask, n, pos, neg);
}

extern "C" __global__ void bias_leaky_relu_f32(const float* x, const float* bias, float* y,
                                               float* mask, long long n, long long inner, int C,
                                               float pos, float neg) {
    bias_leaky_relu_body<float>(x, bias, y, mask, n, inner, C, pos, neg);
}

extern "C" __global__ void bias_leaky_relu_f64(const double* x, const double* bias, double* y,
                                               double* mask, long long n, long long inner, int C,
                                               double pos, double neg) {
    bias_leaky_relu_body<double>(x, bias, y, mask, n, inner, C, pos, neg);
}
