// The AVX-512 BF16 path of the CPU matmul (this file alone is built with the AVX-512 F, BW and
// BF16 flags; the dispatcher calls it only on a CPU, and OS, that runs them). Like the other ISA
// files it has internal linkage only and no library code.
//
// VDPBF16PS multiplies 16 pairs of bf16 and adds both products of a pair to an f32 lane: lane j
// gets w[2j] x[2j] + w[2j+1] x[2j+1]. The pairs of a weight row are its adjacent elements, so the
// weights are loaded straight from w (64 bytes, 32 elements of k, per instruction; the checkpoint
// read in place) and x is the matching 32 elements of a row of x, packed once per x as its hi and
// lo halves (cpu_bf16_halves.h): row t of packed x is hi[kp] then lo[kp], kp = k rounded up to a
// block of 32, zeros past k. With x rounded to bf16 (PTK_CPU_X_BF16) a row is hi[kp] alone, and
// every tile does half the products.
//
// Numerics: each output's 16 lanes start at zero and take, per block of 32 elements of k in
// order, the hi products then the lo ones if x has them (the last, partial block read with its
// missing weights as zeros); then the lanes are added in a fixed tree and the bias last. Each
// output therefore depends only on its weight row and its row of x: a row's bits never depend on
// m, on the other rows or on how n is split. The instruction treats bf16 denormals as zero, far
// under the rounding of lo.
//
// Register tiles of R weight rows x T rows of x: at most 24 accumulators (kMaxSums), R weight
// vectors and the two halves of one row of x in the 32 registers. Prefill: 4 x 6 (16 loads feed
// 48 products per block of k). Decode: 4 x m up to 6 rows of x, else 3 x up to 8 (one pass over
// the group's weights per 8 rows of x). Measured on Zen 4 with the weights in cache, one thread
// (m = 8, 12, 16): 3 x 8 runs at 86% of the two-halves ceiling, 2 x 8 and 2 x 12 at 73-76%.
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpu_bf16_halves.h"
#include "cpu_matmul.h"

namespace {

constexpr int kBlock = 32;  // elements of k per instruction (16 pairs)
constexpr int kMaxSums = 24;
constexpr int kRows = 4;  // the wide tiles: weight rows
constexpr int kTokens = 6;  // and rows of x
constexpr int kDecodeRows = 3;  // the decode tiles past 6 rows of x
constexpr int kDecodeTokens = kMaxSums / kDecodeRows;
// Prefill (m > kOnePassRows): weight rows in panels of kPanelRows, every tile over the whole of k
// in one pass, the panel's rows met by every tile of rows of x in turn. Measured on Zen 4 (m =
// 512, 2 threads, weights in cache, before the unmasked blocks below): k in one pass 76-83% of the
// VDPBF16PS peak with x in bf16 (gate_up, down, qkv, o), against 69-74% with k in chunks of 1024
// whose lane sums waited in scratch between chunks (the tile's x then in L1, the panel's chunk in
// L2), and 41-46% against 35-41% with x in two halves. No faster either: the tile's own weight
// rows prefetched into L1 4-16 blocks ahead; x packed 6 rows interleaved by block (one stream);
// panels of 8, 16 or 32 rows.
constexpr int kPanelRows = 64;
// Decode (m <= kOnePassRows): each group of 3 or 4 weight rows in one pass over k per tile of
// rows of x, the later passes finding the group's rows (contiguous in w) in L1 or L2, and the next
// group prefetched into L2 as the first pass reads this one: the weights are read from memory once.
// Prefetched into L1 instead, they push out x (m = 8: 48 KiB of halves), and m = 8 measured 1.4x
// slower (3.2 against 2.3 ms for gate_up, 2 threads).
constexpr int kOnePassRows = 16;

inline int min_int(int a, int b) { return a < b ? a : b; }
inline int padded(int k) { return (k + kBlock - 1) / kBlock * kBlock; }

// The lanes of a sum, added in a fixed tree.
inline float lanes_sum(__m512 v) {
  __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

// A piece of work: R weight rows (w, row stride k) x T rows of packed x (xp, row stride H kp),
// over all of k (the last block may be partial); out to y[t * ldy + r] (+ bias[r]).
// `ahead` (or null): R * k weights to prefetch while this piece reads its own, the same share per
// block.
struct Piece {
  const uint16_t* w;
  int k;
  const uint16_t* xp;
  size_t kp;
  float* y;
  int ldy;
  const float* bias;
  const uint16_t* ahead;
};

// H: the halves x is packed in (2: hi and lo; 1: hi, x rounded to bf16).
template <int H, int R, int T>
void tile(const Piece& p) {
  __m512 acc[T][R];
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t)
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      acc[t][r] = _mm512_setzero_ps();
  const char* ahead = reinterpret_cast<const char*>(p.ahead);
  // Whole blocks unmasked, then the partial last block (if any) with its missing weights masked
  // to zero: with the mask worked out in every block, m = 512 ran at 75-83% of the peak (x in
  // bf16, 2 threads, weights in cache) against 83-90% this way, and m = 1 gate_up 1.33 -> 0.99 ms.
  const int whole = p.k / kBlock * kBlock;
  auto block = [&](int i, __mmask32 valid) __attribute__((always_inline)) {
    __m512bh wv[R];
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      wv[r] = (__m512bh)_mm512_maskz_loadu_epi16(valid, p.w + size_t(r) * p.k + i);
    if (ahead != nullptr) {
      // R lines a block: as many as this block reads, so the next rows are in by the time it ends.
      const char* line = ahead + size_t(i / kBlock) * R * 64;
      #pragma GCC unroll 8
      for (int r = 0; r < R; ++r) _mm_prefetch(line + r * 64, _MM_HINT_T1);
    }
    #pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const uint16_t* x = p.xp + size_t(t) * H * p.kp + i;
      const __m512bh hi = (__m512bh)_mm512_loadu_si512(x);
      #pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[t][r] = _mm512_dpbf16_ps(acc[t][r], wv[r], hi);
      if constexpr (H == 2) {
        const __m512bh lo = (__m512bh)_mm512_loadu_si512(x + p.kp);
        #pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[t][r] = _mm512_dpbf16_ps(acc[t][r], wv[r], lo);
      }
    }
  };
  for (int i = 0; i < whole; i += kBlock) block(i, ~__mmask32(0));
  if (whole < p.k) block(whole, __mmask32((1u << (p.k - whole)) - 1));
  #pragma GCC unroll 8
  for (int t = 0; t < T; ++t)
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      float s = lanes_sum(acc[t][r]);
      if (p.bias != nullptr) s += p.bias[r];
      p.y[size_t(t) * p.ldy + r] = s;
    }
}

using TileFn = void (*)(const Piece&);
template <int H, int R, int T>
constexpr TileFn tile_or_null() {
  if constexpr (R * T <= kMaxSums) return tile<H, R, T>;
  return nullptr;
}
template <int H, int R>
constexpr TileFn row_of_tiles[kDecodeTokens] = {
    tile_or_null<H, R, 1>(), tile_or_null<H, R, 2>(), tile_or_null<H, R, 3>(), tile_or_null<H, R, 4>(),
    tile_or_null<H, R, 5>(), tile_or_null<H, R, 6>(), tile_or_null<H, R, 7>(), tile_or_null<H, R, 8>()};
template <int H>
constexpr const TileFn* kTiles[kRows] = {row_of_tiles<H, 1>, row_of_tiles<H, 2>, row_of_tiles<H, 3>,
                                         row_of_tiles<H, 4>};

// rows x tokens must be a tile (rows * tokens <= kMaxSums); halves 1 or 2.
inline void run_tile(const Piece& p, int halves, int rows, int tokens) {
  (halves == 2 ? kTiles<2> : kTiles<1>)[rows - 1][tokens - 1](p);
}

}  // namespace

namespace ptk::cpu {

size_t avx512bf16_packed_halves(int m, int k, int halves) { return size_t(m) * halves * padded(k); }

void avx512bf16_pack(const float* x, int m, int k, int halves, uint16_t* packed) {
  const int kp = padded(k), whole = k / kBlock * kBlock;
  for (int t = 0; t < m; ++t) {
    const float* src = x + size_t(t) * k;
    uint16_t* hi = packed + size_t(t) * halves * kp;
    uint16_t* lo = hi + kp;
    __m512i h, l;
    auto store = [&](int i) {
      _mm512_storeu_si512(hi + i, h);
      if (halves == 2) _mm512_storeu_si512(lo + i, l);
    };
    for (int i = 0; i < whole; i += kBlock) {
      split_halves(src + i, &h, &l);
      store(i);
    }
    if (whole < k) {  // the last, partial block: zeros past k
      float rest[kBlock] = {};
      memcpy(rest, src + whole, sizeof(float) * (k - whole));
      split_halves(rest, &h, &l);
      store(whole);
    }
  }
}

void matmul_avx512bf16(const uint16_t* packed, int halves, int m, int k, const uint16_t* w, int n, const float* bias,
                       float* y, int ldy) {
  Piece p{};
  p.k = k;
  p.kp = size_t(padded(k));
  p.ldy = ldy;
  if (m <= kOnePassRows) {
    const int group = m <= kTokens ? kRows : kDecodeRows;
    const int passes = (m + kDecodeTokens - 1) / kDecodeTokens;  // over each group
    const int per_pass = (m + passes - 1) / passes;
    for (int n0 = 0; n0 < n; n0 += group) {
      const int rows = min_int(group, n - n0);
      p.w = w + size_t(n0) * k;
      p.bias = bias == nullptr ? nullptr : bias + n0;
      // The next group's rows follow this group's in w: prefetch them during the first pass (when
      // the next group is a whole one; a short last group is left to the hardware).
      p.ahead = n0 + 2 * group <= n ? w + size_t(n0 + group) * k : nullptr;
      for (int t0 = 0; t0 < m; t0 += per_pass) {
        p.xp = packed + size_t(t0) * halves * p.kp;
        p.y = y + size_t(t0) * ldy + n0;
        run_tile(p, halves, rows, min_int(per_pass, m - t0));
        p.ahead = nullptr;
      }
    }
    return;
  }
  p.ahead = nullptr;
  for (int n0 = 0; n0 < n; n0 += kPanelRows) {
    const int panel = min_int(kPanelRows, n - n0);
    for (int t0 = 0; t0 < m; t0 += kTokens) {
      const int tokens = min_int(kTokens, m - t0);
      p.xp = packed + size_t(t0) * halves * p.kp;
      for (int r0 = 0; r0 < panel; r0 += kRows) {
        p.w = w + size_t(n0 + r0) * k;
        p.y = y + size_t(t0) * ldy + n0 + r0;
        p.bias = bias == nullptr ? nullptr : bias + n0 + r0;
        run_tile(p, halves, min_int(kRows, panel - r0), tokens);
      }
    }
  }
}

}  // namespace ptk::cpu
