// Vector loads of bf16 values into floats and warp reductions.
#pragma once
#include <cuda_runtime.h>
#include <stdint.h>

#include "ptk/common.h"

namespace ptk {

// Two bf16 packed in a 32-bit word, low half first.
__device__ __forceinline__ void unpack_bf16x2(uint32_t w, float& lo, float& hi) {
  lo = __uint_as_float(w << 16);
  hi = __uint_as_float(w & 0xFFFF0000u);
}

// Eight bf16 loaded earlier as one 16-byte word.
__device__ __forceinline__ void unpack_bf16x8(const uint4& w, float (&out)[8]) {
  unpack_bf16x2(w.x, out[0], out[1]);
  unpack_bf16x2(w.y, out[2], out[3]);
  unpack_bf16x2(w.z, out[4], out[5]);
  unpack_bf16x2(w.w, out[6], out[7]);
}

// N consecutive bf16 (N = 2, 4 or 8; the address aligned to 2N bytes) as floats, in one load.
template <int N>
__device__ __forceinline__ void load_bf16(const uint16_t* p, float (&out)[N]) {
  static_assert(N == 2 || N == 4 || N == 8, "load width");
  if constexpr (N == 2) {
    unpack_bf16x2(*reinterpret_cast<const uint32_t*>(p), out[0], out[1]);
  } else if constexpr (N == 4) {
    uint2 w = *reinterpret_cast<const uint2*>(p);
    unpack_bf16x2(w.x, out[0], out[1]);
    unpack_bf16x2(w.y, out[2], out[3]);
  } else {
    unpack_bf16x8(*reinterpret_cast<const uint4*>(p), out);
  }
}

__device__ __forceinline__ float warp_max(float x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xFFFFFFFFu, x, o));
  return x;
}

__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xFFFFFFFFu, x, o);
  return x;
}

// float_to_bf16(lo) | float_to_bf16(hi) << 16: round to nearest even. On a GPU one
// cvt.rn.bf16x2.f32 where float_to_bf16 takes about ten integer instructions a value, which
// bounded the gemv's staging of normed rows; the two agree on every value but NaN, which stays a
// NaN with the instruction's bits (float_to_bf16: 0x7FC0). The sim runs float_to_bf16, so only a
// GPU run tells the roundings apart (its kernel vectors compare them with the reference's).
__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
#if defined(PTK_SIM)
  return uint32_t(float_to_bf16(lo)) | (uint32_t(float_to_bf16(hi)) << 16);
#else
  uint32_t r;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;\n" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
#endif
}

// Stores 4 floats as bf16 (8 bytes) or as float (16 bytes).
__device__ __forceinline__ void store4(uint16_t* p, float a, float b, float c, float d) {
  uint2 w;
  w.x = pack_bf16x2(a, b);
  w.y = pack_bf16x2(c, d);
  *reinterpret_cast<uint2*>(p) = w;
}

__device__ __forceinline__ void store4(float* p, float a, float b, float c, float d) {
  *reinterpret_cast<float4*>(p) = make_float4(a, b, c, d);
}

}  // namespace ptk
