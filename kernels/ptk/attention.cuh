// Paged attention over a work list, on the tensor cores: each work item is a block of queries
// (with every query head of one kv head: up to 64 rows, packed query x head) against a chunk of
// one span of paged keys; it writes one partial state (o, lse) per row. Decode, multi-path prefill
// and summary attention differ only in the work list the host builds (native/src/planner.cpp);
// merge.cuh combines the partial states. The wide variant's kernel is below; the decode kernel
// (decode_attention.cuh) runs its items of several queries (the cascade: P paths over their
// shared prompt) with the same attend_item, and its one-query items on the CUDA cores.
//
// Warp w owns rows [16 w, 16 w + 16) as the A side of mma.sync m16n8k16 (mma.cuh). K/V tiles of 32
// tokens stream through shared memory in two cp.async stages, so each K/V byte is read from memory
// once per item for all its rows. Per tile and warp:
//   scores S = Q K^T: 4 column tiles of 8 tokens x D/16 steps; Q's fragments stay in registers
//           for the whole item, K's are 32-bit shared loads (row-major K is the B side as is);
//   softmax: each lane holds 8 scores of rows g and g + 8 (lane = 4 g + t), whose maxima and sums
//           are reduced over the 4 lanes of the row;
//   O += P V: S's accumulator layout is the A layout of the next product, so the probabilities
//           never leave registers. They are split into two bf16 halves (hi + lo, 16 bits of the
//           value) and both multiplied, so that the result keeps an f32 path's precision (one
//           bf16 would cost 2^-9 of every weight); V's fragments pair two tokens' bf16 of one dim.
// On the CUDA cores a 64-row item costs ~2 D multiply-adds per row and key, which bounded the
// wide variant by its arithmetic and made a cascade item over 8 paths cost what 8 one-query items
// do; here the math of 64 rows is a few dozen mma a tile.
#pragma once
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "ptk/common.h"
#include "ptk/cp_async.cuh"
#include "ptk/launch.h"
#include "ptk/mma.cuh"
#include "ptk/page_table.h"
#include "ptk/shared.cuh"
#include "ptk/softmax.h"
#include "ptk/variants.h"
#include "ptk/vec.cuh"
#include "ptk/work.h"

namespace ptk {

template <int D>
struct AttentionConfig {
  static_assert(D % 16 == 0, "head_dim: whole k steps of 16");
  static constexpr int kHeadDim = D;
  static constexpr int kWarps = 4;
  static constexpr int kThreads = 32 * kWarps;
  static constexpr int kRows = 16 * kWarps;  // one m16 tile per warp
  static constexpr int kTileTokens = 32;
  static constexpr int kStages = 2;
  static constexpr int kPieces = D / 8;      // 16-byte pieces of a token's head row
  // Shared K/V rows are padded by 16 bytes: the lanes of a fragment load, 8 tokens x 4 words,
  // then fall into 32 different banks.
  static constexpr int kKvStride = D + 8;
  static constexpr int kTileElems = kTileTokens * kKvStride;
  static constexpr size_t kSmemBytes = size_t(2) * kStages * kTileElems * sizeof(uint16_t);  // K and V
  static constexpr int kDimSteps = D / 16;              // k steps of S = Q K^T
  static constexpr int kDimTiles = D / 8;               // n tiles of O
  static constexpr int kTokenTiles = kTileTokens / 8;   // n tiles of S; two k steps of P V
};

static_assert(AttentionConfig<128>::kRows == variant_shape(Variant::kWide).rows &&
                  AttentionConfig<64>::kRows == variant_shape(Variant::kWide).rows &&
                  AttentionConfig<128>::kTileTokens == variant_shape(Variant::kWide).tile_tokens,
              "the kernels' items match the planner's view");
static_assert(AttentionConfig<128>::kSmemBytes <= 48 * 1024 && AttentionConfig<128>::kSmemBytes % 16 == 0,
              "static shared memory (whole 16-byte words): nothing to raise per launch");

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

// The bf16 pair (lo, hi) of a 32-bit word starting at `p` (2-element aligned).
__device__ __forceinline__ uint32_t load_pair(const uint16_t* p) { return *reinterpret_cast<const uint32_t*>(p); }

// Two bf16 (x of the lower index, y of the higher) of different rows as one word.
__device__ __forceinline__ uint32_t pair_of(uint16_t x, uint16_t y) { return uint32_t(x) | (uint32_t(y) << 16); }

// x = hi + lo to 16 bits: hi the nearest bf16 pair, lo the nearest pair to what remains.
__device__ __forceinline__ void split_bf16x2(float x, float y, uint32_t& hi, uint32_t& lo) {
  hi = pack_bf16x2(x, y);
  lo = pack_bf16x2(x - bf16_to_float(uint16_t(hi & 0xFFFFu)), y - bf16_to_float(uint16_t(hi >> 16)));
}

// One item's partial states (row r of kv head h at part_row + h * rows + r) from k_s and v_s,
// each C::kStages tiles of shared memory.
template <class C>
__device__ void attend_item(const AttentionParams& p, const WorkItem it, int kv_head, uint16_t* k_s, uint16_t* v_s) {
  constexpr int D = C::kHeadDim, KS = C::kDimSteps, NT = C::kDimTiles, ST = C::kTokenTiles;
  const int group = p.num_q_heads / p.num_kv_heads;
  const int n_rows = it.q_count * group;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const bool warp_has_rows = warp * 16 < n_rows;
  const int n_tiles = (it.kv_end - it.kv_begin + C::kTileTokens - 1) / C::kTileTokens;

  if (n_tiles > 0) {
    load_kv_tile<C>(p, it, kv_head, 0, k_s, v_s);
    cp_async_commit();
  }

  // Rows g and g + 8 of the warp's tile: their query's limit and Q's A fragments (zero past the
  // item's rows), fragment s of dims [16 s, 16 s + 16).
  int row[2], limit[2];
  uint32_t qa[KS][4];
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    row[h] = warp * 16 + g + 8 * h;
    limit[h] = row[h] < n_rows ? min(it.kv_end, it.causal_base + row[h] / group + 1) : 0;
  }
  const uint16_t* q_row[2];
#pragma unroll
  for (int h = 0; h < 2; ++h)
    q_row[h] = p.q + (size_t(it.q_begin + row[h] / group) * p.num_q_heads + kv_head * group + row[h] % group) * D;
#pragma unroll
  for (int s = 0; s < KS; ++s) {
    qa[s][0] = row[0] < n_rows ? load_pair(q_row[0] + 16 * s + 2 * t) : 0u;
    qa[s][1] = row[1] < n_rows ? load_pair(q_row[1] + 16 * s + 2 * t) : 0u;
    qa[s][2] = row[0] < n_rows ? load_pair(q_row[0] + 16 * s + 2 * t + 8) : 0u;
    qa[s][3] = row[1] < n_rows ? load_pair(q_row[1] + 16 * s + 2 * t + 8) : 0u;
  }

  float m[2] = {-INFINITY, -INFINITY}, d_lane[2] = {0.f, 0.f};
  float acc[NT][4];
#pragma unroll
  for (int n = 0; n < NT; ++n) acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.f;

  for (int tile = 0; tile < n_tiles; ++tile) {
    const int stage = tile % C::kStages;
    if (tile + 1 < n_tiles) {
      load_kv_tile<C>(p, it, kv_head, tile + 1, k_s + (stage ^ 1) * C::kTileElems, v_s + (stage ^ 1) * C::kTileElems);
      cp_async_commit();
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();  // tile `tile` visible to every warp

    if (warp_has_rows) {
      const uint16_t* ks = k_s + stage * C::kTileElems;
      const uint16_t* vs = v_s + stage * C::kTileElems;
      const int first = it.kv_begin + tile * C::kTileTokens;

      // S: s[j] holds (row g, tokens 8 j + 2 t, + 1) in [0], [1] and row g + 8 in [2], [3].
      float s[ST][4];
#pragma unroll
      for (int j = 0; j < ST; ++j) {
        s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.f;
        const uint16_t* k_row = ks + (8 * j + g) * C::kKvStride + 2 * t;
#pragma unroll
        for (int st = 0; st < KS; ++st) {
          const uint32_t b[2] = {load_pair(k_row + 16 * st), load_pair(k_row + 16 * st + 8)};
          mma_bf16_16x8x16(s[j], qa[st], b);
        }
      }

      // Mask and scale, then the online-softmax update of rows g (h = 0) and g + 8 (h = 1).
      float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
      for (int j = 0; j < ST; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int h = e / 2, tok = first + 8 * j + 2 * t + e % 2;
          s[j][e] = tok < limit[h] ? s[j][e] * p.scale_log2 : -INFINITY;
          tile_max[h] = fmaxf(tile_max[h], s[j][e]);
        }
      float rescale[2];
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xFFFFFFFFu, tile_max[h], 1));
        tile_max[h] = fmaxf(tile_max[h], __shfl_xor_sync(0xFFFFFFFFu, tile_max[h], 2));
        const float m_new = fmaxf(m[h], tile_max[h]);
        rescale[h] = softmax_rescale(m[h], m_new);
        m[h] = m_new;
        d_lane[h] *= rescale[h];
      }
#pragma unroll
      for (int j = 0; j < ST; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int h = e / 2;
          s[j][e] = m[h] == -INFINITY ? 0.f : exp2f(s[j][e] - m[h]);
          d_lane[h] += s[j][e];
        }
#pragma unroll
      for (int n = 0; n < NT; ++n) {
        acc[n][0] *= rescale[0];
        acc[n][1] *= rescale[0];
        acc[n][2] *= rescale[1];
        acc[n][3] *= rescale[1];
      }

      // O += P V over the tile's two 16-token steps: P's A fragment of step kk is S's column
      // tiles 2 kk and 2 kk + 1; V's B fragment of dims [8 n, 8 n + 8) pairs tokens 2 t, 2 t + 1
      // (and + 8) of dim 8 n + g.
#pragma unroll
      for (int kk = 0; kk < ST / 2; ++kk) {
        uint32_t hi[4], lo[4];
        split_bf16x2(s[2 * kk][0], s[2 * kk][1], hi[0], lo[0]);
        split_bf16x2(s[2 * kk][2], s[2 * kk][3], hi[1], lo[1]);
        split_bf16x2(s[2 * kk + 1][0], s[2 * kk + 1][1], hi[2], lo[2]);
        split_bf16x2(s[2 * kk + 1][2], s[2 * kk + 1][3], hi[3], lo[3]);
        const uint16_t* v_tok = vs + (16 * kk + 2 * t) * C::kKvStride + g;
#pragma unroll
        for (int n = 0; n < NT; ++n) {
          const uint16_t* v = v_tok + 8 * n;
          const uint32_t b[2] = {pair_of(v[0], v[C::kKvStride]), pair_of(v[8 * C::kKvStride], v[9 * C::kKvStride])};
          mma_bf16_16x8x16(acc[n], hi, b);
          mma_bf16_16x8x16(acc[n], lo, b);
        }
      }
    }
    __syncthreads();  // every warp done with this stage before it is refilled
  }

  // The sums over the row's 4 lanes, then rows g and g + 8: dims 8 n + 2 t, + 1 from acc[n].
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    float d = d_lane[h];
    d += __shfl_xor_sync(0xFFFFFFFFu, d, 1);
    d += __shfl_xor_sync(0xFFFFFFFFu, d, 2);
    if (row[h] >= n_rows) continue;
    const size_t prow = size_t(it.part_row) + size_t(kv_head) * n_rows + row[h];
    const float inv = d > 0.f ? 1.f / d : 0.f;
#pragma unroll
    for (int n = 0; n < NT; ++n)
      *reinterpret_cast<float2*>(p.part_o + prow * D + 8 * n + 2 * t) =
          make_float2(acc[n][2 * h] * inv, acc[n][2 * h + 1] * inv);
    if (t == 0) p.part_lse[prow] = softmax_lse(SoftmaxState{m[h], d});
  }
}

// Persistent grid: block b takes work b, b + gridDim.x, ... (work w = item w / kv_heads, kv head
// w % kv_heads); the count comes from device memory so a captured launch follows plan updates.
template <class C>
__global__ void __launch_bounds__(C::kThreads, 2) attention_kernel(const AttentionParams p) {
  // uint4: the 16-byte alignment cp.async needs (a uint16_t array promises 2).
  PTK_SHARED_ARRAY(uint4, kv_s, C::kSmemBytes / 16);
  uint16_t* const k_s = reinterpret_cast<uint16_t*>(kv_s);
  const int num_work = p.counts->num_work;
  for (int w = blockIdx.x; w < num_work; w += gridDim.x) {
    __syncthreads();  // the previous item's last reads of shared memory are done
    attend_item<C>(p, p.items[w / p.num_kv_heads], w % p.num_kv_heads, k_s, k_s + C::kStages * C::kTileElems);
  }
}

}  // namespace ptk
