// Cascade items of the decode kernel: several queries against keys they all see (the P paths of a
// request over its shared prompt, which the planner gives one span for all of them), so that each
// K/V byte of the prompt is read from memory once per step, not once per path.
//
// An item holds up to 64 rows (query x head of one kv head, packed as the partial states are) and
// runs on the tensor cores: warp w owns rows [16 w, 16 w + 16) as the A side of mma.sync
// m16n8k16 (mma.cuh). K/V tiles of 32 tokens stream through shared memory in two cp.async stages
// (attention.cuh's tile loader and geometry). Per tile and warp:
//   scores S = Q K^T: 4 column tiles of 8 tokens x D/16 steps; Q's fragments stay in registers
//           for the whole item, K's are 32-bit shared loads (row-major K is the B side as is);
//   softmax: each lane holds 8 scores of rows g and g + 8 (lane = 4 g + t), whose maxima and sums
//           are reduced over the 4 lanes of the row;
//   O += P V: S's accumulator layout is the A layout of the next product, so the probabilities
//           never leave registers. They are split into two bf16 halves (hi + lo, 16 bits of the
//           value) and both multiplied, so that the result keeps the f32 path's precision (one
//           bf16 would cost 2^-9 of every weight); V's fragments pair two tokens' bf16 of one dim.
// On CUDA cores a 48-row item would cost eight times the instructions of a one-query item per
// key, which is already about half the issue rate at the copy bandwidth: no gain. Here the math of
// 64 rows is a few dozen mma a tile.
#pragma once
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "ptk/attention.cuh"
#include "ptk/common.h"
#include "ptk/cp_async.cuh"
#include "ptk/mma.cuh"
#include "ptk/softmax.h"
#include "ptk/vec.cuh"
#include "ptk/work.h"

namespace ptk {

template <int D>
struct CascadeConfig {
  using Tiles = WideConfig<D>;  // 32-token K/V tiles, padded rows, two stages, 128 threads
  static constexpr int kHeadDim = D;
  static constexpr int kWarps = Tiles::kWarps;
  static constexpr int kRows = 16 * kWarps;  // one m16 tile per warp
  static constexpr int kDimSteps = D / 16;   // k steps of S = Q K^T
  static constexpr int kDimTiles = D / 8;    // n tiles of O
  static constexpr int kTokenTiles = Tiles::kTileTokens / 8;  // n tiles of S
  static constexpr size_t kSmemBytes = Tiles::kKvBytes;
  static_assert(Tiles::kTileTokens == 32, "two k steps of P V per tile");
};

// The bf16 pair (lo, hi) of a 32-bit word starting at `p` (2-element aligned).
__device__ __forceinline__ uint32_t load_pair(const uint16_t* p) { return *reinterpret_cast<const uint32_t*>(p); }

// Two bf16 (x of the lower index, y of the higher) of different rows as one word.
__device__ __forceinline__ uint32_t pair_of(uint16_t x, uint16_t y) { return uint32_t(x) | (uint32_t(y) << 16); }

// x = hi + lo to 16 bits: hi the nearest bf16 pair, lo the nearest pair to what remains.
__device__ __forceinline__ void split_bf16x2(float x, float y, uint32_t& hi, uint32_t& lo) {
  hi = pack_bf16x2(x, y);
  lo = pack_bf16x2(x - bf16_to_float(uint16_t(hi & 0xFFFFu)), y - bf16_to_float(uint16_t(hi >> 16)));
}

// One item's partial states (part_row + kv_head * rows + r, as decode_item writes them) from k_s
// and v_s, each Tiles::kStages tiles of shared memory.
template <class C>
__device__ void cascade_item(const AttentionParams& p, const WorkItem it, int kv_head, uint16_t* k_s, uint16_t* v_s) {
  using T = typename C::Tiles;
  constexpr int D = C::kHeadDim, KS = C::kDimSteps, NT = C::kDimTiles, ST = C::kTokenTiles;
  const int group = p.num_q_heads / p.num_kv_heads;
  const int n_rows = it.q_count * group;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const bool warp_has_rows = warp * 16 < n_rows;
  const int n_tiles = (it.kv_end - it.kv_begin + T::kTileTokens - 1) / T::kTileTokens;

  if (n_tiles > 0) {
    load_kv_tile<T>(p, it, kv_head, 0, k_s, v_s);
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
    const int stage = tile % T::kStages;
    if (tile + 1 < n_tiles) {
      load_kv_tile<T>(p, it, kv_head, tile + 1, k_s + (stage ^ 1) * T::kTileElems, v_s + (stage ^ 1) * T::kTileElems);
      cp_async_commit();
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();  // tile `tile` visible to every warp

    if (warp_has_rows) {
      const uint16_t* ks = k_s + stage * T::kTileElems;
      const uint16_t* vs = v_s + stage * T::kTileElems;
      const int first = it.kv_begin + tile * T::kTileTokens;

      // S: s[j] holds (row g, tokens 8 j + 2 t, + 1) in [0], [1] and row g + 8 in [2], [3].
      float s[ST][4];
#pragma unroll
      for (int j = 0; j < ST; ++j) {
        s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.f;
        const uint16_t* k_row = ks + (8 * j + g) * T::kKvStride + 2 * t;
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
        const uint16_t* v_tok = vs + (16 * kk + 2 * t) * T::kKvStride + g;
#pragma unroll
        for (int n = 0; n < NT; ++n) {
          const uint16_t* v = v_tok + 8 * n;
          const uint32_t b[2] = {pair_of(v[0], v[T::kKvStride]), pair_of(v[8 * T::kKvStride], v[9 * T::kKvStride])};
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

}  // namespace ptk
