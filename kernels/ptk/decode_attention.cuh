// Decode attention: paged attention for steps of one query per group (decode, phase-1 path steps,
// one-query summaries). An item of one query holds that query's heads of one kv head (the whole
// GQA group), so each K/V byte of its chunk is read from memory once for all of them; an item of
// several queries (the P paths over their shared prompt: the cascade) runs attention.cuh's
// tensor-core attend_item instead, in the same launch.
//
// A one-query item has no shared-memory staging of K/V: a warp takes 32 tokens at a time.
//   scores: lane l owns token l and loads its whole K row (D/8 16-byte loads in flight per
//           thread) straight into registers, then dots it with the ROWS query rows (shared memory,
//           read as broadcasts).
//   P.V:    the warp reads V rows coalesced, D/8 lanes per token (32 / (D/8) tokens per load), all
//           D/8 loads of the 32 tokens in flight before the math; lane keeps 8 dims x ROWS.
// The cache row of a token is found once per lane per 32 tokens (one page-table load and one
// division per token, none per 16-byte piece); the V phase takes the rows from the K phase by
// shuffle. Four warps split the chunk (token groups warp, warp + 4, ...) and merge their states
// through shared memory at the end of the item.
#pragma once
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "ptk/arrival.cuh"
#include "ptk/attention.cuh"
#include "ptk/merge.cuh"
#include "ptk/page_table.h"
#include "ptk/shared.cuh"
#include "ptk/softmax.h"
#include "ptk/variants.h"
#include "ptk/vec.cuh"
#include "ptk/work.h"

namespace ptk {

template <int D, int ROWS>
struct DecodeConfig {
  static_assert(D == 64 || D == 128, "head_dim: 8 or 16 lanes per V row");
  static_assert(ROWS >= 1 && ROWS <= kMaxGroup, "rows: one query's group");
  static constexpr int kHeadDim = D;
  static constexpr int kRows = ROWS;
  static constexpr int kWarps = 4;
  static constexpr int kThreads = 32 * kWarps;
  static constexpr int kPieces = D / 8;               // 16-byte pieces of a head row
  static constexpr int kLanesPerRow = kPieces;        // V phase: lanes reading one token's row
  static constexpr int kRowsPerLoad = 32 / kPieces;   // V phase: tokens per warp-wide load
  static constexpr int kVLoads = 32 / kRowsPerLoad;   // V loads per lane per 32 tokens
  using Cascade = AttentionConfig<D>;  // items of several queries
  // Shared memory, one item's at a time: decode_item's arrays, or a cascade item's K/V tiles.
  static constexpr size_t kQAt = 0, kPAt = kQAt + size_t(ROWS) * D * sizeof(float);
  static constexpr size_t kMAt = kPAt + size_t(kWarps) * ROWS * 32 * sizeof(float);
  static constexpr size_t kDAt = kMAt + size_t(kWarps) * ROWS * sizeof(float);
  static constexpr size_t kOAt = kDAt + size_t(kWarps) * ROWS * sizeof(float);
  static constexpr size_t kDecodeBytes = kOAt + size_t(kWarps) * ROWS * D * sizeof(float);
  static constexpr size_t kSmemBytes = kDecodeBytes > Cascade::kSmemBytes ? kDecodeBytes : Cascade::kSmemBytes;
  static_assert(Cascade::kWarps == kWarps, "one block shape for both kinds of item");
  static_assert(kSmemBytes <= 48 * 1024, "static shared memory: nothing to raise per launch");
};

static_assert(variant_shape(Variant::kDecode).rows == AttentionConfig<128>::kRows &&
                  AttentionConfig<64>::kRows == AttentionConfig<128>::kRows,
              "decode plans hold one query's group, or up to a cascade item's rows of several queries");

template <class C>
__device__ void decode_item(const AttentionParams& p, const WorkItem it, int kv_head, float* q_s, float* p_s,
                            float* m_x, float* d_x, float* o_x) {
  constexpr int D = C::kHeadDim, ROWS = C::kRows, LPR = C::kLanesPerRow, RPL = C::kRowsPerLoad;
  const int group = p.num_q_heads / p.num_kv_heads;
  const int n_rows = it.q_count * group;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

  // Query rows (row r = query r / group, head kv_head * group + r % group), pre-scaled.
  for (int idx = threadIdx.x; idx < ROWS * C::kPieces; idx += C::kThreads) {
    const int r = idx / C::kPieces, piece = idx % C::kPieces;
    float x[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    if (r < n_rows) load_bf16<8>(p.q + (size_t(it.q_begin + r / group) * p.num_q_heads + kv_head * group + r % group) * D + piece * 8, x);
#pragma unroll
    for (int e = 0; e < 8; ++e) q_s[r * D + piece * 8 + e] = x[e] * p.scale_log2;
  }
  __syncthreads();

  float m[ROWS], d_lane[ROWS], acc[ROWS][8];
#pragma unroll
  for (int r = 0; r < ROWS; ++r) {
    m[r] = -INFINITY;
    d_lane[r] = 0.f;
#pragma unroll
    for (int e = 0; e < 8; ++e) acc[r][e] = 0.f;
  }

  const int32_t* pages = p.pages + it.page_offset;
  float* probs = p_s + warp * ROWS * 32;
  const int kv_end = min(it.kv_end, it.causal_base + it.q_count);  // the last query's limit
  for (int base = it.kv_begin + warp * 32; base < kv_end; base += C::kThreads) {
    const int t = base + lane;
    const bool valid = t < kv_end;
    // Cache row (slot * kv_heads + kv head) of this lane's token.
    const int64_t row = valid ? span_slot(pages, p.page_size, t) * p.num_kv_heads + kv_head : 0;

    uint4 kr[C::kPieces];
    const uint4* kp = reinterpret_cast<const uint4*>(p.k_cache + row * D);
#pragma unroll
    for (int i = 0; i < C::kPieces; ++i) kr[i] = valid ? kp[i] : uint4{0u, 0u, 0u, 0u};

    float s[ROWS];
#pragma unroll
    for (int r = 0; r < ROWS; ++r) s[r] = 0.f;
#pragma unroll
    for (int i = 0; i < C::kPieces; ++i) {
      float k[8];
      unpack_bf16x8(kr[i], k);
#pragma unroll
      for (int r = 0; r < ROWS; ++r) {
        const float4 a = *reinterpret_cast<const float4*>(q_s + r * D + i * 8);
        const float4 b = *reinterpret_cast<const float4*>(q_s + r * D + i * 8 + 4);
        s[r] += a.x * k[0] + a.y * k[1] + a.z * k[2] + a.w * k[3] + b.x * k[4] + b.y * k[5] + b.z * k[6] + b.w * k[7];
      }
    }

    // Mask, then the online-softmax update; probabilities go to shared memory for P.V.
#pragma unroll
    for (int r = 0; r < ROWS; ++r) {
      const bool seen = r < n_rows && t < min(kv_end, it.causal_base + r / group + 1);
      const float score = seen ? s[r] : -INFINITY;
      const float m_new = fmaxf(m[r], warp_max(score));
      const float prob = m_new == -INFINITY ? 0.f : exp2f(score - m_new);
      const float rescale = softmax_rescale(m[r], m_new);
      d_lane[r] = d_lane[r] * rescale + prob;
#pragma unroll
      for (int e = 0; e < 8; ++e) acc[r][e] *= rescale;
      m[r] = m_new;
      probs[r * 32 + lane] = prob;
    }
    __syncwarp();

    // acc[r] += prob[r][j] * v[j] over the 32 tokens; this lane reads dims piece*8 .. +8 of tokens
    // j = load * RPL + lane / LPR.
    const int piece = lane % LPR;
    uint4 vr[C::kVLoads];
#pragma unroll
    for (int l = 0; l < C::kVLoads; ++l) {
      const int j = l * RPL + lane / LPR;
      const int64_t vrow = __shfl_sync(0xFFFFFFFFu, row, j);
      vr[l] = base + j < kv_end ? reinterpret_cast<const uint4*>(p.v_cache + vrow * D)[piece]
                                : uint4{0u, 0u, 0u, 0u};
    }
#pragma unroll
    for (int l = 0; l < C::kVLoads; ++l) {
      const int j = l * RPL + lane / LPR;
      float v[8];
      unpack_bf16x8(vr[l], v);
#pragma unroll
      for (int r = 0; r < ROWS; ++r) {
        const float pr = probs[r * 32 + j];
#pragma unroll
        for (int e = 0; e < 8; ++e) acc[r][e] += pr * v[e];
      }
    }
    __syncwarp();  // every lane read this group's probabilities before the next overwrites them
  }

  // Lanes with the same piece saw different tokens: sum them; then each warp's state goes to
  // shared memory and the block merges the warps (they saw disjoint token groups).
#pragma unroll
  for (int r = 0; r < ROWS; ++r) {
    const float d = warp_sum(d_lane[r]);
#pragma unroll
    for (int e = 0; e < 8; ++e)
#pragma unroll
      for (int o = LPR; o < 32; o *= 2) acc[r][e] += __shfl_xor_sync(0xFFFFFFFFu, acc[r][e], o);
    if (lane == 0) {
      m_x[warp * ROWS + r] = m[r];
      d_x[warp * ROWS + r] = d;
    }
    if (lane < LPR) {
#pragma unroll
      for (int e = 0; e < 8; ++e) o_x[(warp * ROWS + r) * D + lane * 8 + e] = acc[r][e];
    }
  }
  __syncthreads();
  for (int idx = threadIdx.x; idx < n_rows * D; idx += C::kThreads) {
    const int r = idx / D, c = idx % D;
    float m_all = -INFINITY;
#pragma unroll
    for (int w = 0; w < C::kWarps; ++w) m_all = fmaxf(m_all, m_x[w * ROWS + r]);
    float d_all = 0.f, o_all = 0.f;
#pragma unroll
    for (int w = 0; w < C::kWarps; ++w) {
      const float f = softmax_rescale(m_x[w * ROWS + r], m_all);
      d_all += f * d_x[w * ROWS + r];
      o_all += f * o_x[(w * ROWS + r) * D + c];
    }
    const size_t prow = size_t(it.part_row) + size_t(kv_head) * n_rows + r;
    p.part_o[prow * D + c] = d_all > 0.f ? o_all / d_all : 0.f;
    if (c == 0) p.part_lse[prow] = softmax_lse(SoftmaxState{m_all, d_all});
  }
}

// Persistent grid as in attention.cuh: block b takes work b, b + gridDim.x, ... (work w = item
// w / kv_heads, kv head w % kv_heads). The merge is fused: after writing its partial states, the
// block that finishes the last of a (query, kv head)'s items merges that query's heads of the kv
// head into o and lse (arrival.cuh), so a step has no merge pass; a cascade item arrives for each
// of its queries in turn. `arrivals` [max queries * kv_heads] is zero before the launch and left
// zero after it. Shared memory is static (under 48 KB): nothing to raise.
template <class C, class OutT>
__global__ void __launch_bounds__(C::kThreads, 2)
    decode_attention_kernel(const AttentionParams p, const MergePartialsParams m, OutT* o, int* arrivals) {
  PTK_SHARED_ARRAY(uint4, smem, (C::kSmemBytes + 15) / 16);
  PTK_SHARED_ARRAY(int, last_s, 1);
  char* const at = reinterpret_cast<char*>(smem);
  uint16_t* const k_s = reinterpret_cast<uint16_t*>(at);
  uint16_t* const v_s = k_s + C::Cascade::kStages * C::Cascade::kTileElems;
  const int num_work = p.counts->num_work;
  const int group = p.num_q_heads / p.num_kv_heads;
  for (int w = blockIdx.x; w < num_work; w += gridDim.x) {
    __syncthreads();  // the previous item's reads of shared memory are done
    const WorkItem it = p.items[w / p.num_kv_heads];
    const int kv_head = w % p.num_kv_heads;
    if (it.q_count == 1) {
      decode_item<C>(p, it, kv_head, reinterpret_cast<float*>(at + C::kQAt), reinterpret_cast<float*>(at + C::kPAt),
                     reinterpret_cast<float*>(at + C::kMAt), reinterpret_cast<float*>(at + C::kDAt),
                     reinterpret_cast<float*>(at + C::kOAt));
    } else {
      attend_item<typename C::Cascade>(p, it, kv_head, k_s, v_s);
    }
    for (int query = it.q_begin; query < it.q_begin + it.q_count; ++query) {
      const int key = query * p.num_kv_heads + kv_head;
      if (!arrive_last(arrivals + key, m.indptr[key + 1] - m.indptr[key], last_s)) continue;
      for (int g = threadIdx.x / 32; g < group; g += C::kWarps)
        merge_partial_row(m, query * p.num_q_heads + kv_head * group + g, threadIdx.x % 32, o);
    }
  }
}

}  // namespace ptk
