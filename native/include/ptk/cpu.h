/*
 * ptk: matmul kernels for the CPU backend (host code, no device involved).
 *
 *   y[t, r] = sum_i x[t, i] * w[r, i] (+ bias[r]),  t < m, r < n, i < k
 *
 * x: f32 [m, k] row-major; w: bf16 [n, k] row-major (the checkpoint's layout, read in place, e.g.
 * from an mmapped safetensors file; never copied or repacked); bias: f32 [n] or null; y: f32
 * rows of stride ldy >= n (only y[t, 0..n) is written). No pointer needs any alignment.
 *
 * Numerics: products of bf16 weights and f32 activations summed in f32, each output over k in a
 * fixed order that depends only on k and the ISA path: a row's result never depends on m, on the
 * other rows of x, or on how n is split into calls (so that a caller splitting n across threads,
 * and a batch of any size, gets the same bits). Paths differ from one another only in rounding:
 * the f32 vector paths multiply f32 x exactly (their lane count changes the summation order); the
 * amx and avx512bf16 paths multiply bf16 by bf16, so they carry each element of x as two bf16
 * halves (x = hi + lo to 2^-16 relative at worst, far below the bf16 weights' own 2^-8).
 * Prepared with PTK_CPU_X_BF16 instead, x is rounded to bf16 first, as a forward in bf16 rounds
 * every matmul's input (the CUDA backend, the released engine): each product is then exact on
 * every path, and avx512bf16 does half the products (one half, no lo).
 *
 * Threads: the kernels start no threads. A caller splits n across its own threads and calls once
 * per slice with w, bias and y offset to the slice (w + r0 * k, bias + r0, y + r0). Since every
 * slice multiplies the same x, x can be prepared once for all of them (ptk_cpu_x_prepare: the
 * bf16 paths split it into its halves there, work that would otherwise be repeated per call)
 * and the slices run on it (ptk_cpu_matmul_prepared) from any number of threads at once.
 *
 * ISA paths, chosen once per process by CPUID (with OS support for the registers), best first:
 * amx (AMX-BF16 tile products; on Linux the library asks the kernel once for the tile state,
 * which enlarges this process's signal frames), avx512bf16 (VDPBF16PS, 32 products a vector),
 * avx512f (16 f32 lanes), avx2 (AVX2 + FMA, 8 lanes), scalar (portable). The environment variable
 * PTK_CPU_ISA=scalar|avx2|avx512f|avx512bf16|amx forces a path; a value
 * that is unknown, or names a path this CPU cannot run, makes every call here fail with
 * PTK_ERR_UNSUPPORTED and a message naming it.
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
  PTK_CPU_ISA_AVX512F = 2, /* AVX-512 Foundation */
  PTK_CPU_ISA_AMX = 3,     /* AMX-TILE + AMX-BF16 (and AVX-512F) */
  PTK_CPU_ISA_AVX512BF16 = 4 /* AVX-512 F, BW and BF16 (below amx in preference) */
} ptk_cpu_isa_level;

/* The path the matmul uses in this process (*isa, a ptk_cpu_isa_level): the best this CPU runs, or
 * the one PTK_CPU_ISA forces. */
PTK_API ptk_status ptk_cpu_isa(int* isa);

/* Fixed name of a level ("scalar", "avx2", "avx512f", "avx512bf16", "amx"; "unknown" otherwise).
 * Never null. */
PTK_API const char* ptk_cpu_isa_name(int isa);

/* Whether this CPU (and OS) can run a level: 1 or 0. */
PTK_API int ptk_cpu_isa_supported(int isa);

/* y = x w^T (+ bias) as described above; m, n, k > 0, ldy >= n; x, w, y not null. Returns
 * PTK_ERR_OUT_OF_MEMORY if its scratch cannot be had. The same as preparing x and running once. */
PTK_API ptk_status ptk_cpu_matmul_bf16(const float* x, int m, int k, const uint16_t* w, int n, const float* bias,
                                       float* y, int ldy);

/* x prepared for many matmuls over slices of w: owned by the caller, reused from call to call
 * (its memory grows to the largest x it has held). */
typedef struct ptk_cpu_x ptk_cpu_x;

/* How a prepared x enters the products. */
typedef enum ptk_cpu_x_precision {
  PTK_CPU_X_F32 = 0,  /* x as given: a float32 forward */
  PTK_CPU_X_BF16 = 1  /* x rounded to bf16 (to nearest even) */
} ptk_cpu_x_precision;

PTK_API ptk_status ptk_cpu_x_create(ptk_cpu_x** out);
PTK_API void ptk_cpu_x_destroy(ptk_cpu_x* px); /* null: nothing */

/* Prepares x (f32 [m, k], m, k > 0) on the path in use, as `precision` (a ptk_cpu_x_precision)
 * says. px keeps a pointer to x, which must stay unchanged until the last matmul on it has
 * returned. Not to be called while a matmul runs on px. */
PTK_API ptk_status ptk_cpu_x_prepare_as(ptk_cpu_x* px, const float* x, int m, int k, int precision);

/* ptk_cpu_x_prepare_as with PTK_CPU_X_F32. */
PTK_API ptk_status ptk_cpu_x_prepare(ptk_cpu_x* px, const float* x, int m, int k);

/* y = x w^T (+ bias) for the x last prepared in px, with w [n, k] (k as prepared); n > 0,
 * ldy >= n; w, y not null. Reads px only, so many threads may run on one px at once, each on its
 * own slice. */
PTK_API ptk_status ptk_cpu_matmul_prepared(const ptk_cpu_x* px, const uint16_t* w, int n, const float* bias, float* y,
                                           int ldy);

#ifdef __cplusplus
}
#endif

#endif /* PTK_CPU_H */
