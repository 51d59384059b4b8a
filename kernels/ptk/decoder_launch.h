// Host entry points into the decoder kernels (embedding, norms, SiLU gate, gemv, sampling), free
// of CUDA headers so that the C ABI's host code (g++) can call them. Each returns a cudaError_t as
// int (0 = success). Arguments are validated by the caller (native/src/decoder.cpp).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ptk/gemv_layout.h"
#include "ptk/launch.h"

namespace ptk {

int embedding_launch(const void* table, int vocab, int hidden, const int32_t* ids, int n, float* out, float* sumsq,
                     void* stream);
int add_rmsnorm_launch(float* residual, const float* delta, const void* weight, float eps, void* out, int rows,
                       int hidden, void* stream);
int rmsnorm_rows_launch(const float* x, const int32_t* row_ids, const void* weight, float eps, void* out, int rows,
                        int hidden, void* stream);
// residual += delta (null: nothing added), then sumsq [rows, norm_parts(hidden)].
int add_sumsq_launch(float* residual, const float* delta, float* sumsq, int rows, int hidden, void* stream);
int silu_mul_launch(const float* gate_up, void* out, int rows, int inter, void* stream);
int bias_to_bf16_launch(const float* y, const void* bias, void* out, int rows, int n, void* stream);
// A gemv's input normed as it is read: bf16(residual * scale * weight), the scale from sumsq
// [m, norm_parts(k)].
struct NormInput {
  const float* residual;
  const float* sumsq;
  const void* weight;
  float eps;
};
// x [m, k] bf16, or the norm's input when `norm` is not null (x unused). `workspace`:
// gemv_workspace_bytes(n, k) bytes (counters zero), or null when that is 0. `math`: tensor or CUDA
// cores (gemv_layout.h).
int gemv_launch(const void* x, const NormInput* norm, const void* w, const void* bias, void* y, bool y_f32, int m,
                int n, int k, void* workspace, GemvMath math, void* stream);
// w [2 inter, k]: gate rows then up rows; out [m, inter] bf16.
int gemv_silu_mul_launch(const void* x, const NormInput* norm, const void* w, void* out, int m, int inter, int k,
                         void* workspace, GemvMath math, void* stream);
// residual [m, n] += x w^T; then sumsq [m, norm_parts(n)] unless null.
int gemv_add_launch(const void* x, const void* w, float* residual, float* sumsq, int m, int n, int k, void* workspace,
                    GemvMath math, void* stream);
// qkv w [n = (Hq + 2 Hkv) head_dim, k] on normed rows, its bf16 outputs (bias added) appended as
// `a` says (a.qkv unused) for the first m tokens.
int gemv_rope_append_launch(const NormInput& norm, const void* w, const void* bias, const RopeAppendLaunch& a, int m,
                            int n, int k, void* workspace, GemvMath math, void* stream);

struct SampleLaunch {
  const float* logits;
  int rows;
  int vocab;
  float temperature;
  int top_k;
  float top_p;
  uint64_t seed;
  const int32_t* path_ids;
  const int32_t* steps;
  int32_t* tokens;
  void* work;  // rows x kSampleRowWorkBytes (sampling_math.h)
};
int sample_launch(const SampleLaunch& a, void* stream);

}  // namespace ptk
