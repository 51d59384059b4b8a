// Paged attention over a work list: each work item is a block of queries (with every query head
// of one kv head) against a chunk of one span of paged keys; it writes one partial state
// (o, lse) per row. Decode, multi-path prefill and summary attention differ only in the work list
// the host builds (native/src/planner.cpp); merge.cuh combines the partial states.
//
// Block layout: kWarps warps over 32-key tiles. Warp w owns rows [w*RPW, w*RPW + RPW); lane l holds
// the score of token l of every tile and dims [l*D/32, (l+1)*D/32) of the output accumulators. K/V
// tiles stream through shared memory in two cp.async stages, so each K/V byte is read from memory
// once per item for all its rows. (Single-query rows run decode_attention.cuh instead.)
#pragma once
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "ptk/cp_async.cuh"
#include "ptk/launch.h"
#include "ptk/page_table.h"
#include "ptk/shared.cuh"
#include "ptk/softmax.h"
#include "ptk/variants.h"
#include "ptk/vec.cuh"
#include "ptk/work.h"

namespace ptk {

template <int D, int RPW, int WARPS>
struct AttentionConfig {
  static_assert(D % 64 == 0, "head_dim must be a multiple of 64 (lanes hold D/32 = 2, 4, ... dims)");
  static constexpr int kHeadDim = D;
  static constexpr int kRowsPerWarp = RPW;
  static constexpr int kWarps = WARPS;
  static constexpr int kThreads = 32 * kWarps;
  static constexpr int kRows = RPW * WARPS;
  static constexpr int kTileTokens = 32;
  static constexpr int kStages = 2;
  static constexpr int kDimsPerLane = D / 32;
  static constexpr int kPieces = D / 8;      // 16-byte pieces of a token's head row
  // Shared K/V rows are padded by 16 bytes: lanes reading different tokens at the same column
  // then fall into different banks.
  static constexpr int kKvStride = D + 8;
  static constexpr int kTileElems = kTileTokens * kKvStride;
  static constexpr size_t kKvBytes = size_t(2) * kStages * kTileElems * sizeof(uint16_t);
  static constexpr size_t kQBytes = size_t(kRows) * D * sizeof(float);
  static constexpr size_t kPBytes = size_t(kWarps) * RPW * 32 * sizeof(float);
  static constexpr size_t kSmemBytes = kKvBytes + kQBytes + kPBytes;
};

template <int D>
using WideConfig = AttentionConfig<D, 16, 4>;

static_assert(WideConfig<128>::kRows == variant_shape(Variant::kWide).rows &&
              WideConfig<128>::kTileTokens == variant_shape(Variant::kWide).tile_tokens,
              "wide config matches the planner's view");

struct AttentionParams {
  const WorkItem* items;
  const WorkCounts* counts;
  const int32_t* pages;      // the plan's page list; items index it through page_offset
  const uint16_t* q;         // [num_queries, num_q_heads, D] bf16
  const uint16_t* k_cache;   // [num_pages, page_size, num_kv_heads, D] bf16
  const uint16_t* v_cache;
  float* part_o;             // [partial rows, D]
  float* part_lse;           // [partial rows], natural log
  int num_q_heads;
  int num_kv_heads;
  int page_size;
  float scale_log2;          // sm_scale * log2(e): scores in base 2
};

// The kernels' view of a launch (shared by the attention and decode-attention kernels).
inline AttentionParams attention_params(const AttentionLaunch& a) {
  AttentionParams p;
  p.items = a.items;
  p.counts = a.counts;
  p.pages = a.pages;
  p.q = static_cast<const uint16_t*>(a.q);
  p.k_cache = static_cast<const uint16_t*>(a.k_cache);
  p.v_cache = static_cast<const uint16_t*>(a.v_cache);
  p.part_o = a.part_o;
  p.part_lse = a.part_lse;
  p.num_q_heads = a.num_q_heads;
  p.num_kv_heads = a.num_kv_heads;
  p.page_size = a.page_size;
  p.scale_log2 = a.sm_scale * kLog2e;
  return p;
}

// Issues the cp.async copies of tile `tile` of the item into shared stage buffers k_s, v_s.
template <class C>
__device__ __forceinline__ void load_kv_tile(const AttentionParams& p, const WorkItem& it, int kv_head,
                                             int tile, uint16_t* k_s, uint16_t* v_s) {
  const int32_t* pages = p.pages + it.page_offset;
  const int first = it.kv_begin + tile * C::kTileTokens;
  for (int idx = threadIdx.x; idx < C::kTileTokens * C::kPieces; idx += C::kThreads) {
    const int tok = idx / C::kPieces;
    const int piece = idx % C::kPieces;
    const int t = first + tok;
    const bool valid = t < it.kv_end;
    const size_t src = valid ? cache_offset(span_slot(pages, p.page_size, t), kv_head, p.num_kv_heads, C::kHeadDim) +
                                   piece * 8
                             : 0;
    const int dst = tok * C::kKvStride + piece * 8;
    cp_async16(k_s + dst, p.k_cache + src, valid);
    cp_async16(v_s + dst, p.v_cache + src, valid);
  }
}

template <class C>
__device__ void attend_item(const AttentionParams& p, const WorkItem it, int kv_head, char* smem) {
  constexpr int D = C::kHeadDim, RPW = C::kRowsPerWarp, DPL = C::kDimsPerLane;
  uint16_t* k_s = reinterpret_cast<uint16_t*>(smem);
  uint16_t* v_s = k_s + C::kStages * C::kTileElems;
  float* q_s = reinterpret_cast<float*>(smem + C::kKvBytes);
  float* p_s = reinterpret_cast<float*>(smem + C::kKvBytes + C::kQBytes);

  const int group = p.num_q_heads / p.num_kv_heads;
  const int n_rows = it.q_count * group;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int row0 = warp * RPW;
  const bool warp_has_rows = row0 < n_rows;
  const int n_tiles = (it.kv_end - it.kv_begin + C::kTileTokens - 1) / C::kTileTokens;

  load_kv_tile<C>(p, it, kv_head, 0, k_s, v_s);
  cp_async_commit();

  // Query rows (row r = query r / group, head kv_head * group + r % group), pre-scaled.
  for (int idx = threadIdx.x; idx < C::kRows * C::kPieces; idx += C::kThreads) {
    const int r = idx / C::kPieces, piece = idx % C::kPieces;
    float x[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    if (r < n_rows) {
      const int head = kv_head * group + r % group;
      load_bf16<8>(p.q + (size_t(it.q_begin + r / group) * p.num_q_heads + head) * D + piece * 8, x);
    }
    float4* dst = reinterpret_cast<float4*>(q_s + r * D + piece * 8);
    dst[0] = make_float4(x[0] * p.scale_log2, x[1] * p.scale_log2, x[2] * p.scale_log2, x[3] * p.scale_log2);
    dst[1] = make_float4(x[4] * p.scale_log2, x[5] * p.scale_log2, x[6] * p.scale_log2, x[7] * p.scale_log2);
  }

  float m[RPW], d_lane[RPW], acc[RPW][DPL];
#pragma unroll
  for (int r = 0; r < RPW; ++r) {
    m[r] = -INFINITY;
    d_lane[r] = 0.f;
#pragma unroll
    for (int i = 0; i < DPL; ++i) acc[r][i] = 0.f;
  }

  for (int tile = 0; tile < n_tiles; ++tile) {
    const int stage = tile % C::kStages;
    if (tile + 1 < n_tiles) {
      load_kv_tile<C>(p, it, kv_head, tile + 1, k_s + (stage ^ 1) * C::kTileElems, v_s + (stage ^ 1) * C::kTileElems);
      cp_async_commit();
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();  // tile `tile` (and, the first time, q_s) visible to every warp

    if (warp_has_rows) {
      const uint16_t* ks = k_s + stage * C::kTileElems;
      const uint16_t* vs = v_s + stage * C::kTileElems;
      const int t = it.kv_begin + tile * C::kTileTokens + lane;

      // Scores of this lane's token against the warp's rows.
      float s[RPW];
#pragma unroll
      for (int r = 0; r < RPW; ++r) s[r] = 0.f;
#pragma unroll 2
      for (int piece = 0; piece < C::kPieces; ++piece) {
        float k[8];
        load_bf16<8>(ks + lane * C::kKvStride + piece * 8, k);
#pragma unroll
        for (int r = 0; r < RPW; ++r) {
          const float4* qv = reinterpret_cast<const float4*>(q_s + (row0 + r) * D + piece * 8);
          const float4 a = qv[0], b = qv[1];
          s[r] += a.x * k[0] + a.y * k[1] + a.z * k[2] + a.w * k[3] + b.x * k[4] + b.y * k[5] + b.z * k[6] + b.w * k[7];
        }
      }

      // Mask, then the online-softmax update; probabilities go to shared memory for P.V.
#pragma unroll
      for (int r = 0; r < RPW; ++r) {
        const int row = row0 + r;
        const int limit = min(it.kv_end, it.causal_base + row / group + 1);
        const float score = (row < n_rows && t < limit) ? s[r] : -INFINITY;
        const float m_new = fmaxf(m[r], warp_max(score));
        const float prob = m_new == -INFINITY ? 0.f : exp2f(score - m_new);
        const float rescale = softmax_rescale(m[r], m_new);
        d_lane[r] = d_lane[r] * rescale + prob;
#pragma unroll
        for (int i = 0; i < DPL; ++i) acc[r][i] *= rescale;
        m[r] = m_new;
        p_s[(warp * RPW + r) * 32 + lane] = prob;
      }
      __syncwarp();

      // acc[r] += sum over the warp's 32 tokens of prob[r][j] * v[j].
#pragma unroll 2
      for (int j0 = 0; j0 < 32; j0 += 4) {
        float v[4][DPL];
#pragma unroll
        for (int jj = 0; jj < 4; ++jj) load_bf16<DPL>(vs + (j0 + jj) * C::kKvStride + lane * DPL, v[jj]);
#pragma unroll
        for (int r = 0; r < RPW; ++r) {
          const float4 pr = *reinterpret_cast<const float4*>(p_s + (warp * RPW + r) * 32 + j0);
#pragma unroll
          for (int i = 0; i < DPL; ++i) acc[r][i] += pr.x * v[0][i] + pr.y * v[1][i] + pr.z * v[2][i] + pr.w * v[3][i];
        }
      }
    }
    __syncthreads();  // every warp done with this stage before it is refilled
  }

  float d[RPW];
#pragma unroll
  for (int r = 0; r < RPW; ++r) d[r] = warp_sum(d_lane[r]);

#pragma unroll
  for (int r = 0; r < RPW; ++r) {
    const int row = row0 + r;
    if (row >= n_rows) continue;
    const size_t prow = size_t(it.part_row) + size_t(kv_head) * n_rows + row;
    const float inv = d[r] > 0.f ? 1.f / d[r] : 0.f;
#pragma unroll
    for (int i = 0; i < DPL; ++i) p.part_o[prow * D + lane * DPL + i] = acc[r][i] * inv;
    if (lane == 0) p.part_lse[prow] = softmax_lse(SoftmaxState{m[r], d[r]});
  }
}

// Persistent grid: block b takes work b, b + gridDim.x, ... (work w = item w / kv_heads, kv head
// w % kv_heads); the count comes from device memory so a captured launch follows plan updates.
template <class C>
__global__ void __launch_bounds__(C::kThreads, 1) attention_kernel(const AttentionParams p) {
  PTK_DYNAMIC_SHARED(char, smem);
  const int num_work = p.counts->num_work;
  for (int w = blockIdx.x; w < num_work; w += gridDim.x) {
    __syncthreads();  // the previous item's last reads of shared memory are done
    attend_item<C>(p, p.items[w / p.num_kv_heads], w % p.num_kv_heads, smem);
  }
}

}  // namespace ptk
