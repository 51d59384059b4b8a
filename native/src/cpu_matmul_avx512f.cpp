// The AVX-512F path of the CPU matmul (this file alone is built with -mavx512f; the dispatcher
// calls it only on a CPU, and OS, that runs AVX-512F).
#include <immintrin.h>

#include "cpu_matmul_kernel.h"

namespace {
struct Avx512f {
  static constexpr int kLanes = 16;
  using reg = __m512;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, reg v) { _mm512_storeu_ps(p, v); }
  // bf16 is the high half of an f32: zero-extend each 16-bit value to 32 bits, shift it up.
  static reg widen(const uint16_t* p) {
    __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
};
}  // namespace

namespace ptk::cpu {
void matmul_avx512f(const float* x, int m, int k, const uint16_t* w, int n, const float* bias, float* y, int ldy,
                    float* scratch) {
  Kernel<Avx512f>::run(x, m, k, w, n, bias, y, ldy, scratch);
}
}  // namespace ptk::cpu
