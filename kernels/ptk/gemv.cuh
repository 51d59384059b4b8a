// Decode-shape matmul y[m, n] = sum_k x[m, k] w[n, k] (+ bias[n]) for M <= 16 rows: bf16 inputs,
// float accumulation. Memory-bound on the weight, so each weight row is read once, by one warp,
// for all M rows (the activations, M x K bf16, stay in L1/L2).
#pragma once
#include <cuda_runtime.h>
#include <stdint.h>

#include "ptk/vec.cuh"

namespace ptk {

constexpr int kGemvWarps = 8;  // output rows per block

// M_MAX is a compile-time bound on m (sizes the accumulators); m itself may be smaller.
// k % 8 == 0 and 16-byte aligned x and w (checked on the host): one 16-byte load per lane step.
template <int M_MAX, bool Y_F32>
__global__ void __launch_bounds__(kGemvWarps * 32)
    gemv_kernel(const uint16_t* __restrict__ x, const uint16_t* __restrict__ w, const uint16_t* __restrict__ bias,
                void* __restrict__ y, int m, int n, int k) {
  const int lane = threadIdx.x % 32;
  const int row = blockIdx.x * kGemvWarps + threadIdx.x / 32;
  if (row >= n) return;
  const uint16_t* wr = w + size_t(row) * k;
  float acc[M_MAX];
#pragma unroll
  for (int i = 0; i < M_MAX; ++i) acc[i] = 0.0f;
  for (int c = lane * 8; c < k; c += 32 * 8) {
    float wv[8];
    load_bf16<8>(wr + c, wv);
#pragma unroll
    for (int i = 0; i < M_MAX; ++i) {
      if (i < m) {
        float xv[8];
        load_bf16<8>(x + size_t(i) * k + c, xv);
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i] = fmaf(wv[j], xv[j], acc[i]);
      }
    }
  }
  const float b = bias ? bf16_to_float(bias[row]) : 0.0f;
#pragma unroll
  for (int i = 0; i < M_MAX; ++i) {
    if (i < m) {
      const float s = warp_sum(acc[i]) + b;
      if (lane == i % 32) {
        if constexpr (Y_F32) {
          static_cast<float*>(y)[size_t(i) * n + row] = s;
        } else {
          static_cast<uint16_t*>(y)[size_t(i) * n + row] = float_to_bf16(s);
        }
      }
    }
  }
}

}  // namespace ptk
