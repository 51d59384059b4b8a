// Internal: x carried as two bf16 halves for the paths whose products are bf16 x bf16 (amx,
// avx512bf16): hi = bf16(x), lo = bf16(x - hi), each rounded to nearest even, which hold x to
// 2^-16 of its size at worst; each product of a bf16 weight and a half is exact in f32. Included
// only by translation units built with AVX-512F, with internal linkage (see cpu_matmul_kernel.h).
#pragma once
#include <immintrin.h>

namespace {

// 16 f32 rounded to bf16 (to nearest even, NaN kept NaN), each in the high half of its lane.
inline __m512i bf16_rne(__m512 v) {
  const __m512i u = _mm512_castps_si512(v);
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7FFF)));
  r = _mm512_mask_mov_epi32(r, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), _mm512_or_si512(u, _mm512_set1_epi32(0x400000)));
  return _mm512_and_si512(r, _mm512_set1_epi32(int(0xFFFF0000u)));
}

// 32 elements of x as their hi and lo halves, 32 bf16 each, in the order of x.
inline void split_halves(const float* src, __m512i* hi, __m512i* lo) {
  __m256i h[2], l[2];
  for (int i = 0; i < 2; ++i) {
    const __m512 v = _mm512_loadu_ps(src + 16 * i);
    const __m512i vh = bf16_rne(v);
    const __m512i vl = bf16_rne(_mm512_sub_ps(v, _mm512_castsi512_ps(vh)));
    h[i] = _mm512_cvtepi32_epi16(_mm512_srli_epi32(vh, 16));
    l[i] = _mm512_cvtepi32_epi16(_mm512_srli_epi32(vl, 16));
  }
  *hi = _mm512_inserti64x4(_mm512_castsi256_si512(h[0]), h[1], 1);
  *lo = _mm512_inserti64x4(_mm512_castsi256_si512(l[0]), l[1], 1);
}

}  // namespace
