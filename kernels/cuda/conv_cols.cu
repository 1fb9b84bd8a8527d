// im2col and col2im for the convolution trio (kernels/conv.py), NCHW images.
//
// cols is C-contiguous (N*Ho*Wo, kH*kW*C): row (n, i, j), column (p, q, c), the layout of
// kernels/conv.py's _im2col_numpy, so the GEMMs around these kernels are the same cuBLAS
// calls as the NumPy path's BLAS ones. Padding is (top, bottom, left, right) =
// (pt, ., pl, .): the bottom/right sides need no argument, a tap past the image is a zero.
//
//   im2col:  cols[(n,i,j), (p,q,c)] = x[n, c, i*sh + p*dh - pt, j*sw + q*dw - pl]  (0 outside)
//   col2im:  x[n, c, h, w] = sum over the (i, j, p, q) with i*sh + p*dh = h + pt and
//            j*sw + q*dw = w + pl of cols[(n,i,j), (p,q,c)]                  (the adjoint)
//
// col2im is in gather form: one thread per image element sums its own taps, in (p, q)
// order, so there are no atomics and the sum is the NumPy reference's, term for term.
// Both kernels loop grid-stride over their outputs: any grid size is correct.

struct ConvShape {
    int N, C, H, W, Ho, Wo, kH, kW, sh, sw, dh, dw, pt, pl;
};

template <typename T>
__device__ void im2col_body(const T* __restrict__ x, T* __restrict__ cols, const ConvShape s) {
    const long long K = (long long)s.kH * s.kW * s.C;
    const long long total = (long long)s.N * s.Ho * s.Wo * K;
    const long long step = (long long)blockDim.x * gridDim.x;
    for (long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += step) {
        const long long row = idx / K;
        const int col = (int)(idx - row * K);
        const int c = col % s.C;
        const int q = (col / s.C) % s.kW;
        const int p = col / (s.C * s.kW);
        const int j = (int)(row % s.Wo);
        const int i = (int)((row / s.Wo) % s.Ho);
        const int n = (int)(row / ((long long)s.Wo * s.Ho));
        const int h = i * s.sh + p * s.dh - s.pt;
        const int w = j * s.sw + q * s.dw - s.pl;
        T value = T(0);
        if (h >= 0 && h < s.H && w >= 0 && w < s.W)
            value = x[(((long long)n * s.C + c) * s.H + h) * s.W + w];
        cols[idx] = value;
    }
}

template <typename T>
__device__ void col2im_body(const T* __restrict__ cols, T* __restrict__ x, const ConvShape s) {
    const long long K = (long long)s.kH * s.kW * s.C;
    const long long total = (long long)s.N * s.C * s.H * s.W;
    const long long step = (long long)blockDim.x * gridDim.x;
    for (long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += step) {
        const int w = (int)(idx % s.W);
        const int h = (int)((idx / s.W) % s.H);
        const int c = (int)((idx / ((long long)s.W * s.H)) % s.C);
        const int n = (int)(idx / ((long long)s.W * s.H * s.C));
        T sum = T(0);
        for (int p = 0; p < s.kH; ++p) {
            const int hs = h + s.pt - p * s.dh;  // = i * sh for the output row i that reads it
            if (hs < 0 || hs % s.sh != 0 || hs / s.sh >= s.Ho) continue;
            const int i = hs / s.sh;
            for (int q = 0; q < s.kW; ++q) {
                const int ws = w + s.pl - q * s.dw;
                if (ws < 0 || ws % s.sw != 0 || ws / s.sw >= s.Wo) continue;
                const long long row = ((long long)n * s.Ho + i) * s.Wo + ws / s.sw;
                sum += cols[row * K + ((long long)p * s.kW + q) * s.C + c];
            }
        }
        x[idx] = sum;
    }
}

// The entry points spell out their parameters: the emulator's loader reads them from here.
extern "C" __global__ void im2col_f32(const float* x, float* cols, int N, int C, int H, int W,
                                      int Ho, int Wo, int kH, int kW, int sh, int sw, int dh,
                                      int dw, int pt, int pl) {
    im2col_body<float>(x, cols, ConvShape{N, C, H, W, Ho, Wo, kH, kW, sh, sw, dh, dw, pt, pl});
}

extern "C" __global__ void im2col_f64(const double* x, double* cols, int N, int C, int H, int W,
                                      int Ho, int Wo, int kH, int kW, int sh, int sw, int dh,
                                      int dw, int pt, int pl) {
    im2col_body<double>(x, cols, ConvShape{N, C, H, W, Ho, Wo, kH, kW, sh, sw, dh, dw, pt, pl});
}

extern "C" __global__ void col2im_f32(const float* cols, float* x, int N, int C, int H, int W,
                                      int Ho, int Wo, int kH, int kW, int sh, int sw, int dh,
                                      int dw, int pt, int pl) {
    col2im_body<float>(cols, x, ConvShape{N, C, H, W, Ho, Wo, kH, kW, sh, sw, dh, dw, pt, pl});
}

extern "C" __global__ void col2im_f64(const double* cols, double* x, int N, int C, int H, int W,
                                      int Ho, int Wo, int kH, int kW, int sh, int sw, int dh,
                                      int dw, int pt, int pl) {
    col2im_body<double>(cols, x, ConvShape{N, C, H, W, Ho, Wo, kH, kW, sh, sw, dh, dw, pt, pl});
}
