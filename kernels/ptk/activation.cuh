// The MLP's gate: out = bf16(silu(gate) * up) over the fused [gate | up] projection output, and
// the bias add + bf16 rounding that follows a cuBLAS projection.
#pragma once
#include <cuda_runtime.h>
#include <stdint.h>

#include "ptk/sampling_math.h"
#include "ptk/vec.cuh"

namespace ptk {

constexpr int kElementwiseThreads = 256;

// gate_up [rows, 2 inter] float, out [rows, inter] bf16; 4 elements per thread (inter % 4 == 0).
__global__ void __launch_bounds__(kElementwiseThreads)
    silu_mul_kernel(const float* gate_up, uint16_t* out, int rows, int inter) {
  const int quads = inter / 4;
  for (size_t q = blockIdx.x * size_t(blockDim.x) + threadIdx.x; q < size_t(rows) * quads;
       q += size_t(gridDim.x) * blockDim.x) {
    const size_t row = q / quads, i = (q % quads) * 4;
    const float4 g = *reinterpret_cast<const float4*>(gate_up + row * 2 * inter + i);
    const float4 u = *reinterpret_cast<const float4*>(gate_up + row * 2 * inter + inter + i);
    store4(out + row * inter + i, silu(g.x) * u.x, silu(g.y) * u.y, silu(g.z) * u.z, silu(g.w) * u.w);
  }
}

// y [rows, n] float, bias [n] bf16 or null, out [rows, n] bf16 (n % 4 == 0).
__global__ void __launch_bounds__(kElementwiseThreads)
    bias_to_bf16_kernel(const float* y, const uint16_t* bias, uint16_t* out, int rows, int n) {
  const int quads = n / 4;
  for (size_t q = blockIdx.x * size_t(blockDim.x) + threadIdx.x; q < size_t(rows) * quads;
       q += size_t(gridDim.x) * blockDim.x) {
    const size_t i = (q % quads) * 4;
    float4 v = *reinterpret_cast<const float4*>(y + q * 4);
    if (bias) {
      float b[4];
      load_bf16<4>(bias + i, b);
      v = make_float4(v.x + b[0], v.y + b[1], v.z + b[2], v.w + b[3]);
    }
    store4(out + q * 4, v.x, v.y, v.z, v.w);
  }
}

}  // namespace ptk
