// Merging attention states by log-sum-exp: the partial states of a plan's work items into the
// final output, and two caller-given states into one (the C ABI's ptk_merge_states).
// One warp per (query, head) row; lane l handles dims 4l, 4l+1, ... in 16-byte pieces.
#pragma once
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "ptk/softmax.h"
#include "ptk/vec.cuh"
#include "ptk/work.h"

namespace ptk {

constexpr int kMergeWarps = 4;  // rows per block

struct MergePartialsParams {
  const WorkCounts* counts;
  const int32_t* indptr;  // [num_queries * kv_heads + 1]: partial rows of (query, kv head)
  const int32_t* rows;    // partial row of the group's head 0; head g of the group adds g
  const float* part_o;
  const float* part_lse;
  int num_q_heads;
  int num_kv_heads;
  int head_dim;
  float* lse;             // [num_queries, num_q_heads]
};

// o [num_queries, num_q_heads, head_dim] in OutT (uint16_t = bf16, or float). A row with no
// partial state (no keys) gets o = 0, lse = -inf.
template <class OutT>
__global__ void __launch_bounds__(32 * kMergeWarps) merge_partials_kernel(const MergePartialsParams p, OutT* o) {
  const int lane = threadIdx.x % 32;
  const int total = p.counts->num_queries * p.num_q_heads;
  const int group = p.num_q_heads / p.num_kv_heads;
  for (int row = blockIdx.x * kMergeWarps + threadIdx.x / 32; row < total; row += gridDim.x * kMergeWarps) {
    const int query = row / p.num_q_heads, head = row % p.num_q_heads;
    const int key = query * p.num_kv_heads + head / group, g = head % group;
    const int begin = p.indptr[key], end = p.indptr[key + 1];
    float m = -INFINITY;
    for (int e = begin; e < end; ++e) m = fmaxf(m, p.part_lse[p.rows[e] + g]);
    float sum = 0.f;
    for (int e = begin; e < end; ++e) sum += m == -INFINITY ? 0.f : expf(p.part_lse[p.rows[e] + g] - m);
    const float inv = sum > 0.f ? 1.f / sum : 0.f;
    for (int c = lane * 4; c < p.head_dim; c += 128) {
      float4 a = make_float4(0.f, 0.f, 0.f, 0.f);
      for (int e = begin; e < end && sum > 0.f; ++e) {
        const size_t pr = size_t(p.rows[e]) + g;
        const float w = expf(p.part_lse[pr] - m) * inv;
        const float4 x = *reinterpret_cast<const float4*>(p.part_o + pr * p.head_dim + c);
        a.x += w * x.x;
        a.y += w * x.y;
        a.z += w * x.z;
        a.w += w * x.w;
      }
      store4(o + size_t(row) * p.head_dim + c, a.x, a.y, a.z, a.w);
    }
    if (lane == 0) p.lse[row] = sum > 0.f ? m + logf(sum) : -INFINITY;
  }
}

// (o_a, lse_a) + (o_b, lse_b) -> (o, lse) over `rows` rows of head_dim floats.
__global__ void __launch_bounds__(32 * kMergeWarps) merge_states_kernel(const float* o_a, const float* lse_a,
                                                                         const float* o_b, const float* lse_b,
                                                                         float* o, float* lse, int rows, int head_dim) {
  const int lane = threadIdx.x % 32;
  for (int row = blockIdx.x * kMergeWarps + threadIdx.x / 32; row < rows; row += gridDim.x * kMergeWarps) {
    const MergeWeights w = merge_weights(lse_a[row], lse_b[row]);
    for (int c = lane * 4; c < head_dim; c += 128) {
      const size_t i = size_t(row) * head_dim + c;
      const float4 a = *reinterpret_cast<const float4*>(o_a + i);
      const float4 b = *reinterpret_cast<const float4*>(o_b + i);
      // An empty side has weight 0; skip it so that whatever it holds cannot leak in.
      const float4 fa = w.w_a > 0.f ? a : make_float4(0.f, 0.f, 0.f, 0.f);
      const float4 fb = w.w_b > 0.f ? b : make_float4(0.f, 0.f, 0.f, 0.f);
      store4(o + i, w.w_a * fa.x + w.w_b * fb.x, w.w_a * fa.y + w.w_b * fb.y, w.w_a * fa.z + w.w_b * fb.z,
             w.w_a * fa.w + w.w_b * fb.w);
    }
    __syncwarp();  // every lane has read lse_a/lse_b[row] (which lse may alias)
    if (lane == 0) lse[row] = w.lse;
  }
}

}  // namespace ptk
