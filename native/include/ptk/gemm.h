/*
 * ptk: the prefill-shape matmul, y[m, n] (f32) = x[m, k] (bf16) w[n, k]^T (bf16), all row-major
 * (w as in the checkpoint). On a GPU it runs on cuBLAS (tensor cores, f32 accumulation), which
 * libptk loads at run time (libcublas.so.13, from the loader path or a library already loaded in
 * the process); on the sim device it is a host GEMM in stream order (f32 accumulation over k, the
 * same sums cuBLAS forms, in another order). One seam, so that the CUDA backend and C engines call
 * the same entry on either device.
 */
#ifndef PTK_GEMM_H
#define PTK_GEMM_H

#include <stddef.h>

#include "ptk/export.h"
#include "ptk/ptk.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ptk_gemm ptk_gemm;

/* A GEMM context bound to `stream`, with `workspace` (device memory of workspace_bytes, may be
 * null and 0) for cuBLAS, so that a captured graph never makes it allocate. PTK_ERR_UNSUPPORTED
 * names the library when cuBLAS cannot be loaded. */
PTK_API ptk_status ptk_gemm_create(void* stream, void* workspace, size_t workspace_bytes, ptk_gemm** gemm);

/* y = x w^T on the context's stream: x [m, k] bf16, w [n, k] bf16, y [m, n] f32; m, n, k > 0.
 * Capturable in a graph; does not synchronize. */
PTK_API ptk_status ptk_gemm_bf16(ptk_gemm* gemm, const void* x, const void* w, float* y, int m, int n, int k);

/* Frees the context (null is allowed). */
PTK_API void ptk_gemm_destroy(ptk_gemm* gemm);

#ifdef __cplusplus
}
#endif

#endif /* PTK_GEMM_H */
