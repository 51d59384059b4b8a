// The decoder operations' C ABI: every argument checked here, then one launch each.
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "device_memory.h"
#include "ptk/decoder.h"
#include "ptk/gemv_layout.h"
#include "ptk/sampling_math.h"
#include "rope_plan.h"
#include "validate.h"
#ifdef PTK_WITH_CUDA
#include "ptk/decoder_launch.h"
#endif

namespace {

// The status of a launch, or PTK_ERR_NO_CUDA in a host-only build.
#ifdef PTK_WITH_CUDA
#define PTK_LAUNCH(call, what) return ::ptk::cuda_status((call), what)
#else
#define PTK_LAUNCH(call, what) \
  do {                         \
    (void)stream;              \
    return ::ptk::fail(PTK_ERR_NO_CUDA, "%s: this ptk library was built without CUDA", what); \
  } while (0)
#endif

ptk_status check_width(const char* name, int value) {
  PTK_REQUIRE(value > 0 && value % 8 == 0, "%s (%d) must be a positive multiple of 8", name, value);
  return PTK_OK;
}

ptk_status check_rows(int rows) {
  PTK_REQUIRE(rows > 0 && rows <= 1 << 24, "rows (%d) must be in [1, 16777216]", rows);
  return PTK_OK;
}

ptk_status check_eps(float eps) {
  PTK_REQUIRE(std::isfinite(eps) && eps > 0.0f, "eps (%g) must be finite and positive", double(eps));
  return PTK_OK;
}

#define PTK_TRY(expr)                 \
  do {                                \
    ptk_status s_ = (expr);           \
    if (s_ != PTK_OK) return s_;      \
  } while (0)

static_assert(PTK_GEMV_MAX_ROWS == ptk::kGemvMaxRows, "the ABI's row limit is the kernels'");

ptk_status check_gemv_rows(int m) {
  PTK_REQUIRE(m >= 1 && m <= PTK_GEMV_MAX_ROWS, "m (%d) must be in [1, %d]; use a GEMM for more rows", m,
              PTK_GEMV_MAX_ROWS);
  return PTK_OK;
}

// The split workspace of a gemv of n weight rows and k columns (ptk_gemv_workspace_bytes).
ptk_status check_gemv_workspace(const void* workspace, size_t workspace_bytes, int n, int k) {
  const size_t need = ptk::gemv_workspace_bytes(n, k);
  if (need == 0) return PTK_OK;
  PTK_REQUIRE(workspace != nullptr,
              "workspace is null, but a gemv with n = %d, k = %d splits k: it needs ptk_gemv_workspace_bytes(%d, %d) "
              "= %zu bytes",
              n, k, n, k, need);
  PTK_REQUIRE(ptk::aligned16(workspace), "workspace must be 16-byte aligned");
  PTK_REQUIRE(workspace_bytes >= need, "workspace_bytes (%zu) must be at least ptk_gemv_workspace_bytes(%d, %d) = %zu",
              workspace_bytes, n, k, need);
  return PTK_OK;
}

// The gemv's math for the process, decided at the first call: tensor cores, or CUDA cores when
// PTK_GEMV_MATH=fma (ptk/decoder.h); any other value fails every gemv call, naming it.
ptk_status gemv_math(ptk::GemvMath* math) {
  static const char* const forced = std::getenv("PTK_GEMV_MATH");
  static const bool fma = forced != nullptr && std::strcmp(forced, "fma") == 0;
  static const bool known = forced == nullptr || forced[0] == '\0' || fma || std::strcmp(forced, "mma") == 0;
  PTK_REQUIRE(known, "PTK_GEMV_MATH=%s: unknown gemv math (mma or fma)", forced);
  *math = fma ? ptk::GemvMath::kFma : ptk::GemvMath::kMma;
  return PTK_OK;
}

ptk_status check_intermediate(int intermediate) {
  PTK_REQUIRE(intermediate > 0 && intermediate <= 1 << 24 && intermediate % 8 == 0,
              "intermediate (%d) must be a positive multiple of 8, at most 16777216", intermediate);
  return PTK_OK;
}

ptk_status check_y_dtype(ptk_dtype y_dtype) {
  PTK_REQUIRE(y_dtype == PTK_DTYPE_F32 || y_dtype == PTK_DTYPE_BF16, "y_dtype (%d) must be PTK_DTYPE_F32 or PTK_DTYPE_BF16",
              int(y_dtype));
  return PTK_OK;
}

// A device pointer that may be null (an optional operand) but, when given, is 16-byte aligned.
#define PTK_REQUIRE_OPTIONAL_DEVICE_PTR(ptr) \
  PTK_REQUIRE((ptr) == nullptr || ::ptk::aligned16(ptr), "%s must be 16-byte aligned", #ptr)

}  // namespace

extern "C" {

ptk_status ptk_embedding(const void* table, int vocab, int hidden, const int32_t* token_ids, int num_tokens,
                         float* out, float* sumsq, void* stream) {
  PTK_REQUIRE_DEVICE_PTR(table);
  PTK_REQUIRE_NOT_NULL(token_ids);
  PTK_REQUIRE_DEVICE_PTR(out);
  PTK_REQUIRE_OPTIONAL_DEVICE_PTR(sumsq);
  PTK_REQUIRE(vocab > 0, "vocab (%d) must be positive", vocab);
  PTK_TRY(check_width("hidden", hidden));
  PTK_REQUIRE(num_tokens > 0 && num_tokens <= 1 << 24, "num_tokens (%d) must be in [1, 16777216]", num_tokens);
  PTK_LAUNCH(ptk::embedding_launch(table, vocab, hidden, token_ids, num_tokens, out, sumsq, stream), "ptk_embedding");
}

ptk_status ptk_add_rmsnorm(float* residual, const float* delta, const void* weight, float eps, void* out, int rows,
                           int hidden, void* stream) {
  PTK_REQUIRE_DEVICE_PTR(residual);
  PTK_REQUIRE_OPTIONAL_DEVICE_PTR(delta);
  PTK_REQUIRE_DEVICE_PTR(weight);
  PTK_REQUIRE_DEVICE_PTR(out);
  PTK_TRY(check_eps(eps));
  PTK_TRY(check_rows(rows));
  PTK_TRY(check_width("hidden", hidden));
  PTK_LAUNCH(ptk::add_rmsnorm_launch(residual, delta, weight, eps, out, rows, hidden, stream), "ptk_add_rmsnorm");
}

ptk_status ptk_rmsnorm_rows(const float* x, const int32_t* row_ids, const void* weight, float eps, void* out,
                            int rows, int hidden, void* stream) {
  PTK_REQUIRE_DEVICE_PTR(x);
  PTK_REQUIRE_NOT_NULL(row_ids);
  PTK_REQUIRE_DEVICE_PTR(weight);
  PTK_REQUIRE_DEVICE_PTR(out);
  PTK_TRY(check_eps(eps));
  PTK_TRY(check_rows(rows));
  PTK_TRY(check_width("hidden", hidden));
  PTK_LAUNCH(ptk::rmsnorm_rows_launch(x, row_ids, weight, eps, out, rows, hidden, stream), "ptk_rmsnorm_rows");
}

ptk_status ptk_silu_mul(const float* gate_up, void* out, int rows, int intermediate, void* stream) {
  PTK_REQUIRE_DEVICE_PTR(gate_up);
  PTK_REQUIRE_DEVICE_PTR(out);
  PTK_TRY(check_rows(rows));
  PTK_TRY(check_width("intermediate", intermediate));
  PTK_LAUNCH(ptk::silu_mul_launch(gate_up, out, rows, intermediate, stream), "ptk_silu_mul");
}

ptk_status ptk_bias_to_bf16(const float* y, const void* bias, void* out, int rows, int n, void* stream) {
  PTK_REQUIRE_DEVICE_PTR(y);
  PTK_REQUIRE_OPTIONAL_DEVICE_PTR(bias);
  PTK_REQUIRE_DEVICE_PTR(out);
  PTK_TRY(check_rows(rows));
  PTK_TRY(check_width("n", n));
  PTK_LAUNCH(ptk::bias_to_bf16_launch(y, bias, out, rows, n, stream), "ptk_bias_to_bf16");
}

size_t ptk_gemv_workspace_bytes(int n, int k) { return n > 0 && k > 0 ? ptk::gemv_workspace_bytes(n, k) : 0; }

ptk_status ptk_gemv(const void* x, const void* weight, const void* bias, void* y, ptk_dtype y_dtype, int m, int n,
                    int k, void* workspace, size_t workspace_bytes, void* stream) {
  PTK_REQUIRE_DEVICE_PTR(x);
  PTK_REQUIRE_DEVICE_PTR(weight);
  PTK_REQUIRE_OPTIONAL_DEVICE_PTR(bias);
  PTK_REQUIRE_DEVICE_PTR(y);
  PTK_TRY(check_y_dtype(y_dtype));
  PTK_TRY(check_gemv_rows(m));
  PTK_REQUIRE(n > 0, "n (%d) must be positive", n);
  PTK_TRY(check_width("k", k));
  PTK_TRY(check_gemv_workspace(workspace, workspace_bytes, n, k));
  ptk::GemvMath math;
  PTK_TRY(gemv_math(&math));
  PTK_LAUNCH(ptk::gemv_launch(x, nullptr, weight, bias, y, y_dtype == PTK_DTYPE_F32, m, n, k, workspace, math,
                              stream),
             "ptk_gemv");
}

ptk_status ptk_gemv_silu_mul(const void* x, const void* weight, void* out, int m, int intermediate, int hidden,
                             void* workspace, size_t workspace_bytes, void* stream) {
  PTK_REQUIRE_DEVICE_PTR(x);
  PTK_REQUIRE_DEVICE_PTR(weight);
  PTK_REQUIRE_DEVICE_PTR(out);
  PTK_TRY(check_gemv_rows(m));
  PTK_TRY(check_intermediate(intermediate));
  PTK_TRY(check_width("hidden", hidden));
  PTK_TRY(check_gemv_workspace(workspace, workspace_bytes, 2 * intermediate, hidden));
  ptk::GemvMath math;
  PTK_TRY(gemv_math(&math));
  PTK_LAUNCH(ptk::gemv_silu_mul_launch(x, nullptr, weight, out, m, intermediate, hidden, workspace, math, stream),
             "ptk_gemv_silu_mul");
}

int ptk_norm_parts(int hidden) { return hidden > 0 ? ptk::norm_parts(hidden) : 0; }

ptk_status ptk_add_sumsq(float* residual, const float* delta, float* sumsq, int rows, int hidden, void* stream) {
  PTK_REQUIRE_DEVICE_PTR(residual);
  PTK_REQUIRE_OPTIONAL_DEVICE_PTR(delta);
  PTK_REQUIRE_DEVICE_PTR(sumsq);
  PTK_TRY(check_rows(rows));
  PTK_TRY(check_width("hidden", hidden));
  PTK_LAUNCH(ptk::add_sumsq_launch(residual, delta, sumsq, rows, hidden, stream), "ptk_add_sumsq");
}

ptk_status ptk_gemv_add(const void* x, const void* weight, float* residual, float* sumsq, int m, int n, int k,
                        void* workspace, size_t workspace_bytes, void* stream) {
  PTK_REQUIRE_DEVICE_PTR(x);
  PTK_REQUIRE_DEVICE_PTR(weight);
  PTK_REQUIRE_DEVICE_PTR(residual);
  PTK_REQUIRE_OPTIONAL_DEVICE_PTR(sumsq);
  PTK_TRY(check_gemv_rows(m));
  PTK_TRY(check_width("n", n));
  PTK_TRY(check_width("k", k));
  PTK_TRY(check_gemv_workspace(workspace, workspace_bytes, n, k));
  ptk::GemvMath math;
  PTK_TRY(gemv_math(&math));
  PTK_LAUNCH(ptk::gemv_add_launch(x, weight, residual, sumsq, m, n, k, workspace, math, stream), "ptk_gemv_add");
}

ptk_status ptk_gemv_rmsnorm(const float* residual, const float* sumsq, const void* norm_weight, float eps,
                            const void* weight, const void* bias, void* y, ptk_dtype y_dtype, int m, int n, int k,
                            void* workspace, size_t workspace_bytes, void* stream) {
  PTK_REQUIRE_DEVICE_PTR(residual);
  PTK_REQUIRE_DEVICE_PTR(sumsq);
  PTK_REQUIRE_DEVICE_PTR(norm_weight);
  PTK_REQUIRE_DEVICE_PTR(weight);
  PTK_REQUIRE_OPTIONAL_DEVICE_PTR(bias);
  PTK_REQUIRE_DEVICE_PTR(y);
  PTK_TRY(check_eps(eps));
  PTK_TRY(check_y_dtype(y_dtype));
  PTK_TRY(check_gemv_rows(m));
  PTK_REQUIRE(n > 0, "n (%d) must be positive", n);
  PTK_TRY(check_width("k", k));
  PTK_TRY(check_gemv_workspace(workspace, workspace_bytes, n, k));
#ifdef PTK_WITH_CUDA
  const ptk::NormInput norm{residual, sumsq, norm_weight, eps};
#endif
  ptk::GemvMath math;
  PTK_TRY(gemv_math(&math));
  PTK_LAUNCH(ptk::gemv_launch(nullptr, &norm, weight, bias, y, y_dtype == PTK_DTYPE_F32, m, n, k, workspace, math,
                              stream),
             "ptk_gemv_rmsnorm");
}

ptk_status ptk_gemv_rmsnorm_silu_mul(const float* residual, const float* sumsq, const void* norm_weight, float eps,
                                     const void* weight, void* out, int m, int intermediate, int hidden,
                                     void* workspace, size_t workspace_bytes, void* stream) {
  PTK_REQUIRE_DEVICE_PTR(residual);
  PTK_REQUIRE_DEVICE_PTR(sumsq);
  PTK_REQUIRE_DEVICE_PTR(norm_weight);
  PTK_REQUIRE_DEVICE_PTR(weight);
  PTK_REQUIRE_DEVICE_PTR(out);
  PTK_TRY(check_eps(eps));
  PTK_TRY(check_gemv_rows(m));
  PTK_TRY(check_intermediate(intermediate));
  PTK_TRY(check_width("hidden", hidden));
  PTK_TRY(check_gemv_workspace(workspace, workspace_bytes, 2 * intermediate, hidden));
#ifdef PTK_WITH_CUDA
  const ptk::NormInput norm{residual, sumsq, norm_weight, eps};
#endif
  ptk::GemvMath math;
  PTK_TRY(gemv_math(&math));
  PTK_LAUNCH(ptk::gemv_silu_mul_launch(nullptr, &norm, weight, out, m, intermediate, hidden, workspace, math, stream),
             "ptk_gemv_rmsnorm_silu_mul");
}

ptk_status ptk_gemv_rmsnorm_rope_append(const ptk_rope_plan* plan, const float* residual, const float* sumsq,
                                       const void* norm_weight, float eps, const void* weight, const void* bias,
                                       const void* thought_table, void* q_out, void* k_cache, void* v_cache, int m,
                                       int hidden, void* workspace, size_t workspace_bytes, void* stream) {
  PTK_REQUIRE_NOT_NULL(plan);
  PTK_REQUIRE_DEVICE_PTR(residual);
  PTK_REQUIRE_DEVICE_PTR(sumsq);
  PTK_REQUIRE_DEVICE_PTR(norm_weight);
  PTK_REQUIRE_DEVICE_PTR(weight);
  PTK_REQUIRE_OPTIONAL_DEVICE_PTR(bias);
  PTK_TRY(ptk::check_append_pointers(thought_table, q_out, k_cache, v_cache));
  PTK_TRY(check_eps(eps));
  PTK_TRY(check_gemv_rows(m));
  PTK_TRY(check_width("hidden", hidden));
  PTK_REQUIRE(ptk::rope_plan_tokens(plan) > 0, "plan has no tokens (call ptk_rope_plan_update first)");
  PTK_REQUIRE(m <= ptk::rope_plan_tokens(plan), "m (%d) must be at most the rope plan's num_tokens (%d)", m,
              ptk::rope_plan_tokens(plan));
  const int n = ptk::rope_plan_qkv_width(plan);
  PTK_TRY(check_gemv_workspace(workspace, workspace_bytes, n, hidden));
#ifdef PTK_WITH_CUDA
  ptk::RopeAppendLaunch a;
  PTK_TRY(ptk::rope_append_args(plan, thought_table, q_out, k_cache, v_cache, &a));
  const ptk::NormInput norm{residual, sumsq, norm_weight, eps};
#endif
  ptk::GemvMath math;
  PTK_TRY(gemv_math(&math));
  PTK_LAUNCH(ptk::gemv_rope_append_launch(norm, weight, bias, a, m, n, hidden, workspace, math, stream),
             "ptk_gemv_rmsnorm_rope_append");
}

size_t ptk_sample_workspace_bytes(int rows) { return rows > 0 ? size_t(rows) * ptk::kSampleRowWorkBytes : 0; }

ptk_status ptk_sample(const float* logits, int rows, int vocab, const ptk_sampling_params* params,
                      const int32_t* path_ids, const int32_t* steps, int32_t* tokens, void* workspace,
                      size_t workspace_bytes, void* stream) {
  PTK_REQUIRE_NOT_NULL(logits);
  PTK_REQUIRE_NOT_NULL(params);
  PTK_REQUIRE_NOT_NULL(path_ids);
  PTK_REQUIRE_NOT_NULL(steps);
  PTK_REQUIRE_NOT_NULL(tokens);
  PTK_TRY(check_rows(rows));
  PTK_REQUIRE(vocab > 0 && vocab <= ptk::kSampleMaxVocab, "vocab (%d) must be in [1, %d]", vocab,
              ptk::kSampleMaxVocab);
  PTK_REQUIRE(std::isfinite(params->temperature) && params->temperature >= 0.0f,
              "params->temperature (%g) must be finite and >= 0 (0 = greedy)", double(params->temperature));
  PTK_REQUIRE(params->top_k >= 0, "params->top_k (%d) must be >= 0 (0 = off)", params->top_k);
  PTK_REQUIRE(params->top_p > 0.0f && params->top_p <= 1.0f, "params->top_p (%g) must be in (0, 1] (1 = off)",
              double(params->top_p));
  PTK_REQUIRE_DEVICE_PTR(workspace);
  PTK_REQUIRE(workspace_bytes >= ptk_sample_workspace_bytes(rows),
              "workspace_bytes (%zu) must be at least ptk_sample_workspace_bytes(%d) = %zu", workspace_bytes, rows,
              ptk_sample_workspace_bytes(rows));
  PTK_LAUNCH(ptk::sample_launch(ptk::SampleLaunch{logits, rows, vocab, params->temperature, params->top_k,
                                                  params->top_p, params->seed, path_ids, steps, tokens, workspace},
                                stream),
             "ptk_sample");
}

float ptk_sample_exponential(uint64_t seed, int32_t path, int32_t step, int32_t token) {
  return ptk::exponential(seed, uint32_t(path), uint32_t(step), uint32_t(token));
}

}  // extern "C"
