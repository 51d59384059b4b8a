// The device side of the sim: what a kernel source sees of CUDA C++ when the host compiler builds
// it. Qualifiers become nothing, vector types are plain aligned structs, built-in indices read the
// running thread's coordinates, and every barrier, warp shuffle, shared-memory declaration and
// cp.async goes to the SIMT runtime (native/sim/src/simt.cpp), which runs each thread of a block
// as its own fiber. Device math maps to host libm at least as accurate as the device's.
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cuda_runtime_api.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) alignas(n)
// Block-shared storage must be per block and poisoned: declare it with PTK_SHARED_ARRAY or
// PTK_DYNAMIC_SHARED (kernels/ptk/shared.cuh), which the runtime allocates for each block.
#define __shared__ _Pragma("GCC error \"use PTK_SHARED_ARRAY or PTK_DYNAMIC_SHARED, not __shared__\"")

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};
struct alignas(8) float2 { float x, y; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) uint2 { unsigned x, y; };
struct alignas(16) uint4 { unsigned x, y, z, w; };
struct alignas(8) int2 { int x, y; };
struct alignas(16) int4 { int x, y, z, w; };
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
inline float2 make_float2(float x, float y) { return float2{x, y}; }

namespace ptk_sim {

struct Coords {
  dim3 thread, block, block_dim, grid_dim;
};
// The coordinates of the thread running now (set by the scheduler before each switch).
PTK_SIM_API extern thread_local const Coords* current_coords;

enum class Shuffle : int { kIdx, kUp, kDown, kXor };

PTK_SIM_API void syncthreads();
PTK_SIM_API void syncwarp(unsigned mask);
PTK_SIM_API uint64_t shuffle(unsigned mask, uint64_t value, Shuffle kind, int param, int width);
// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 with D = C in place: every lane of the
// warp arrives with its fragments (a: 4 registers of bf16 pairs, b: 2, d: 4 floats) and leaves
// with its part of D. The products are exact in f32 (as on the tensor cores); their sum runs in
// order of k after C, where a tensor core may group and round differently in the last bits.
PTK_SIM_API void mma_m16n8k16_bf16(float* d, const uint32_t* a, const uint32_t* b);
PTK_SIM_API void* static_shared(const void* site, size_t bytes, size_t align);
PTK_SIM_API void* dynamic_shared();
PTK_SIM_API void cp_async16(void* smem, const void* gmem, bool valid);
PTK_SIM_API void cp_async_commit();
PTK_SIM_API void cp_async_wait(int pending_groups);
// Global memory between blocks. Blocks run one after another, so every write of a block is seen by
// the blocks after it; what the sim checks instead is the discipline a GPU needs for it: an atomic
// publishes its block's writes, so it faults unless every thread of the block has executed
// __threadfence since the block's previous atomic (or its start).
PTK_SIM_API void threadfence();
PTK_SIM_API int atomic_add(int* address, int value);
// A reduction (PTX red: an atomic add whose old value is not returned) into shared or device
// memory. It tells the block nothing, so it cannot hand writes to another block, and it is free of
// the fence check; a hand-off still needs atomic_add.
PTK_SIM_API void reduce_add(unsigned long long* address, unsigned long long value);

struct LaunchConfig {
  const char* name;    // the kernel's name as the launch helper spelled it
  const void* kernel;  // identity, for function attributes
  dim3 grid, block;
  size_t dynamic_smem;
  cudaStream_t stream;
};
// Queues (or records, during capture) one launch; each thread of the grid runs thread_body once.
PTK_SIM_API cudaError_t launch(const LaunchConfig& config, std::function<void()> thread_body);

template <class Kernel>
struct KernelParams;
template <class... P>
struct KernelParams<void (*)(P...)> {
  using Tuple = std::tuple<std::decay_t<P>...>;
};

// The kernel's arguments converted to its parameter types and kept by value, as a GPU launch does.
// The kernel is called by name, not through a pointer argument: GCC 12 does not instantiate a
// function template whose address only reaches a deduced parameter.
template <auto Kernel, class... A>
cudaError_t launch_kernel(const char* name, dim3 grid, dim3 block, size_t smem, cudaStream_t stream, A&&... args) {
  typename KernelParams<decltype(Kernel)>::Tuple params(std::forward<A>(args)...);
  return launch(LaunchConfig{name, reinterpret_cast<const void*>(Kernel), grid, block, smem, stream},
                [params] { std::apply([](const auto&... p) { Kernel(p...); }, params); });
}

// Per declaration site (one lambda type each): the block's copy of a shared array.
template <class T, class Site>
T* shared_array(size_t count, Site) {
  static const char site = 0;
  return static_cast<T*>(static_shared(&site, count * sizeof(T), alignof(T) < 16 ? 16 : alignof(T)));
}

template <class T>
T shuffle_as(unsigned mask, T value, Shuffle kind, int param, int width) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffles move up to 8 bytes");
  uint64_t bits = 0;
  memcpy(&bits, &value, sizeof(T));
  bits = shuffle(mask, bits, kind, param, width);
  T out;
  memcpy(&out, &bits, sizeof(T));
  return out;
}

}  // namespace ptk_sim

#define threadIdx (::ptk_sim::current_coords->thread)
#define blockIdx (::ptk_sim::current_coords->block)
#define blockDim (::ptk_sim::current_coords->block_dim)
#define gridDim (::ptk_sim::current_coords->grid_dim)
constexpr int warpSize = 32;

inline void __syncthreads() { ::ptk_sim::syncthreads(); }
inline void __syncwarp(unsigned mask = 0xFFFFFFFFu) { ::ptk_sim::syncwarp(mask); }
inline void __threadfence() { ::ptk_sim::threadfence(); }
inline int atomicAdd(int* address, int value) { return ::ptk_sim::atomic_add(address, value); }
// A load that bypasses L1 on a GPU (written by another block of the same launch); a plain load here.
template <class T>
T __ldcg(const T* p) {
  return *p;
}
template <class T>
T __shfl_sync(unsigned mask, T v, int src_lane, int width = 32) {
  return ::ptk_sim::shuffle_as(mask, v, ::ptk_sim::Shuffle::kIdx, src_lane, width);
}
template <class T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return ::ptk_sim::shuffle_as(mask, v, ::ptk_sim::Shuffle::kUp, int(delta), width);
}
template <class T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return ::ptk_sim::shuffle_as(mask, v, ::ptk_sim::Shuffle::kDown, int(delta), width);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  return ::ptk_sim::shuffle_as(mask, v, ::ptk_sim::Shuffle::kXor, lane_mask, width);
}

// Device math. The GPU's fast forms (__expf, rsqrtf, exp2f: 2 ulp) map to libm (under 1 ulp); the
// sim is built with -ffp-contract=off where nvcc contracts a * b + c into one FMA, so results may
// differ from a GPU in the last bits, never by more than the device's own error.
inline float __uint_as_float(unsigned u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}
inline unsigned __float_as_uint(float f) {
  unsigned u;
  memcpy(&u, &f, 4);
  return u;
}
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
