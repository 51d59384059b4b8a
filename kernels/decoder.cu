// Instantiates the decoder kernels: embedding, fused add + RMSNorm, SiLU gate, bias add, gemv,
// sampling.
#include "ptk/activation.cuh"
#include "ptk/decoder_launch.h"
#include "ptk/embedding.cuh"
#include "ptk/gemv.cuh"
#include "ptk/launch_kernel.cuh"
#include "ptk/norm.cuh"
#include "ptk/sampling.cuh"

namespace ptk {
namespace {

cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

int elementwise_grid(size_t quads) {
  const size_t blocks = (quads + kElementwiseThreads - 1) / kElementwiseThreads;
  return int(blocks < 65535 ? blocks : 65535);
}

template <int M_MAX>
cudaError_t launch_gemv(const void* x, const void* w, const void* bias, void* y, bool y_f32, int m, int n, int k,
                 cudaStream_t s) {
  const dim3 grid((n + kGemvWarps - 1) / kGemvWarps);
  const auto* xb = static_cast<const uint16_t*>(x);
  const auto* wb = static_cast<const uint16_t*>(w);
  const auto* bb = static_cast<const uint16_t*>(bias);
  if (y_f32) return launch_kernel<gemv_kernel<M_MAX, true>>(grid, kGemvWarps * 32, 0, s, xb, wb, bb, y, m, n, k);
  return launch_kernel<gemv_kernel<M_MAX, false>>(grid, kGemvWarps * 32, 0, s, xb, wb, bb, y, m, n, k);
}

}  // namespace

int embedding_launch(const void* table, int vocab, int hidden, const int32_t* ids, int n, float* out, void* stream) {
  return int(launch_kernel<embedding_kernel>(n, kEmbeddingThreads, 0, as_stream(stream),
                                             static_cast<const uint16_t*>(table), vocab, hidden, ids, out));
}

int add_rmsnorm_launch(float* residual, const float* delta, const void* weight, float eps, void* out, int rows,
                       int hidden, void* stream) {
  return int(launch_kernel<add_rmsnorm_kernel>(rows, kNormThreads, 0, as_stream(stream), residual, delta,
                                               static_cast<const uint16_t*>(weight), eps, static_cast<uint16_t*>(out),
                                               hidden));
}

int rmsnorm_rows_launch(const float* x, const int32_t* row_ids, const void* weight, float eps, void* out, int rows,
                        int hidden, void* stream) {
  return int(launch_kernel<rmsnorm_rows_kernel>(rows, kNormThreads, 0, as_stream(stream), x, row_ids,
                                                static_cast<const uint16_t*>(weight), eps, static_cast<uint16_t*>(out),
                                                hidden));
}

int silu_mul_launch(const float* gate_up, void* out, int rows, int inter, void* stream) {
  return int(launch_kernel<silu_mul_kernel>(elementwise_grid(size_t(rows) * inter / 4), kElementwiseThreads, 0,
                                            as_stream(stream), gate_up, static_cast<uint16_t*>(out), rows, inter));
}

int bias_to_bf16_launch(const float* y, const void* bias, void* out, int rows, int n, void* stream) {
  return int(launch_kernel<bias_to_bf16_kernel>(elementwise_grid(size_t(rows) * n / 4), kElementwiseThreads, 0,
                                                as_stream(stream), y, static_cast<const uint16_t*>(bias),
                                                static_cast<uint16_t*>(out), rows, n));
}

int gemv_launch(const void* x, const void* w, const void* bias, void* y, bool y_f32, int m, int n, int k,
                void* stream) {
  const cudaStream_t s = as_stream(stream);
  // Accumulators sized to the next power of two: few variants, little register waste.
  if (m <= 1) return int(launch_gemv<1>(x, w, bias, y, y_f32, m, n, k, s));
  if (m <= 2) return int(launch_gemv<2>(x, w, bias, y, y_f32, m, n, k, s));
  if (m <= 4) return int(launch_gemv<4>(x, w, bias, y, y_f32, m, n, k, s));
  if (m <= 8) return int(launch_gemv<8>(x, w, bias, y, y_f32, m, n, k, s));
  return int(launch_gemv<16>(x, w, bias, y, y_f32, m, n, k, s));
}

int sample_launch(const SampleLaunch& a, void* stream) {
  SampleParams p{a.logits, a.vocab, a.temperature > 0 ? 1.0f / a.temperature : 0.0f, a.top_k, a.top_p,
                 a.seed, a.path_ids, a.steps, a.tokens};
  return int(launch_kernel<sample_kernel>(a.rows, kSampleThreads, 0, as_stream(stream), p));
}

}  // namespace ptk
