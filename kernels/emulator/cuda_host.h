// Host emulation of the CUDA C subset our kernels (kernels/cuda/*.cu) use, so that the
// same source text compiles with g++ -std=c++20 and runs on the CPU under the test suite.
//
// Model: a launch runs its blocks one after another. A block runs as one std::thread
// per CUDA thread (or, for a source without __syncthreads, its threads in turn on one
// OS thread); __syncthreads is a C++20 std::barrier over the block's threads. The
// threads are made once per launch and reused for each block.
// threadIdx/blockIdx/blockDim/gridDim are thread_local. __shared__ is `static`: with
// blocks run one at a time, a function-local static is exactly one block's shared
// memory. atomicAdd goes through std::atomic_ref.
//
// Not modelled, so our kernels must not rely on them: warps (no __shfl*, no
// warp-synchronous code), blocks running concurrently, dynamic shared memory,
// the memory model beyond what __syncthreads orders.
#pragma once

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

struct uint3 {
    unsigned int x, y, z;
};

struct dim3 {
    unsigned int x = 1, y = 1, z = 1;
};

inline thread_local uint3 threadIdx{0, 0, 0};
inline thread_local uint3 blockIdx{0, 0, 0};
inline thread_local dim3 blockDim{};
inline thread_local dim3 gridDim{};

namespace emu {

inline thread_local std::barrier<>* block_barrier = nullptr;

// Thrown by __syncthreads in a launch that promised not to use barriers (a loader bug:
// it decides that from the source text).
struct barrier_unavailable : std::exception {
    const char* what() const noexcept override {
        return "__syncthreads called in a launch run without barriers";
    }
};

inline void set_indices(dim3 grid, dim3 block, uint3 b, uint3 t) {
    gridDim = grid;
    blockDim = block;
    blockIdx = b;
    threadIdx = t;
}

inline uint3 unflatten(unsigned long long i, dim3 d) {
    return uint3{static_cast<unsigned int>(i % d.x),
                 static_cast<unsigned int>((i / d.x) % d.y),
                 static_cast<unsigned int>(i / (static_cast<unsigned long long>(d.x) * d.y))};
}

// One OS thread per CUDA thread of a block, kept for the whole launch and reused for each
// block in turn. Between blocks all threads meet at `between_blocks`, whose completion step
// (run once, by one thread, when all have arrived) makes the next block's __syncthreads
// barrier. A thread whose kernel call ends, normally or by throwing, drops out of that
// barrier, as an exited CUDA thread does, so nobody waits for it. The first exception is
// rethrown after the launch; the blocks after it are not run.
inline void run_blocks_threaded(dim3 grid, dim3 block, const std::function<void()>& body) {
    const unsigned long long n = static_cast<unsigned long long>(block.x) * block.y * block.z;
    const unsigned long long blocks = static_cast<unsigned long long>(grid.x) * grid.y * grid.z;
    std::optional<std::barrier<>> sync;
    std::exception_ptr error;
    std::mutex error_mutex;
    bool stop = false;
    auto next_block = [&]() noexcept {
        sync.emplace(static_cast<std::ptrdiff_t>(n));
        stop = error != nullptr;
    };
    std::barrier between_blocks(static_cast<std::ptrdiff_t>(n), next_block);
    std::vector<std::thread> threads;
    threads.reserve(n);
    for (unsigned long long t = 0; t < n; ++t) {
        threads.emplace_back([&, t] {
            for (unsigned long long b = 0; b < blocks; ++b) {
                between_blocks.arrive_and_wait();
                if (stop) return;
                set_indices(grid, block, unflatten(b, grid), unflatten(t, block));
                block_barrier = &*sync;
                try {
                    body();
                } catch (...) {
                    std::lock_guard<std::mutex> lock(error_mutex);
                    if (!error) error = std::current_exception();
                }
                block_barrier = nullptr;
                sync->arrive_and_drop();
            }
        });
    }
    for (auto& th : threads) th.join();
    if (error) std::rethrow_exception(error);
}

inline void run_blocks_sequential(dim3 grid, dim3 block, const std::function<void()>& body) {
    const unsigned long long n = static_cast<unsigned long long>(block.x) * block.y * block.z;
    const unsigned long long blocks = static_cast<unsigned long long>(grid.x) * grid.y * grid.z;
    for (unsigned long long b = 0; b < blocks; ++b) {
        for (unsigned long long t = 0; t < n; ++t) {
            set_indices(grid, block, unflatten(b, grid), unflatten(t, block));
            body();
        }
    }
}

inline std::mutex& launch_mutex() {
    static std::mutex m;
    return m;
}

// Runs `body` (the kernel call) for every thread of every block. Returns 0, or 1 with
// the exception's text in `error` (error_size bytes, NUL-terminated).
inline int launch(dim3 grid, dim3 block, bool threaded, const std::function<void()>& body,
                  char* error, std::size_t error_size) {
    std::lock_guard<std::mutex> lock(launch_mutex());  // one launch at a time: shared memory is static
    try {
        if (threaded) run_blocks_threaded(grid, block, body);
        else run_blocks_sequential(grid, block, body);
        return 0;
    } catch (const std::exception& e) {
        std::string text = e.what();
        std::size_t n = std::min(text.size(), error_size - 1);
        std::copy_n(text.data(), n, error);
        error[n] = '\0';
        return 1;
    }
}

}  // namespace emu

inline void __syncthreads() {
    if (emu::block_barrier == nullptr) throw emu::barrier_unavailable();
    emu::block_barrier->arrive_and_wait();
}

template <typename T>
inline T atomicAdd(T* address, T value) {
    return std::atomic_ref<T>(*address).fetch_add(value);
}

// CUDA's cospi: cos(pi x), whose argument reduction is exact on the device
inline float cospif(float x) { return std::cos(3.14159265358979323846f * x); }
inline double cospi(double x) { return std::cos(3.14159265358979323846 * x); }

// CUDA's float overloads of the math functions (sqrt(float) is sqrtf), as in device code
using std::exp;
using std::fabs;
using std::sqrt;
