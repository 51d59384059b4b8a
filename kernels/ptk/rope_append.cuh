// Fused thought embedding + RoPE + KV append, one launch per layer. Per token: add the layer's
// thought-embedding row (by segment id) to K and V of every kv head, rotate Q and K (neox
// rotate-half) at the token's own position, write Q to q_out and K/V to their cache slot.
// One block per token (grid-stride); the block first builds the token's cos/sin table.
#pragma once
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "ptk/common.h"
#include "ptk/page_table.h"
#include "ptk/rope_freq.h"
#include "ptk/shared.cuh"

namespace ptk {

constexpr int kRopeThreads = 128;

struct RopeAppendParams {
  const int32_t* num_tokens;     // device count, so that a captured launch follows plan updates
  const int32_t* positions;      // [T]
  const int32_t* segment_ids;    // [T]
  const int32_t* slot_mapping;   // [T], -1 = do not write
  const uint16_t* qkv;           // [T, (Hq + 2 Hkv) D] bf16, bias added
  const uint16_t* thought_table; // [max_segments, D] bf16, or null (no thought embedding)
  uint16_t* q_out;               // [T, Hq, D] bf16
  uint16_t* k_cache;             // [num_pages, page_size, Hkv, D] bf16
  uint16_t* v_cache;
  int num_q_heads;
  int num_kv_heads;
  RopeParams rope;
};

template <int D>
__global__ void __launch_bounds__(kRopeThreads) rope_append_kernel(const RopeAppendParams p) {
  constexpr int kHalf = D / 2;
  PTK_SHARED_ARRAY(float, cos_s, kHalf);
  PTK_SHARED_ARRAY(float, sin_s, kHalf);
  const int n = *p.num_tokens;
  const int row_elems = (p.num_q_heads + 2 * p.num_kv_heads) * D;
  // Angles in double: positions reach 1e5 and the reference is float64.
  const double mscale = rope_mscale(p.rope);
  for (int tok = blockIdx.x; tok < n; tok += gridDim.x) {
    const int pos = p.positions[tok];
    const int32_t slot = p.slot_mapping[tok];
    const uint16_t* e = p.thought_table ? p.thought_table + size_t(p.segment_ids[tok]) * D : nullptr;
    const uint16_t* row = p.qkv + size_t(tok) * row_elems;
    __syncthreads();  // the previous token's table is no longer read
    for (int i = threadIdx.x; i < kHalf; i += blockDim.x) {
      double s, c;
      sincos(pos * rope_inv_freq(i, D, p.rope), &s, &c);
      cos_s[i] = float(c * mscale);
      sin_s[i] = float(s * mscale);
    }
    __syncthreads();

    // Q heads then K heads are contiguous in the row: pair (head h, i) rotates dims i and i + D/2.
    for (int idx = threadIdx.x; idx < (p.num_q_heads + p.num_kv_heads) * kHalf; idx += blockDim.x) {
      const int h = idx / kHalf, i = idx % kHalf;
      float x1 = bf16_to_float(row[h * D + i]), x2 = bf16_to_float(row[h * D + i + kHalf]);
      const bool is_k = h >= p.num_q_heads;
      if (is_k && e) {
        x1 += bf16_to_float(e[i]);
        x2 += bf16_to_float(e[i + kHalf]);
      }
      const float y1 = x1 * cos_s[i] - x2 * sin_s[i];
      const float y2 = x2 * cos_s[i] + x1 * sin_s[i];
      uint16_t* dst;
      if (!is_k) {
        dst = p.q_out + (size_t(tok) * p.num_q_heads + h) * D;
      } else if (slot >= 0) {
        dst = p.k_cache + cache_offset(slot, h - p.num_q_heads, p.num_kv_heads, D);
      } else {
        continue;
      }
      dst[i] = float_to_bf16(y1);
      dst[i + kHalf] = float_to_bf16(y2);
    }

    if (slot >= 0) {
      const uint16_t* v = row + (p.num_q_heads + p.num_kv_heads) * D;
      for (int idx = threadIdx.x; idx < p.num_kv_heads * D; idx += blockDim.x) {
        const int h = idx / D, d = idx % D;
        const float x = bf16_to_float(v[idx]) + (e ? bf16_to_float(e[d]) : 0.f);
        p.v_cache[cache_offset(slot, h, p.num_kv_heads, D) + d] = float_to_bf16(x);
      }
    }
  }
}

}  // namespace ptk
