// Instantiates the decoder kernels: embedding, fused add + RMSNorm, the residual add with its
// sums of squares, SiLU gate, bias add, gemv (plain, fused with the SiLU gate, norming its input,
// adding into the residual, appending qkv to the KV cache), sampling.
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

// A block per group of weight rows and split of k (gemv_layout.h).
template <int M_MAX, GemvIn IN, GemvOut OUT, GemvMath MATH>
cudaError_t launch_gemv(const GemvParams& p, cudaStream_t s) {
  constexpr size_t smem = gemv_smem_bytes<M_MAX, MATH>();
  constexpr auto kernel = gemv_kernel<M_MAX, IN, OUT, MATH>;
  const cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
  if (err != cudaSuccess) return err;
  return launch_kernel<kernel>(gemv_groups(p.n) * p.splits, kGemvThreads, smem, s, p);
}

// Rows staged (and, on the CUDA cores, accumulators) sized to the next power of two of m: few
// variants, little waste.
template <GemvIn IN, GemvOut OUT, GemvMath MATH>
cudaError_t launch_gemv_m(const GemvParams& p, cudaStream_t s) {
  if (p.m <= 1) return launch_gemv<1, IN, OUT, MATH>(p, s);
  if (p.m <= 2) return launch_gemv<2, IN, OUT, MATH>(p, s);
  if (p.m <= 4) return launch_gemv<4, IN, OUT, MATH>(p, s);
  if (p.m <= 8) return launch_gemv<8, IN, OUT, MATH>(p, s);
  return launch_gemv<16, IN, OUT, MATH>(p, s);
}

template <GemvIn IN, GemvOut OUT>
int launch_gemv_math(const GemvParams& p, GemvMath math, cudaStream_t s) {
  if (math == GemvMath::kFma) return int(launch_gemv_m<IN, OUT, GemvMath::kFma>(p, s));
  return int(launch_gemv_m<IN, OUT, GemvMath::kMma>(p, s));
}

// The parameters of a gemv reading x as bf16, or (residual given) the RMSNorm of the residual;
// `workspace` gemv_workspace_bytes(n, k) bytes, or null when that is 0.
GemvParams gemv_params(const void* x, const NormInput* norm, const void* w, const void* bias, void* y, int m, int n,
                       int k, void* workspace) {
  GemvParams p{};
  p.x = static_cast<const uint16_t*>(x);
  if (norm != nullptr) {
    p.residual = norm->residual;
    p.sumsq = norm->sumsq;
    p.norm_w = static_cast<const uint16_t*>(norm->weight);
    p.eps = norm->eps;
  }
  p.w = static_cast<const uint16_t*>(w);
  p.bias = static_cast<const uint16_t*>(bias);
  p.y = y;
  p.m = m;
  p.n = n;
  p.k = k;
  p.splits = gemv_splits(n, k);
  if (p.splits > 1) {
    p.split_arrivals = static_cast<int*>(workspace);
    p.split_sums = reinterpret_cast<float*>(static_cast<char*>(workspace) + kGemvCounterBytes);
  }
  return p;
}

}  // namespace

int embedding_launch(const void* table, int vocab, int hidden, const int32_t* ids, int n, float* out, float* sumsq,
                     void* stream) {
  return int(launch_kernel<embedding_kernel>(n, kEmbeddingThreads, 0, as_stream(stream),
                                             static_cast<const uint16_t*>(table), vocab, hidden, ids, out, sumsq));
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

int add_sumsq_launch(float* residual, const float* delta, float* sumsq, int rows, int hidden, void* stream) {
  return int(launch_kernel<add_sumsq_kernel>(rows, kNormThreads, 0, as_stream(stream), residual, delta, sumsq, hidden));
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

int gemv_launch(const void* x, const NormInput* norm, const void* w, const void* bias, void* y, bool y_f32, int m,
                int n, int k, void* workspace, GemvMath math, void* stream) {
  const GemvParams p = gemv_params(x, norm, w, bias, y, m, n, k, workspace);
  if (norm != nullptr) {
    if (y_f32) return launch_gemv_math<GemvIn::kRmsNorm, GemvOut::kF32>(p, math, as_stream(stream));
    return launch_gemv_math<GemvIn::kRmsNorm, GemvOut::kBf16>(p, math, as_stream(stream));
  }
  if (y_f32) return launch_gemv_math<GemvIn::kBf16, GemvOut::kF32>(p, math, as_stream(stream));
  return launch_gemv_math<GemvIn::kBf16, GemvOut::kBf16>(p, math, as_stream(stream));
}

int gemv_silu_mul_launch(const void* x, const NormInput* norm, const void* w, void* out, int m, int inter, int k,
                         void* workspace, GemvMath math, void* stream) {
  const GemvParams p = gemv_params(x, norm, w, nullptr, out, m, 2 * inter, k, workspace);
  if (norm != nullptr) return launch_gemv_math<GemvIn::kRmsNorm, GemvOut::kSiluMul>(p, math, as_stream(stream));
  return launch_gemv_math<GemvIn::kBf16, GemvOut::kSiluMul>(p, math, as_stream(stream));
}

int gemv_add_launch(const void* x, const void* w, float* residual, float* sumsq, int m, int n, int k, void* workspace,
                    GemvMath math, void* stream) {
  GemvParams p = gemv_params(x, nullptr, w, nullptr, residual, m, n, k, workspace);
  p.sumsq_out = sumsq;
  return launch_gemv_math<GemvIn::kBf16, GemvOut::kAddResidual>(p, math, as_stream(stream));
}

int gemv_rope_append_launch(const NormInput& norm, const void* w, const void* bias, const RopeAppendLaunch& a, int m,
                            int n, int k, void* workspace, GemvMath math, void* stream) {
  GemvParams p = gemv_params(nullptr, &norm, w, bias, nullptr, m, n, k, workspace);
  p.append = rope_append_params(a);
  p.head_dim = a.head_dim;
  return launch_gemv_math<GemvIn::kRmsNorm, GemvOut::kRopeAppend>(p, math, as_stream(stream));
}

int sample_launch(const SampleLaunch& a, void* stream) {
  const int splits = sample_splits(a.rows, a.vocab);
  const SampleParams p{a.logits, a.vocab, splits, a.temperature > 0 ? 1.0f / a.temperature : 0.0f, a.top_k, a.top_p,
                       a.seed, a.path_ids, a.steps, a.tokens, a.work};
  const cudaStream_t s = as_stream(stream);
  const unsigned split_grid = unsigned(a.rows) * unsigned(splits);
  cudaError_t err = launch_kernel<sample_max_kernel>(split_grid, kSampleThreads, 0, s, p);
  if (err == cudaSuccess && p.inv_temperature != 0.0f) {
    for (int level = 0; top_k_on(a.top_k, a.vocab) && level < kSampleRadixLevels && err == cudaSuccess; ++level)
      err = launch_kernel<sample_select_kernel<false>>(split_grid, kSampleThreads, 0, s, p, level);
    for (int level = 0; top_p_on(a.top_p) && level < kSampleRadixLevels && err == cudaSuccess; ++level)
      err = launch_kernel<sample_select_kernel<true>>(split_grid, kSampleThreads, 0, s, p, level);
    if (err == cudaSuccess) err = launch_kernel<sample_draw_kernel>(split_grid, kSampleThreads, 0, s, p);
  }
  if (err == cudaSuccess) err = launch_kernel<sample_pick_kernel>(a.rows, 32, 0, s, p);
  return int(err);
}

}  // namespace ptk
