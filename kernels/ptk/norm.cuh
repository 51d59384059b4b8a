// RMSNorm of the float residual stream, fused with the residual add: x += delta, then
// out = bf16(x / sqrt(mean(x^2) + eps) * weight). One block per row. And the residual add alone
// with the updated rows' sums of squares in parts (gemv_layout.h), for a gemv that norms its input
// as it reads it.
#pragma once
#include <cuda_runtime.h>
#include <stdint.h>

#include "ptk/block_reduce.cuh"
#include "ptk/gemv_layout.h"
#include "ptk/rmsnorm.cuh"
#include "ptk/shared.cuh"
#include "ptk/vec.cuh"

namespace ptk {

constexpr int kNormThreads = 256;

// x: the row (updated in place when delta is given); out: bf16 row. hidden % 4 == 0.
__device__ __forceinline__ void rmsnorm_row(float* x, const float* delta, const uint16_t* weight, float eps,
                                            uint16_t* out, int hidden) {
  PTK_SHARED_ARRAY(float, scratch, 32);
  float ss = 0.0f;
  for (int i = threadIdx.x * 4; i < hidden; i += blockDim.x * 4) {
    float4 v = *reinterpret_cast<const float4*>(x + i);
    if (delta) {
      const float4 d = *reinterpret_cast<const float4*>(delta + i);
      v = make_float4(v.x + d.x, v.y + d.y, v.z + d.z, v.w + d.w);
      *reinterpret_cast<float4*>(x + i) = v;  // each thread re-reads only what it wrote
    }
    ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
  }
  const float r = rms_scale(block_sum(ss, scratch), hidden, eps);
  for (int i = threadIdx.x * 4; i < hidden; i += blockDim.x * 4) {
    const float4 v = *reinterpret_cast<const float4*>(x + i);
    float w[4];
    load_bf16<4>(weight + i, w);
    store4(out + i, rms_normed(v.x, r, w[0]), rms_normed(v.y, r, w[1]), rms_normed(v.z, r, w[2]),
           rms_normed(v.w, r, w[3]));
  }
}

__global__ void __launch_bounds__(kNormThreads)
    add_rmsnorm_kernel(float* residual, const float* delta, const uint16_t* weight, float eps, uint16_t* out,
                       int hidden) {
  const size_t row = blockIdx.x;
  rmsnorm_row(residual + row * hidden, delta ? delta + row * hidden : nullptr, weight, eps, out + row * hidden,
              hidden);
}

// Rows picked by device ids (the rows whose logits are wanted); x is not modified.
__global__ void __launch_bounds__(kNormThreads)
    rmsnorm_rows_kernel(const float* x, const int32_t* row_ids, const uint16_t* weight, float eps, uint16_t* out,
                        int hidden) {
  rmsnorm_row(const_cast<float*>(x) + size_t(row_ids[blockIdx.x]) * hidden, nullptr, weight, eps,
              out + size_t(blockIdx.x) * hidden, hidden);
}

// residual += delta (delta may be null), then sumsq[row, g] = the sum of squares of the row's g-th
// part of kGemvRows columns, in column order: what a gemv adding into the residual writes.
__global__ void __launch_bounds__(kNormThreads)
    add_sumsq_kernel(float* residual, const float* delta, float* sumsq, int hidden) {
  float* x = residual + size_t(blockIdx.x) * hidden;
  if (delta) {
    const float* d = delta + size_t(blockIdx.x) * hidden;
    for (int i = threadIdx.x * 4; i < hidden; i += blockDim.x * 4) {
      const float4 v = *reinterpret_cast<const float4*>(x + i), e = *reinterpret_cast<const float4*>(d + i);
      *reinterpret_cast<float4*>(x + i) = make_float4(v.x + e.x, v.y + e.y, v.z + e.z, v.w + e.w);
    }
    __syncthreads();  // a part's columns were written by other threads
  }
  const int width = kGemvRows, parts = norm_parts(hidden);
  for (int g = threadIdx.x; g < parts; g += blockDim.x) {
    float ss = 0.0f;
    for (int j = g * width; j < (g + 1) * width && j < hidden; ++j) ss = fmaf(x[j], x[j], ss);
    sumsq[size_t(blockIdx.x) * parts + g] = ss;
  }
}

}  // namespace ptk
