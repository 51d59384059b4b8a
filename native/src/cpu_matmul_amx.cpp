// The AMX path of the CPU matmul (this file alone is built with the AMX and AVX-512 flags; the
// dispatcher calls it only where CPUID reports AMX-BF16 and the OS has granted this process the
// tile registers). Like the other ISA files it has internal linkage only and no library code.
//
// y^T = w x^T as tile products: A = 16 weight rows x 32 elements of k, loaded straight from w (row
// stride k, so the checkpoint is read in place); B = the same 32 elements of k for 16 rows of x,
// in the pair-interleaved layout TDPBF16PS wants (tile row j holds, for each row t of x, elements
// 2j and 2j+1), packed once per x (amx_pack); C = 16 x 16 f32 sums, weight rows by rows of x.
//
// Numerics: TDPBF16PS multiplies bf16 by bf16, so x is carried as two bf16 halves
// (cpu_bf16_halves.h) and C sums the exact products in f32: per 32-element block of k, first the
// hi products, then the lo ones, blocks in order of k.
// The elements past the last whole block of k are added after, in order, and the bias last. Each
// output therefore depends only on its weight row and its row of x: a row's bits never depend on
// m, on the other rows, or on how n is split. (The tile unit treats bf16 denormals as zero: a
// half below 2^-126 counts as 0, far under the rounding above.)
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpu_bf16_halves.h"
#include "cpu_matmul.h"

namespace {

constexpr int kTile = 16;   // rows of every tile; rows of x and weight rows per tile
constexpr int kDepth = 32;  // elements of k per tile product (16 pairs)
constexpr int kTileBytes = kTile * 64;
constexpr int kSuperRows = 128;  // a multiple of 32 (see Blocking)
// Blocks of k by which the software prefetch of a one-pass matmul runs ahead of the tile loads:
// 512 bytes of each of 32 rows, 16 KiB. Measured on the 1.5B shapes at m = 1 and 16 against 16,
// 32 and none (Sapphire Rapids): gate_up 10-25% faster, down and qkv within the noise.
constexpr int kAhead = 8;

// Blocks of k per chunk (see Blocking). With one pair of x tiles (m <= 32) nothing else shares the
// weights' stay in L2, so k is not chunked and each weight row is read in one sequential pass;
// with two pairs, long chunks (16 blocks, 1 KiB per weight row) still keep the rows' reads
// sequential enough; with more, the pairs' reuse of each chunk pays for shorter ones (8 blocks:
// a pair's chunk of x is 32 KiB). Measured on the 1.5B shapes at m = 64 and 512 (Sapphire Rapids).
inline int chunk_blocks(int x_tiles, int blocks) { return x_tiles <= 2 ? blocks : x_tiles <= 4 ? 16 : 8; }

// The tile registers: C[rt][tt] for up to 2 x 2 tiles of output, 2 of weights, 2 of x. (Macros,
// not constants: GCC's tile intrinsics paste their register number into the assembly text.)
#define kC00 0
#define kC01 1
#define kC10 2
#define kC11 3
#define kA0 4
#define kA1 5
#define kB0 6
#define kB1 7

struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// Every tile is 16 x 64 bytes, except the weight tiles and their sums for a last block of fewer
// than 16 weight rows (`weight_rows`): those tiles have that many rows.
void configure(int weight_rows) {
  TileConfig c;
  for (int t = 0; t < 8; ++t) {
    c.colsb[t] = 64;
    c.rows[t] = kTile;
  }
  const int short_tiles[] = {kC00, kC01, kC10, kC11, kA0, kA1};
  for (int t : short_tiles) c.rows[t] = uint8_t(weight_rows);
  // GCC 12's _tile_loadconfig tells the compiler it reads 8 bytes of the 64: without this
  // barrier the stores above may be dropped or sunk past the load.
  __asm__ volatile("" : : "r"(&c) : "memory");
  _tile_loadconfig(&c);
}

inline int min_int(int a, int b) { return a < b ? a : b; }

inline float bf16_value(uint16_t bits) {
  uint32_t u = uint32_t(bits) << 16;
  float v;
  memcpy(&v, &u, sizeof v);
  return v;
}

// The packed x: per tile of 16 rows of x (tt), per block of k (kb), the hi tile then the lo tile,
// 1 KiB each; rows past m are zeros. The byte offset of one.
inline size_t packed_offset(int blocks, int tt, int kb, int half) {
  return ((size_t(tt) * blocks + kb) * 2 + half) * kTileBytes;
}

void pack(const float* x, int m, int k, int blocks, uint8_t* packed) {
  const int tiles = (m + kTile - 1) / kTile;
  // Row t's 16 pairs go down column t of the tile: lane j to dword j * 16 + t.
  const __m512i column = _mm512_mullo_epi32(
      _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32(kTile));
  for (int tt = 0; tt < tiles; ++tt) {
    for (int kb = 0; kb < blocks; ++kb) {
      int* hi = reinterpret_cast<int*>(packed + packed_offset(blocks, tt, kb, 0));
      int* lo = reinterpret_cast<int*>(packed + packed_offset(blocks, tt, kb, 1));
      const int rows = min_int(kTile, m - tt * kTile);
      if (rows < kTile) memset(hi, 0, 2 * kTileBytes);  // hi and lo: the columns of absent rows are zeros
      for (int t = 0; t < rows; ++t) {
        __m512i h, l;
        split_halves(x + size_t(tt * kTile + t) * k + size_t(kb) * kDepth, &h, &l);
        _mm512_i32scatter_epi32(hi + t, column, h, 4);
        _mm512_i32scatter_epi32(lo + t, column, l, 4);
      }
    }
  }
}

// The sums of RT weight tiles x TT tiles of x: C tile (ri, ti) lives at c + ri * c_row + ti * 256
// (16 x 16 f32 each) between chunks of k. Adds the blocks [kb0, kb1) of k (weights from w, row
// stride k; x from packed, starting at x tile xt) to them, or starts from zero when `first`.
template <int RT, int TT>
void tiles(const uint16_t* w, int k, const uint8_t* packed, int blocks, int xt, int kb0, int kb1, float* c,
           size_t c_row, bool first, const uint16_t* ahead, int ahead_rows) {
  const size_t stride = size_t(k) * sizeof(uint16_t);
  if (first) {
    _tile_zero(kC00);
    if (TT > 1) _tile_zero(kC01);
    if (RT > 1) _tile_zero(kC10);
    if (RT > 1 && TT > 1) _tile_zero(kC11);
  } else {
    _tile_loadd(kC00, c, 64);
    if (TT > 1) _tile_loadd(kC01, c + 256, 64);
    if (RT > 1) _tile_loadd(kC10, c + c_row, 64);
    if (RT > 1 && TT > 1) _tile_loadd(kC11, c + c_row + 256, 64);
  }
  for (int kb = kb0; kb < kb1; ++kb) {
    const uint16_t* a = w + size_t(kb) * kDepth;
    // This block's rows kAhead blocks on, or past their end the next rows' (a prefetch never faults).
    if (ahead != nullptr) {
      const int target = kb + kAhead;
      const uint16_t* from = target < blocks ? w + size_t(target) * kDepth : ahead + size_t(target - blocks) * kDepth;
      const int rows = target < blocks ? RT * kTile : target - blocks < blocks ? ahead_rows : 0;
      for (int r = 0; r < rows; ++r) _mm_prefetch(reinterpret_cast<const char*>(from + size_t(r) * k), _MM_HINT_T1);
    }
    _tile_loadd(kA0, a, stride);
    if (RT > 1) _tile_loadd(kA1, a + size_t(kTile) * k, stride);
    for (int half = 0; half < 2; ++half) {  // hi, then lo
      _tile_loadd(kB0, packed + packed_offset(blocks, xt, kb, half), 64);
      if (TT > 1) _tile_loadd(kB1, packed + packed_offset(blocks, xt + 1, kb, half), 64);
      _tile_dpbf16ps(kC00, kA0, kB0);
      if (TT > 1) _tile_dpbf16ps(kC01, kA0, kB1);
      if (RT > 1) _tile_dpbf16ps(kC10, kA1, kB0);
      if (RT > 1 && TT > 1) _tile_dpbf16ps(kC11, kA1, kB1);
    }
  }
  _tile_stored(kC00, c, 64);
  if (TT > 1) _tile_stored(kC01, c + 256, 64);
  if (RT > 1) _tile_stored(kC10, c + c_row, 64);
  if (RT > 1 && TT > 1) _tile_stored(kC11, c + c_row + 256, 64);
}

using TilesFn = void (*)(const uint16_t*, int, const uint8_t*, int, int, int, int, float*, size_t, bool, const uint16_t*, int);
constexpr TilesFn kTiles[2][2] = {{tiles<1, 1>, tiles<1, 2>}, {tiles<2, 1>, tiles<2, 2>}};

// Asks for the next chunk of k of `rows` weight rows (row stride k) to be brought into L2 while
// this chunk is multiplied: a chunk is a short piece of each of many rows, a pattern the
// hardware prefetchers do not follow far enough ahead.
void prefetch(const uint16_t* w, int rows, int k, int blocks) {
  for (int r = 0; r < rows; ++r)
    for (int b = 0; b < blocks * kDepth * 2; b += 64)
      _mm_prefetch(reinterpret_cast<const char*>(w + size_t(r) * k) + b, _MM_HINT_T1);
}

// y[t, r] = the sums + bias[r], for `rows` weight rows and `tokens` rows of x, from C tiles laid
// out as in tiles() ([weight row][row of x] each): a row of y is a column of them, gathered 16 at
// a time.
void write_out(const float* sums, size_t c_row, int rows, int tokens, const float* bias, float* y, int ldy) {
  const __m512i down = _mm512_mullo_epi32(
      _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32(kTile));
  for (int ri = 0; ri * kTile < rows; ++ri) {
    const __mmask16 valid = __mmask16((1u << min_int(kTile, rows - ri * kTile)) - 1);
    const __m512 b = bias == nullptr ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(valid, bias + ri * kTile);
    for (int t = 0; t < tokens; ++t) {
      const float* c = sums + ri * c_row + (t / kTile) * 256 + t % kTile;
      __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, down, c, 4);
      if (bias != nullptr) v = _mm512_add_ps(v, b);
      _mm512_mask_storeu_ps(y + size_t(t) * ldy + ri * kTile, valid, v);
    }
  }
}

}  // namespace

namespace ptk::cpu {

size_t amx_packed_floats(int m, int k) {
  const size_t x_tiles = size_t(m + kTile - 1) / kTile, blocks = size_t(k / kDepth);
  return x_tiles * blocks * 2 * kTileBytes / sizeof(float);  // 2 tiles of 1 KiB per tile of x and block of k
}

size_t amx_sums_floats(int m) {
  const size_t x_tiles = size_t(m + kTile - 1) / kTile;
  return (size_t(kSuperRows / kTile) * x_tiles * kTileBytes + 64) / sizeof(float);  // a super-block's, aligned
}

void amx_pack(const float* x, int m, int k, float* packed) {
  if (k >= kDepth) pack(x, m, k, k / kDepth, reinterpret_cast<uint8_t*>(packed));
}

// Blocking: weight rows in super-blocks of kSuperRows, k in chunks (chunk_blocks). Within a chunk,
// each pair of x tiles (its chunk of packed x, from L1 or L2) passes over every block of 32
// weight rows of the super-block (from L2, where the previous chunk's pass prefetched them),
// whose sums wait in scratch between chunks (a super-block's, for every tile of x). So the
// weights are read from memory once, and neither x nor the sums leave L2 for the weights' sake.
void matmul_amx(const float* x, const float* packed_x, int m, int k, const uint16_t* w, int n, const float* bias,
                float* y, int ldy, float* scratch) {
  const int blocks = k / kDepth, kv = blocks * kDepth;
  const int x_tiles = (m + kTile - 1) / kTile;
  const uint8_t* packed = reinterpret_cast<const uint8_t*>(packed_x);
  float* sums = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t(63));
  const size_t c_row = size_t(x_tiles) * 256;  // floats from one weight tile's sums to the next's
  const int chunk = chunk_blocks(x_tiles, blocks);
  int configured = 0;  // weight rows per tile in the tile configuration loaded, 0: none
  for (int s0 = 0; s0 < n; s0 += kSuperRows) {
    const int s1 = min_int(n, s0 + kSuperRows);
    for (int kb0 = 0; kb0 < blocks; kb0 += chunk) {
      const int kb1 = min_int(blocks, kb0 + chunk);
      for (int t0 = 0; t0 < x_tiles; t0 += 2) {
        const int tt = min_int(2, x_tiles - t0);
        // Blocks of 2 weight tiles, then 1, then the rows left (fewer than 16) in a tile of their
        // own height, so that no load reads past the last row of w.
        for (int n0 = s0, rows; n0 < s1; n0 += rows) {
          rows = s1 - n0 >= 2 * kTile ? 2 * kTile : s1 - n0 >= kTile ? kTile : s1 - n0;
          const int rt = rows > kTile ? 2 : 1, tile_rows = min_int(rows, kTile);
          if (configured != tile_rows) configure(configured = tile_rows);
          if (t0 == 0 && kb1 < blocks) prefetch(w + size_t(n0) * k + size_t(kb1) * kDepth, rows, k, min_int(chunk, blocks - kb1));
          // In one pass over each row (k not chunked), the weights kAhead blocks on are asked for
          // as each block is read: the tile loads read 32 rows at once, more streams than the
          // hardware prefetchers keep far enough ahead of.
          const bool one_pass = chunk == blocks;
          kTiles[rt - 1][tt - 1](w + size_t(n0) * k, k, packed, blocks, t0, kb0, kb1,
                                 sums + (n0 - s0) / kTile * c_row + size_t(t0) * 256, c_row, kb0 == 0,
                                 one_pass ? w + size_t(n0 + rows) * k : nullptr, min_int(rows, n - n0 - rows));
        }
      }
    }
    // Out to y: the sums, then (when k is not a multiple of 32) the last elements of k in order,
    // then the bias.
    const int rows = s1 - s0;
    if (kv == k) {
      write_out(sums, c_row, rows, m, bias == nullptr ? nullptr : bias + s0, y + s0, ldy);
      continue;
    }
    for (int r = 0; r < rows; ++r) {
      const uint16_t* wr = w + size_t(s0 + r) * k;
      const float* c = sums + (r / kTile) * c_row + (r % kTile) * kTile;
      for (int t = 0; t < m; ++t) {
        float s = blocks > 0 ? c[(t / kTile) * 256 + t % kTile] : 0.f;
        const float* xr = x + size_t(t) * k;
        for (int i = kv; i < k; ++i) s += bf16_value(wr[i]) * xr[i];
        if (bias != nullptr) s += bias[s0 + r];
        y[size_t(t) * ldy + s0 + r] = s;
      }
    }
  }
  if (configured != 0) _tile_release();
}

}  // namespace ptk::cpu
