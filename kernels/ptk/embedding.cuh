// Token embedding gather: out[t] = table[ids[t]] widened to float (the residual stream's type),
// and optionally the rows' sums of squares in parts (gemv_layout.h) for a gemv that norms them.
#pragma once
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "ptk/gemv_layout.h"
#include "ptk/vec.cuh"

namespace ptk {

constexpr int kEmbeddingThreads = 256;

// One block per token, a thread per part of the row (kGemvRows columns, so whole 8-value loads:
// hidden % 8 == 0, checked on the host), which it copies and, when sumsq is not null, sums the
// squares of in column order as ptk_add_sumsq does. Ids come from device memory, so an id outside
// the vocabulary yields a zero row, never a stray read.
__global__ void __launch_bounds__(kEmbeddingThreads)
    embedding_kernel(const uint16_t* table, int vocab, int hidden, const int32_t* ids, float* out, float* sumsq) {
  const int id = ids[blockIdx.x];
  float* dst = out + size_t(blockIdx.x) * hidden;
  const int width = kGemvRows, parts = norm_parts(hidden);
  for (int g = threadIdx.x; g < parts; g += blockDim.x) {
    float ss = 0.f;
    for (int i = g * width; i < (g + 1) * width && i < hidden; i += 8) {
      float v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      if (id >= 0 && id < vocab) load_bf16<8>(table + size_t(id) * hidden + i, v);
      store4(dst + i, v[0], v[1], v[2], v[3]);
      store4(dst + i + 4, v[4], v[5], v[6], v[7]);
#pragma unroll
      for (int e = 0; e < 8; ++e) ss = fmaf(v[e], v[e], ss);
    }
    if (sumsq != nullptr) sumsq[size_t(blockIdx.x) * parts + g] = ss;
  }
}

}  // namespace ptk
