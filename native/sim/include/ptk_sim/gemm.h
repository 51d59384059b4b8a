// The sim's stand-in for cuBLAS: the one GEMM libptk's ptk_gemm_bf16 needs, as host work in stream
// order (captured into graphs like a launch).
#pragma once
#include "cuda_runtime_api.h"

// y[m, n] (f32) = x[m, k] (bf16) w[n, k]^T (bf16), f32 products summed in f32 (eight partial sums
// per output, then added): the accumulation precision of cuBLAS's CUBLAS_COMPUTE_32F.
PTK_SIM_API cudaError_t ptk_sim_gemm_bf16(cudaStream_t stream, const void* x, const void* w, float* y, int m, int n,
                                          int k);
