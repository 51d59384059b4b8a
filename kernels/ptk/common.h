// Shared by device and host code: the __host__ __device__ marker and bf16 <-> float conversion.
// Plain bit arithmetic, so that the host unit tests exercise exactly what the kernels run.
#pragma once
#include <stdint.h>

#if defined(__CUDACC__)
#define PTK_HD __host__ __device__ __forceinline__
#else
#define PTK_HD inline
#endif

namespace ptk {

// The multiprocessors (an H100 or H200's 132) that the layouts fixed ahead of any device are sized
// for: the gemv's splits of k (a function of n and k alone, for batch invariance) and sampling's
// blocks per row.
constexpr int kPlannedMultiprocessors = 132;

PTK_HD float bf16_to_float(uint16_t bits) {
  union { uint32_t u; float f; } v;
  v.u = static_cast<uint32_t>(bits) << 16;
  return v.f;
}

// Round to nearest even, NaN kept quiet (0x7FC0): the rounding the reference vectors use.
PTK_HD uint16_t float_to_bf16(float x) {
  union { uint32_t u; float f; } v;
  v.f = x;
  if ((v.u & 0x7F800000u) == 0x7F800000u && (v.u & 0x007FFFFFu) != 0) return 0x7FC0;
  return static_cast<uint16_t>((v.u + 0x7FFFu + ((v.u >> 16) & 1u)) >> 16);
}

}  // namespace ptk
