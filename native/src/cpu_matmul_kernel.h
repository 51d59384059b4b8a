// Internal: the CPU matmul over one ISA's vectors, included once by each ISA's translation unit
// (cpu_matmul_<isa>.cpp, built with that ISA's target flags). Everything here has internal linkage
// and uses no out-of-line library code, so that no function compiled for one ISA can be picked by
// the linker for another (an AVX-512 copy of a shared inline function would crash an AVX2 CPU).
//
// V, the vector of the ISA: kLanes f32 lanes; reg; zero(); load(const float*); store(float*, reg);
// widen(const uint16_t*): kLanes bf16 to f32; fma(a, b, c) = a * b + c.
//
// Shape of the work (see Blocking): weight rows are widened panel by panel into scratch, then
// tiles of up to 4 weight rows x 3 rows of x accumulate kLanes-wide partial sums (12 sums, 3 x
// vectors and 1 weight vector: 16 registers on AVX2) over the panel's depth. Partial sums live in
// scratch between panels, so each lane sums its elements of k in order, whatever m or the panel
// size; the lanes are then added in a fixed tree, and the k % kLanes tail last, in order.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpu_matmul.h"

namespace {

constexpr int kTileRows = 4;
constexpr int kTileTokens = 3;

inline int min_int(int a, int b) { return a < b ? a : b; }

inline float bf16_value(uint16_t bits) {
  uint32_t u = uint32_t(bits) << 16;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

template <class V>
struct Kernel {
  static constexpr int L = V::kLanes;
  static_assert(ptk::cpu::kMaxLanes % L == 0, "scratch is sized for kMaxLanes");

  // acc[t * acc_stride + r * L ...] (= 0 first if `first`) += panel row r (of `depth` stride) .
  // x row t, over [0, len).
  template <int R, int T>
  static void tile(const float* panel, int depth, const float* x, size_t ldx, int len, float* acc, size_t acc_stride,
                   bool first) {
    typename V::reg a[T][R];
    for (int t = 0; t < T; ++t)
      for (int r = 0; r < R; ++r) a[t][r] = first ? V::zero() : V::load(acc + t * acc_stride + r * L);
    for (int i = 0; i < len; i += L) {
      typename V::reg xv[T];
      for (int t = 0; t < T; ++t) xv[t] = V::load(x + t * ldx + i);
      for (int r = 0; r < R; ++r) {
        typename V::reg wv = V::load(panel + size_t(r) * depth + i);
        for (int t = 0; t < T; ++t) a[t][r] = V::fma(wv, xv[t], a[t][r]);
      }
    }
    for (int t = 0; t < T; ++t)
      for (int r = 0; r < R; ++r) V::store(acc + t * acc_stride + r * L, a[t][r]);
  }

  using TileFn = void (*)(const float*, int, const float*, size_t, int, float*, size_t, bool);
  static constexpr TileFn kTiles[kTileRows][kTileTokens] = {
      {tile<1, 1>, tile<1, 2>, tile<1, 3>},
      {tile<2, 1>, tile<2, 2>, tile<2, 3>},
      {tile<3, 1>, tile<3, 2>, tile<3, 3>},
      {tile<4, 1>, tile<4, 2>, tile<4, 3>},
  };

  // The L lanes at p, added in a fixed tree.
  static float reduce(const float* p) {
    float s[L];
    for (int i = 0; i < L; ++i) s[i] = p[i];
    for (int width = L / 2; width > 0; width /= 2)
      for (int i = 0; i < width; ++i) s[i] += s[i + width];
    return s[0];
  }

  static void run(const float* x, int m, int k, const uint16_t* w, int n, const float* bias, float* y, int ldy,
                  float* scratch) {
    const ptk::cpu::Blocking b = ptk::cpu::blocking(m);
    const int kv = k / L * L;  // the vector part of k
    float* panel = scratch;
    float* acc = scratch + size_t(b.rows) * b.depth;
    const size_t acc_stride = size_t(b.rows) * L;  // per row of x
    for (int n0 = 0; n0 < n; n0 += b.rows) {
      const int rows = min_int(b.rows, n - n0);
      for (int k0 = 0; k0 < kv; k0 += b.depth) {
        const int len = min_int(b.depth, kv - k0);
        for (int r = 0; r < rows; ++r) {
          const uint16_t* src = w + size_t(n0 + r) * k + k0;
          float* dst = panel + size_t(r) * b.depth;
          for (int i = 0; i < len; i += L) V::store(dst + i, V::widen(src + i));
        }
        for (int t0 = 0; t0 < m; t0 += kTileTokens) {
          const int tb = min_int(kTileTokens, m - t0);
          for (int r0 = 0; r0 < rows; r0 += kTileRows) {
            const int rb = min_int(kTileRows, rows - r0);
            kTiles[rb - 1][tb - 1](panel + size_t(r0) * b.depth, b.depth, x + size_t(t0) * k + k0, size_t(k), len,
                                   acc + t0 * acc_stride + r0 * L, acc_stride, k0 == 0);
          }
        }
      }
      for (int t = 0; t < m; ++t) {
        for (int r = 0; r < rows; ++r) {
          float s = kv > 0 ? reduce(acc + t * acc_stride + r * L) : 0.f;
          const uint16_t* wr = w + size_t(n0 + r) * k;
          const float* xr = x + size_t(t) * k;
          for (int i = kv; i < k; ++i) s += bf16_value(wr[i]) * xr[i];
          if (bias != nullptr) s += bias[n0 + r];
          y[size_t(t) * ldy + n0 + r] = s;
        }
      }
    }
  }
};

}  // namespace
