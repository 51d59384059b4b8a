// Fused thought embedding + RoPE + KV append, one launch per layer where qkv comes from a GEMM (a
// decode step's qkv gemv appends as it writes, gemv.cuh). Per token: add the layer's
// thought-embedding row (by segment id) to K and V of every kv head, rotate Q and K (neox
// rotate-half) at the token's own position, write Q to q_out and K/V to their cache slot.
// One block per token (grid-stride); the block first builds the token's cos/sin table. The
// arithmetic per pair of dims is rope_append_pair, which the qkv gemv also runs in its epilogue.
#pragma once
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "ptk/common.h"
#include "ptk/launch.h"
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

inline RopeAppendParams rope_append_params(const RopeAppendLaunch& a) {
  return RopeAppendParams{a.num_tokens,
                          a.positions,
                          a.segment_ids,
                          a.slot_mapping,
                          static_cast<const uint16_t*>(a.qkv),
                          static_cast<const uint16_t*>(a.thought_table),
                          static_cast<uint16_t*>(a.q_out),
                          static_cast<uint16_t*>(a.k_cache),
                          static_cast<uint16_t*>(a.v_cache),
                          a.num_q_heads,
                          a.num_kv_heads,
                          a.rope};
}

// cos and sin of pair i of a head of d dims at position pos, times the YaRN mscale: angles in
// double, as the float64 reference (positions reach 1e5).
__device__ __forceinline__ void rope_cos_sin(int pos, int i, int d, const RopeParams& rope, double mscale, float* c,
                                             float* s) {
  double sn, cs;
  sincos(pos * rope_inv_freq(i, d, rope), &sn, &cs);
  *c = float(cs * mscale);
  *s = float(sn * mscale);
}

// Pair (i, i + d/2) of head h of token tok's qkv row (q heads, then k heads, then v heads), as
// bf16 values (x1, x2): the thought embedding added (k, v), rotated by (c, s) (q, k: unused for
// v), stored (q to q_out, k and v to the token's cache slot unless it is -1). The one place the
// append's arithmetic is written: ptk_rope_append and the gemv that appends as it writes
// (gemv.cuh) both call it, and agree bit for bit. The rotation is written with fmaf so that nvcc
// and the sim's host compiler round it alike.
__device__ __forceinline__ void rope_append_pair(const RopeAppendParams& p, int d, int tok, int h, int i, float x1,
                                                 float x2, float c, float s) {
  const int half = d / 2;
  const bool is_q = h < p.num_q_heads, is_v = h >= p.num_q_heads + p.num_kv_heads;
  const int32_t slot = p.slot_mapping[tok];
  if (!is_q && slot < 0) return;
  if (!is_q && p.thought_table) {
    const uint16_t* e = p.thought_table + size_t(p.segment_ids[tok]) * d;
    x1 += bf16_to_float(e[i]);
    x2 += bf16_to_float(e[i + half]);
  }
  float y1 = x1, y2 = x2;
  if (!is_v) {
    y1 = fmaf(x1, c, -(x2 * s));
    y2 = fmaf(x2, c, x1 * s);
  }
  uint16_t* dst;
  if (is_q) {
    dst = p.q_out + (size_t(tok) * p.num_q_heads + h) * d;
  } else {
    const int kv = h - p.num_q_heads - (is_v ? p.num_kv_heads : 0);
    dst = (is_v ? p.v_cache : p.k_cache) + cache_offset(slot, kv, p.num_kv_heads, d);
  }
  dst[i] = float_to_bf16(y1);
  dst[i + half] = float_to_bf16(y2);
}

template <int D>
__global__ void __launch_bounds__(kRopeThreads) rope_append_kernel(const RopeAppendParams p) {
  constexpr int kHalf = D / 2;
  PTK_SHARED_ARRAY(float, cos_s, kHalf);
  PTK_SHARED_ARRAY(float, sin_s, kHalf);
  const int n = *p.num_tokens;
  const int heads = p.num_q_heads + 2 * p.num_kv_heads;
  const double mscale = rope_mscale(p.rope);
  for (int tok = blockIdx.x; tok < n; tok += gridDim.x) {
    const uint16_t* row = p.qkv + size_t(tok) * heads * D;
    __syncthreads();  // the previous token's table is no longer read
    for (int i = threadIdx.x; i < kHalf; i += blockDim.x) rope_cos_sin(p.positions[tok], i, D, p.rope, mscale, cos_s + i, sin_s + i);
    __syncthreads();
    for (int idx = threadIdx.x; idx < heads * kHalf; idx += blockDim.x) {
      const int h = idx / kHalf, i = idx % kHalf;
      rope_append_pair(p, D, tok, h, i, bf16_to_float(row[h * D + i]), bf16_to_float(row[h * D + i + kHalf]), cos_s[i],
                       sin_s[i]);
    }
  }
}

}  // namespace ptk
