// Internal: the CPU matmul's ISA entries (one translation unit each, built with its own target
// flags) and the blocking they share. The dispatcher (cpu_matmul.cpp) validates, picks one and
// hands it a scratch area (scratch_floats(m) floats on the vector paths).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace ptk::cpu {

// The most f32 lanes of any path: scratch is sized for it.
constexpr int kMaxLanes = 16;

// Weight rows widened to f32 per panel, and the panel's depth (elements of k; a multiple of every
// lane count). Decode (few rows of x, bandwidth bound): 4 rows x 1024, streamed once, the panel in
// L1. Prefill (compute bound): 16 rows x 256 (16 KiB, L1), reused by every row of x, so that the
// widening is paid once per weight and each 3-row piece of x serves 16 weight rows from L1.
// Neither choice changes a result: every output sums over k in lane order whatever the blocking.
struct Blocking {
  int rows;
  int depth;
};
inline Blocking blocking(int m) { return m <= 16 ? Blocking{4, 1024} : Blocking{16, 256}; }

// Floats of scratch a call with m rows of x needs on the vector paths: one panel and per-lane
// sums for every (row of x, weight row of the panel).
inline size_t scratch_floats(int m) {
  Blocking b = blocking(m);
  return size_t(b.rows) * b.depth + size_t(m) * b.rows * kMaxLanes;
}


// y = x w^T (+ bias) on valid arguments (see ptk/cpu.h).
using MatmulFn = void (*)(const float* x, int m, int k, const uint16_t* w, int n, const float* bias, float* y,
                          int ldy, float* scratch);
void matmul_scalar(const float* x, int m, int k, const uint16_t* w, int n, const float* bias, float* y, int ldy,
                   float* scratch);
#if defined(__x86_64__)
void matmul_avx2(const float* x, int m, int k, const uint16_t* w, int n, const float* bias, float* y, int ldy,
                 float* scratch);
void matmul_avx512f(const float* x, int m, int k, const uint16_t* w, int n, const float* bias, float* y, int ldy,
                    float* scratch);
// The AMX path: x packed once per x (amx_packed_floats of memory, 64-byte aligned), then any
// number of calls on it, each with a scratch of amx_sums_floats for its sums.
size_t amx_packed_floats(int m, int k);
size_t amx_sums_floats(int m);
void amx_pack(const float* x, int m, int k, float* packed);
void matmul_amx(const float* x, const float* packed, int m, int k, const uint16_t* w, int n, const float* bias,
                float* y, int ldy, float* sums);
// The AVX-512 BF16 path: x packed once per x (avx512bf16_packed_halves bf16 values) in 2 halves
// (hi and lo), or 1 (hi: x rounded to bf16), then any number of calls on it (no scratch).
size_t avx512bf16_packed_halves(int m, int k, int halves);
void avx512bf16_pack(const float* x, int m, int k, int halves, uint16_t* packed);
void matmul_avx512bf16(const uint16_t* packed, int halves, int m, int k, const uint16_t* w, int n, const float* bias,
                       float* y, int ldy);
#endif

}  // namespace ptk::cpu
