// Merging attention states by log-sum-exp: the partial states of a plan's work items into the
// final output (a pass of its own after the wide variant; inside the decode kernel). One warp per
// (query, head) row; lane l handles dims 4l, 4l+1, ... in 16-byte pieces. (Two caller-given
// states into one, the C ABI's ptk_merge_states, is kernels/attention.cu's.)
#pragma once
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "ptk/launch.h"
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

inline MergePartialsParams merge_params(const AttentionLaunch& a) {
  return MergePartialsParams{a.counts,     a.merge_indptr, a.merge_rows, a.part_o, a.part_lse, a.num_q_heads,
                             a.num_kv_heads, a.head_dim,   a.lse};
}

// Output row `row` (query * num_q_heads + head) of o [num_queries, num_q_heads, head_dim] in OutT
// (uint16_t = bf16, or float), and its lse, from the row's partial states; one warp, lane `lane`
// taking dims 4 lane, 4 lane + 128, ... A row with no partial state (no keys) gets o = 0,
// lse = -inf. The partials are read past L1 (__ldcg): the decode kernel merges in the block that
// finishes a row's items last, reading what other blocks of the same launch wrote.
template <class OutT>
__device__ void merge_partial_row(const MergePartialsParams& p, int row, int lane, OutT* o) {
  const int query = row / p.num_q_heads, head = row % p.num_q_heads;
  const int group = p.num_q_heads / p.num_kv_heads;
  const int key = query * p.num_kv_heads + head / group, g = head % group;
  const int begin = p.indptr[key], end = p.indptr[key + 1];
  float m = -INFINITY;
  for (int e = begin; e < end; ++e) m = fmaxf(m, __ldcg(p.part_lse + p.rows[e] + g));
  float sum = 0.f;
  for (int e = begin; e < end; ++e) sum += m == -INFINITY ? 0.f : expf(__ldcg(p.part_lse + p.rows[e] + g) - m);
  const float inv = sum > 0.f ? 1.f / sum : 0.f;
  for (int c = lane * 4; c < p.head_dim; c += 128) {
    float4 a = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int e = begin; e < end && sum > 0.f; ++e) {
      const size_t pr = size_t(p.rows[e]) + g;
      const float w = expf(__ldcg(p.part_lse + pr) - m) * inv;
      const float4 x = __ldcg(reinterpret_cast<const float4*>(p.part_o + pr * p.head_dim + c));
      a.x += w * x.x;
      a.y += w * x.y;
      a.z += w * x.z;
      a.w += w * x.w;
    }
    store4(o + size_t(row) * p.head_dim + c, a.x, a.y, a.z, a.w);
  }
  if (lane == 0) p.lse[row] = sum > 0.f ? m + logf(sum) : -INFINITY;
}

// Every output row, one warp each (the wide variant's pass after its attention kernel).
template <class OutT>
__global__ void __launch_bounds__(32 * kMergeWarps) merge_partials_kernel(const MergePartialsParams p, OutT* o) {
  const int total = p.counts->num_queries * p.num_q_heads;
  for (int row = blockIdx.x * kMergeWarps + threadIdx.x / 32; row < total; row += gridDim.x * kMergeWarps)
    merge_partial_row(p, row, threadIdx.x % 32, o);
}

}  // namespace ptk
