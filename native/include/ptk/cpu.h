/*
 * ptk: matmul kernels for the CPU backend (host code, no device involved).
 *
 *   y[t, r] = sum_i x[t, i] * w[r, i] (+ bias[r]),  t < m, r < n, i < k
 *
 * x: f32 [m, k] row-major; w: bf16 [n, k] row-major (the checkpoint's layout, read in place, e.g.
 * from an mmapped safetensors file; never copied or repacked); bias: f32 [n] or null; y: f32
 * rows of stride ldy >= n (only y[t, 0..n) is written). No pointer needs any alignment.
 *
 * Numerics: products of bf16 weights and f32 activations summed in f32 (fused multiply-adds),
 * each output over k in a fixed order that depends only on k and the ISA path: a row's result
 * never depends on m, on the other rows of x, or on how n is split into calls (so that a caller
 * splitting n across threads, and a batch of any size, gets the same bits). Paths differ from one
 * another only in the last bits (lane count changes the summation order).
 *
 * Threads: the kernels start no threads. A caller splits n across its own threads and calls once
 * per slice with w, bias and y offset to the slice (w + r0 * k, bias + r0, y + r0).
 *
 * ISA paths, chosen once per process by CPUID (with OS support for the registers): avx512f
 * (16 lanes), avx2 (AVX2 + FMA, 8 lanes), scalar (portable). The environment variable
 * PTK_CPU_ISA=scalar|avx2|avx512f forces a path; a value that is unknown, or names a path this
 * CPU cannot run, makes every call here fail with PTK_ERR_UNSUPPORTED and a message naming it.
 */
#ifndef PTK_CPU_H
#define PTK_CPU_H

#include <stdint.h>

#include "ptk/export.h"
#include "ptk/ptk.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ptk_cpu_isa_level {
  PTK_CPU_ISA_SCALAR = 0,
  PTK_CPU_ISA_AVX2 = 1,   /* AVX2 + FMA */
  PTK_CPU_ISA_AVX512F = 2 /* AVX-512 Foundation */
} ptk_cpu_isa_level;

/* The path the matmul uses in this process (*isa, a ptk_cpu_isa_level): the best this CPU runs, or
 * the one PTK_CPU_ISA forces. */
PTK_API ptk_status ptk_cpu_isa(int* isa);

/* Fixed name of a level ("scalar", "avx2", "avx512f"; "unknown" otherwise). Never null. */
PTK_API const char* ptk_cpu_isa_name(int isa);

/* Whether this CPU (and OS) can run a level: 1 or 0. */
PTK_API int ptk_cpu_isa_supported(int isa);

/* y = x w^T (+ bias) as described above; m, n, k > 0, ldy >= n; x, w, y not null. Returns
 * PTK_ERR_OUT_OF_MEMORY if its small scratch cannot be had. */
PTK_API ptk_status ptk_cpu_matmul_bf16(const float* x, int m, int k, const uint16_t* w, int n, const float* bias,
                                       float* y, int ldy);

#ifdef __cplusplus
}
#endif

#endif /* PTK_CPU_H */
