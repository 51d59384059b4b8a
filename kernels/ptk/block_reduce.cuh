// Block-wide reductions for the row kernels (norms, sampling): warp shuffles, then one warp.
// Blocks are whole warps.
#pragma once
#include <cuda_runtime.h>
#include <math.h>

#include "ptk/vec.cuh"

namespace ptk {

// Sum over the block; every thread gets the result. `scratch` holds 32 floats.
__device__ __forceinline__ float block_sum(float x, float* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = (blockDim.x + 31) / 32;
  x = warp_sum(x);
  __syncthreads();  // scratch may still be read by a previous reduction
  if (lane == 0) scratch[warp] = x;
  __syncthreads();
  x = lane < warps ? scratch[lane] : 0.0f;
  return warp_sum(x);
}

// (value, index) maximum over the block, the smaller index on ties; every thread gets it.
struct ArgMax {
  float value;
  int index;
};

// What any candidate beats: the start of every argmax.
__device__ __forceinline__ ArgMax no_argmax() { return ArgMax{-INFINITY, 0x7FFFFFFF}; }

__device__ __forceinline__ ArgMax better(ArgMax a, ArgMax b) {
  if (b.value > a.value || (b.value == a.value && b.index < a.index)) return b;
  return a;
}

__device__ __forceinline__ ArgMax warp_argmax(ArgMax a) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    ArgMax b{__shfl_xor_sync(0xFFFFFFFFu, a.value, o), __shfl_xor_sync(0xFFFFFFFFu, a.index, o)};
    a = better(a, b);
  }
  return a;
}

__device__ __forceinline__ ArgMax block_argmax(ArgMax a, ArgMax* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = (blockDim.x + 31) / 32;
  a = warp_argmax(a);
  __syncthreads();
  if (lane == 0) scratch[warp] = a;
  __syncthreads();
  a = lane < warps ? scratch[lane] : no_argmax();
  return warp_argmax(a);
}

// Inclusive prefix sum in thread order: each thread gets the sum of x over threads 0..itself, and
// `*total` the block's sum. `scratch` holds 32 values.
__device__ __forceinline__ unsigned long long block_inclusive_scan(unsigned long long x, unsigned long long* scratch,
                                                                   unsigned long long* total) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
#pragma unroll
  for (int o = 1; o < 32; o <<= 1) {
    const unsigned long long y = __shfl_up_sync(0xFFFFFFFFu, x, o);
    if (lane >= o) x += y;
  }
  __syncthreads();  // scratch may still be read by a previous scan
  if (lane == 31) scratch[warp] = x;
  __syncthreads();
  if (warp == 0) {  // the warps' sums, scanned the same way
    unsigned long long v = lane < warps ? scratch[lane] : 0ull;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
      const unsigned long long y = __shfl_up_sync(0xFFFFFFFFu, v, o);
      if (lane >= o) v += y;
    }
    if (lane < warps) scratch[lane] = v;
  }
  __syncthreads();
  *total = scratch[warps - 1];
  return warp > 0 ? x + scratch[warp - 1] : x;
}

}  // namespace ptk
