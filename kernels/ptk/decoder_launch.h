// Host entry points into the decoder kernels (embedding, norms, SiLU gate, gemv, sampling), free
// of CUDA headers so that the C ABI's host code (g++) can call them. Each returns a cudaError_t as
// int (0 = success). Arguments are validated by the caller (native/src/decoder.cpp).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace ptk {

constexpr int kGemvMaxRows = 16;

int embedding_launch(const void* table, int vocab, int hidden, const int32_t* ids, int n, float* out, void* stream);
int add_rmsnorm_launch(float* residual, const float* delta, const void* weight, float eps, void* out, int rows,
                       int hidden, void* stream);
int rmsnorm_rows_launch(const float* x, const int32_t* row_ids, const void* weight, float eps, void* out, int rows,
                        int hidden, void* stream);
int silu_mul_launch(const float* gate_up, void* out, int rows, int inter, void* stream);
int bias_to_bf16_launch(const float* y, const void* bias, void* out, int rows, int n, void* stream);
int gemv_launch(const void* x, const void* w, const void* bias, void* y, bool y_f32, int m, int n, int k,
                void* stream);
// w [2 inter, k]: gate rows then up rows; out [m, inter] bf16.
int gemv_silu_mul_launch(const void* x, const void* w, void* out, int m, int inter, int k, void* stream);

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
};
int sample_launch(const SampleLaunch& a, void* stream);

}  // namespace ptk
