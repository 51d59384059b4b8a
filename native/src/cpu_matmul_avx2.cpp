// The AVX2 + FMA path of the CPU matmul (this file alone is built with -mavx2 -mfma; the
// dispatcher calls it only on a CPU that has both).
#include <immintrin.h>

#include "cpu_matmul_kernel.h"

namespace {
struct Avx2 {
  static constexpr int kLanes = 8;
  using reg = __m256;
  static reg zero() { return _mm256_setzero_ps(); }
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, reg v) { _mm256_storeu_ps(p, v); }
  // bf16 is the high half of an f32: zero-extend each 16-bit value to 32 bits, shift it up.
  static reg widen(const uint16_t* p) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static reg fma(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
};
}  // namespace

namespace ptk::cpu {
void matmul_avx2(const float* x, int m, int k, const uint16_t* w, int n, const float* bias, float* y, int ldy,
                 float* scratch) {
  Kernel<Avx2>::run(x, m, k, w, n, bias, y, ldy, scratch);
}
}  // namespace ptk::cpu
