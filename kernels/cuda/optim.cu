// Fused optimizer updates over all parameters of a model in one launch (multi-tensor apply).
//
// The tensors stay separate arrays: a launch gets tables of their addresses (params, grads and
// each state buffer) and starts[t], the flat offset of tensor t (starts[count] = total). Thread
// i of the flat range finds its tensor by binary search and updates element i - starts[t].
//
// Each formula is minigrad/optim's NumPy update, operation for operation and in the same order
// (see adam.py and rmsprop.py), with the scalars (1 - beta1, lr / (1 - beta1^t), ...) computed
// by the launcher in Python doubles and rounded to the dtype, as NumPy does with a Python float.
// Compiled with --fmad=false (the emulator with -ffp-contract=off), so no multiply-add is fused
// and the results are the NumPy ones bit for bit.

__device__ __forceinline__ int tensor_of(const long long* __restrict__ starts, int count, long long i) {
    int lo = 0, hi = count - 1;  // the last t with starts[t] <= i
    while (lo < hi) {
        const int mid = (lo + hi + 1) / 2;
        if (starts[mid] <= i) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

template <typename T>
__device__ __forceinline__ T numpy_maximum(T a, T b) {  // NaN in either gives NaN, as np.maximum
    return (a >= b || a != a) ? a : b;
}

// Adam / AMSGrad: g += wd * p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; vmax = max(vmax, v);
// p -= lr/(1-b1^t) * m / (sqrt(v or vmax) / sqrt(1-b2^t) + eps)
template <typename T>
__device__ void adam_body(T* const* params, const T* const* grads, T* const* exp_avgs,
                          T* const* exp_avg_sqs, T* const* max_exp_avg_sqs,
                          const long long* __restrict__ starts, int count, T beta1, T one_minus_beta1,
                          T beta2, T one_minus_beta2, T bias2_sqrt, T eps, T step_size,
                          T weight_decay, int use_weight_decay, int amsgrad) {
    const long long total = starts[count];
    const long long stride = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        const int t = tensor_of(starts, count, i);
        const long long k = i - starts[t];
        T* p = params[t] + k;
        T* m = exp_avgs[t] + k;
        T* v = exp_avg_sqs[t] + k;
        T g = grads[t][k];
        if (use_weight_decay) g = *p * weight_decay + g;
        *m = *m * beta1;
        *m = *m + one_minus_beta1 * g;
        T work = g * g;
        work = work * one_minus_beta2;
        *v = *v * beta2;
        *v = *v + work;
        T second = *v;
        if (amsgrad) {
            T* vmax = max_exp_avg_sqs[t] + k;
            *vmax = numpy_maximum(*vmax, *v);
            second = *vmax;
        }
        work = sqrt(second);
        work = work / bias2_sqrt;
        work = work + eps;
        work = *m / work;
        work = work * step_size;
        *p = *p - work;
    }
}

// RMSprop: g += wd * p; v = a v + (1-a) g^2; centered: ga = a ga + (1-a) g, s = v - ga^2;
// d = sqrt(s) + eps (PyTorch) or sqrt(s + eps) (TF / Keras); momentum: b = mu b + g/d,
// p -= lr b; else p -= lr g/d
template <typename T>
__device__ void rmsprop_body(T* const* params, const T* const* grads, T* const* square_avgs,
                             T* const* grad_avgs, T* const* momentum_buffers,
                             const long long* __restrict__ starts, int count, T lr, T alpha,
                             T one_minus_alpha, T eps, T weight_decay, T momentum,
                             int use_weight_decay, int centered, int eps_inside_sqrt,
                             int use_momentum) {
    const long long total = starts[count];
    const long long stride = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        const int t = tensor_of(starts, count, i);
        const long long k = i - starts[t];
        T* p = params[t] + k;
        T* v = square_avgs[t] + k;
        T g = grads[t][k];
        if (use_weight_decay) g = *p * weight_decay + g;
        *v = *v * alpha;
        T work = g * g;
        work = work * one_minus_alpha;
        *v = *v + work;
        work = *v;
        if (centered) {
            T* ga = grad_avgs[t] + k;
            *ga = *ga * alpha;
            *ga = *ga + one_minus_alpha * g;
            work = *ga * *ga;
            work = *v - work;
        }
        if (eps_inside_sqrt) {
            work = work + eps;
            work = sqrt(work);
        } else {
            work = sqrt(work);
            work = work + eps;
        }
        work = g / work;
        if (use_momentum) {
            T* b = momentum_buffers[t] + k;
            *b = *b * momentum;
            *b = *b + work;
            work = *b * lr;
        } else {
            work = work * lr;
        }
        *p = *p - work;
    }
}

// Weight clipping (minigrad/optim/constraints.py): p = clip(p, lo, hi); NaN stays NaN, as np.clip
template <typename T>
__device__ void clip_body(T* const* params, const long long* __restrict__ starts, int count, T lo, T hi) {
    const long long total = starts[count];
    const long long stride = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        const int t = tensor_of(starts, count, i);
        T* p = params[t] + (i - starts[t]);
        T value = *p;
        value = value < lo ? lo : value;
        value = value > hi ? hi : value;
        *p = value;
    }
}

extern "C" __global__ void adam_f32(float* const* params, const float* const* grads,
                                    float* const* exp_avgs, float* const* exp_avg_sqs,
                                    float* const* max_exp_avg_sqs, const long long* starts, int count,
                                    float beta1, float one_minus_beta1, float beta2,
                                    float one_minus_beta2, float bias2_sqrt, float eps,
                                    float step_size, float weight_decay, int use_weight_decay,
                                    int amsgrad) {
    adam_body<float>(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, starts, count, beta1,
                     one_minus_beta1, beta2, one_minus_beta2, bias2_sqrt, eps, step_size,
                     weight_decay, use_weight_decay, amsgrad);
}

extern "C" __global__ void adam_f64(double* const* params, const double* const* grads,
                                    double* const* exp_avgs, double* const* exp_avg_sqs,
                                    double* const* max_exp_avg_sqs, const long long* starts, int count,
                                    double beta1, double one_minus_beta1, double beta2,
                                    double one_minus_beta2, double bias2_sqrt, double eps,
                                    double step_size, double weight_decay, int use_weight_decay,
                                    int amsgrad) {
    adam_body<double>(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, starts, count, beta1,
                      one_minus_beta1, beta2, one_minus_beta2, bias2_sqrt, eps, step_size,
                      weight_decay, use_weight_decay, amsgrad);
}

extern "C" __global__ void rmsprop_f32(float* const* params, const float* const* grads,
                                       float* const* square_avgs, float* const* grad_avgs,
                                       float* const* momentum_buffers, const long long* starts,
                                       int count, float lr, float alpha, float one_minus_alpha,
                                       float eps, float weight_decay, float momentum,
                                       int use_weight_decay, int centered, int eps_inside_sqrt,
                                       int use_momentum) {
    rmsprop_body<float>(params, grads, square_avgs, grad_avgs, momentum_buffers, starts, count, lr,
                        alpha, one_minus_alpha, eps, weight_decay, momentum, use_weight_decay,
                        centered, eps_inside_sqrt, use_momentum);
}

extern "C" __global__ void rmsprop_f64(double* const* params, const double* const* grads,
                                       double* const* square_avgs, double* const* grad_avgs,
                                       double* const* momentum_buffers, const long long* starts,
                                       int count, double lr, double alpha, double one_minus_alpha,
                                       double eps, double weight_decay, double momentum,
                                       int use_weight_decay, int centered, int eps_inside_sqrt,
                                       int use_momentum) {
    rmsprop_body<double>(params, grads, square_avgs, grad_avgs, momentum_buffers, starts, count, lr,
                         alpha, one_minus_alpha, eps, weight_decay, momentum, use_weight_decay,
                         centered, eps_inside_sqrt, use_momentum);
}

extern "C" __global__ void clip_f32(float* const* params, const long long* starts, int count,
                                    float lo, float hi) {
    clip_body<float>(params, starts, count, lo, hi);
}

extern "C" __global__ void clip_f64(double* const* params, const long long* starts, int count,
                                    double lo, double hi) {
    clip_body<double>(params, starts, count, lo, hi);
}
