// Token embedding gather: out[t] = table[ids[t]] widened to float (the residual stream's type).
#pragma once
#include <cuda_runtime.h>
#include <stdint.h>

#include "ptk/vec.cuh"

namespace ptk {

constexpr int kEmbeddingThreads = 256;

// One block per token; 8 bf16 per thread and load (hidden % 8 == 0, checked on the host). Ids
// come from device memory, so an id outside the vocabulary yields a zero row, never a stray read.
__global__ void __launch_bounds__(kEmbeddingThreads)
    embedding_kernel(const uint16_t* table, int vocab, int hidden, const int32_t* ids, float* out) {
  const int id = ids[blockIdx.x];
  float* dst = out + size_t(blockIdx.x) * hidden;
  for (int i = threadIdx.x * 8; i < hidden; i += blockDim.x * 8) {
    float v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    if (id >= 0 && id < vocab) load_bf16<8>(table + size_t(id) * hidden + i, v);
    store4(dst + i, v[0], v[1], v[2], v[3]);
    store4(dst + i + 4, v[4], v[5], v[6], v[7]);
  }
}

}  // namespace ptk
