// The decoder operations on the host: each bad argument is refused before any launch with a
// message naming it; the sampling random numbers are reproducible and Exp(1)-distributed, and the
// draw argmax(p / q) picks each token with its probability; float keys and bf16 rounding.
#include <cmath>
#include <cstring>
#include <vector>

#include "check.h"
#include "ptk/common.h"
#include "ptk/decoder.h"
#include "ptk/runtime.h"
#include "ptk/sampling_math.h"


namespace {

alignas(16) char dev[64];  // stands in for device pointers: validation never dereferences them
void* const D = dev;
float* const F = reinterpret_cast<float*>(dev);
int32_t* const I = reinterpret_cast<int32_t*>(dev);
void* const Odd = dev + 2;  // not 16-byte aligned

void embedding() {
  EXPECT_INVALID(ptk_embedding(nullptr, 10, 64, I, 1, F, nullptr, nullptr), "table");
  EXPECT_INVALID(ptk_embedding(Odd, 10, 64, I, 1, F, nullptr, nullptr), "table must be 16-byte aligned");
  EXPECT_INVALID(ptk_embedding(D, 10, 64, nullptr, 1, F, nullptr, nullptr), "token_ids");
  EXPECT_INVALID(ptk_embedding(D, 10, 64, I, 1, nullptr, nullptr, nullptr), "out");
  EXPECT_INVALID(ptk_embedding(D, 0, 64, I, 1, F, nullptr, nullptr), "vocab (0)");
  EXPECT_INVALID(ptk_embedding(D, 10, 60, I, 1, F, nullptr, nullptr), "hidden (60) must be a positive multiple of 8");
  EXPECT_INVALID(ptk_embedding(D, 10, 64, I, 0, F, nullptr, nullptr), "num_tokens (0)");
  EXPECT_INVALID(ptk_embedding(D, 10, 64, I, 1, F, F + 1, nullptr), "sumsq must be 16-byte aligned");
}

void norms() {
  EXPECT_INVALID(ptk_add_rmsnorm(nullptr, F, D, 1e-6f, D, 1, 64, nullptr), "residual");
  EXPECT_INVALID(ptk_add_rmsnorm(F, reinterpret_cast<float*>(Odd), D, 1e-6f, D, 1, 64, nullptr),
                 "delta must be 16-byte aligned");
  EXPECT_INVALID(ptk_add_rmsnorm(F, nullptr, nullptr, 1e-6f, D, 1, 64, nullptr), "weight");
  EXPECT_INVALID(ptk_add_rmsnorm(F, nullptr, D, 1e-6f, nullptr, 1, 64, nullptr), "out");
  EXPECT_INVALID(ptk_add_rmsnorm(F, nullptr, D, 0.0f, D, 1, 64, nullptr), "eps (0)");
  EXPECT_INVALID(ptk_add_rmsnorm(F, nullptr, D, NAN, D, 1, 64, nullptr), "eps (nan)");
  EXPECT_INVALID(ptk_add_rmsnorm(F, nullptr, D, 1e-6f, D, 0, 64, nullptr), "rows (0)");
  EXPECT_INVALID(ptk_add_rmsnorm(F, nullptr, D, 1e-6f, D, 1, 12, nullptr), "hidden (12)");
  EXPECT_INVALID(ptk_rmsnorm_rows(F, nullptr, D, 1e-6f, D, 1, 64, nullptr), "row_ids");
  EXPECT_INVALID(ptk_rmsnorm_rows(nullptr, I, D, 1e-6f, D, 1, 64, nullptr), "x");
  EXPECT_INVALID(ptk_rmsnorm_rows(F, I, D, -1.0f, D, 1, 64, nullptr), "eps (-1)");
  EXPECT_INVALID(ptk_rmsnorm_rows(F, I, D, 1e-6f, D, -3, 64, nullptr), "rows (-3)");
}

void elementwise() {
  EXPECT_INVALID(ptk_silu_mul(nullptr, D, 1, 64, nullptr), "gate_up");
  EXPECT_INVALID(ptk_silu_mul(F, Odd, 1, 64, nullptr), "out must be 16-byte aligned");
  EXPECT_INVALID(ptk_silu_mul(F, D, 0, 64, nullptr), "rows (0)");
  EXPECT_INVALID(ptk_silu_mul(F, D, 1, 4, nullptr), "intermediate (4)");
  EXPECT_INVALID(ptk_bias_to_bf16(nullptr, D, D, 1, 64, nullptr), "y");
  EXPECT_INVALID(ptk_bias_to_bf16(F, Odd, D, 1, 64, nullptr), "bias must be 16-byte aligned");
  EXPECT_INVALID(ptk_bias_to_bf16(F, D, nullptr, 1, 64, nullptr), "out");
  EXPECT_INVALID(ptk_bias_to_bf16(F, D, D, 1, 0, nullptr), "n (0)");
}

void gemv() {
  EXPECT_INVALID(ptk_gemv(nullptr, D, nullptr, D, PTK_DTYPE_F32, 1, 8, 8, nullptr, 0, nullptr), "x");
  EXPECT_INVALID(ptk_gemv(D, nullptr, nullptr, D, PTK_DTYPE_F32, 1, 8, 8, nullptr, 0, nullptr), "weight");
  EXPECT_INVALID(ptk_gemv(D, Odd, nullptr, D, PTK_DTYPE_F32, 1, 8, 8, nullptr, 0, nullptr), "weight must be 16-byte aligned");
  EXPECT_INVALID(ptk_gemv(D, D, Odd, D, PTK_DTYPE_F32, 1, 8, 8, nullptr, 0, nullptr), "bias must be 16-byte aligned");
  EXPECT_INVALID(ptk_gemv(D, D, nullptr, nullptr, PTK_DTYPE_F32, 1, 8, 8, nullptr, 0, nullptr), "y");
  EXPECT_INVALID(ptk_gemv(D, D, nullptr, D, static_cast<ptk_dtype>(7), 1, 8, 8, nullptr, 0, nullptr), "y_dtype (7)");
  EXPECT_INVALID(ptk_gemv(D, D, nullptr, D, PTK_DTYPE_F32, 0, 8, 8, nullptr, 0, nullptr), "m (0) must be in [1, 16]");
  EXPECT_INVALID(ptk_gemv(D, D, nullptr, D, PTK_DTYPE_F32, 17, 8, 8, nullptr, 0, nullptr), "m (17) must be in [1, 16]");
  EXPECT_INVALID(ptk_gemv(D, D, nullptr, D, PTK_DTYPE_F32, 4, 0, 8, nullptr, 0, nullptr), "n (0)");
  EXPECT_INVALID(ptk_gemv(D, D, nullptr, D, PTK_DTYPE_BF16, 4, 8, 12, nullptr, 0, nullptr), "k (12) must be a positive multiple of 8");
  EXPECT_INVALID(ptk_gemv_silu_mul(nullptr, D, D, 1, 8, 8, nullptr, 0, nullptr), "x");
  EXPECT_INVALID(ptk_gemv_silu_mul(D, Odd, D, 1, 8, 8, nullptr, 0, nullptr), "weight must be 16-byte aligned");
  EXPECT_INVALID(ptk_gemv_silu_mul(D, D, nullptr, 1, 8, 8, nullptr, 0, nullptr), "out");
  EXPECT_INVALID(ptk_gemv_silu_mul(D, D, D, 17, 8, 8, nullptr, 0, nullptr), "m (17) must be in [1, 16]");
  EXPECT_INVALID(ptk_gemv_silu_mul(D, D, D, 1, 12, 8, nullptr, 0, nullptr), "intermediate (12)");
  EXPECT_INVALID(ptk_gemv_silu_mul(D, D, D, 1, 1 << 25, 8, nullptr, 0, nullptr), "intermediate (33554432)");
  EXPECT_INVALID(ptk_gemv_silu_mul(D, D, D, 1, 8, 0, nullptr, 0, nullptr), "hidden (0) must be a positive multiple of 8");
}

// The split workspace. n = 64, k = 512 is 2 groups of rows and 2 slices of k: split, so every form
// needs a workspace (n = 2 intermediate for the SiLU forms). One group of one slice (n = k = 8) and
// enough groups to fill the chip (n = 8448, 264 groups) do not split.
void gemv_workspace() {
  const size_t ws = ptk_gemv_workspace_bytes(64, 512);
  CHECK(ws > 0);
  CHECK(ptk_gemv_workspace_bytes(8, 8) == 0 && ptk_gemv_workspace_bytes(8448, 8960) == 0);
  CHECK(ptk_gemv_workspace_bytes(0, 512) == 0 && ptk_gemv_workspace_bytes(64, -8) == 0);
  EXPECT_INVALID(ptk_gemv(D, D, nullptr, D, PTK_DTYPE_F32, 1, 64, 512, nullptr, ws, nullptr),
                 "workspace is null, but a gemv with n = 64, k = 512 splits k");
  EXPECT_INVALID(ptk_gemv(D, D, nullptr, D, PTK_DTYPE_F32, 1, 64, 512, Odd, ws, nullptr),
                 "workspace must be 16-byte aligned");
  EXPECT_INVALID(ptk_gemv(D, D, nullptr, D, PTK_DTYPE_F32, 1, 64, 512, D, ws - 1, nullptr), "workspace_bytes (");
  EXPECT_INVALID(ptk_gemv_silu_mul(D, D, D, 1, 32, 512, nullptr, 0, nullptr), "ptk_gemv_workspace_bytes(64, 512)");
  EXPECT_INVALID(ptk_gemv_add(D, D, F, F, 1, 64, 512, D, ws - 1, nullptr), "workspace_bytes (");
  EXPECT_INVALID(ptk_gemv_rmsnorm(F, F, D, 1e-6f, D, nullptr, D, PTK_DTYPE_BF16, 1, 64, 512, nullptr, 0, nullptr),
                 "workspace is null");
  EXPECT_INVALID(ptk_gemv_rmsnorm_silu_mul(F, F, D, 1e-6f, D, D, 1, 32, 512, Odd, ws, nullptr),
                 "workspace must be 16-byte aligned");
}

// The fused forms: the norm handoff, and the qkv gemv that appends (a plan of 3 tokens; without a
// device the update validates and stages, then its upload fails, which the checks here precede).
void gemv_fused() {
  EXPECT_INVALID(ptk_gemv_add(nullptr, D, F, F, 1, 8, 8, nullptr, 0, nullptr), "x");
  EXPECT_INVALID(ptk_gemv_add(D, D, nullptr, F, 1, 8, 8, nullptr, 0, nullptr), "residual");
  EXPECT_INVALID(ptk_gemv_add(D, D, F, F, 17, 8, 8, nullptr, 0, nullptr), "m (17) must be in [1, 16]");
  EXPECT_INVALID(ptk_gemv_rmsnorm(nullptr, F, D, 1e-6f, D, nullptr, D, PTK_DTYPE_BF16, 1, 8, 8, nullptr, 0, nullptr), "residual");
  EXPECT_INVALID(ptk_gemv_rmsnorm(F, nullptr, D, 1e-6f, D, nullptr, D, PTK_DTYPE_BF16, 1, 8, 8, nullptr, 0, nullptr), "sumsq");
  EXPECT_INVALID(ptk_gemv_rmsnorm(F, F, D, 0.0f, D, nullptr, D, PTK_DTYPE_BF16, 1, 8, 8, nullptr, 0, nullptr), "eps (0)");
  EXPECT_INVALID(ptk_gemv_rmsnorm_silu_mul(F, F, D, 1e-6f, D, nullptr, 1, 8, 8, nullptr, 0, nullptr), "out");

  const ptk_kv_layout layout = {4, 2, 64, 16, 8};
  const ptk_rope_config rope = {10000.0, 1.0, 0, 0.0, 0.0};
  ptk_rope_plan* plan = nullptr;
  CHECK_STATUS(ptk_rope_plan_create(&layout, &rope, 4, 8, &plan), PTK_OK);
  const int32_t pos[] = {0, 1, 2}, seg[] = {0, 1, 2}, slots[] = {0, 1, -1};
  ptk_rope_plan_update(plan, 3, pos, seg, slots, nullptr);
  auto fused = [&](const ptk_rope_plan* pl, const float* res, const void* thought, void* q, void* k, int m, int hidden) {
    return ptk_gemv_rmsnorm_rope_append(pl, res, F, D, 1e-6f, D, nullptr, thought, q, k, D, m, hidden, nullptr, 0,
                                        nullptr);
  };
  EXPECT_INVALID(fused(nullptr, F, nullptr, D, D, 1, 64), "plan");
  EXPECT_INVALID(fused(plan, nullptr, nullptr, D, D, 1, 64), "residual");
  EXPECT_INVALID(fused(plan, F, nullptr, nullptr, D, 1, 64), "q_out");
  EXPECT_INVALID(fused(plan, F, nullptr, D, nullptr, 1, 64), "k_cache");
  EXPECT_INVALID(fused(plan, F, dev + 1, D, D, 1, 64), "thought_table must be 2-byte aligned");
  EXPECT_INVALID(fused(plan, F, nullptr, D, D, 0, 64), "m (0) must be in [1, 16]");
  EXPECT_INVALID(fused(plan, F, nullptr, D, D, 1, 12), "hidden (12)");
  EXPECT_INVALID(fused(plan, F, nullptr, D, D, 4, 64), "m (4) must be at most the rope plan's num_tokens (3)");
  // The plan's qkv is 512 rows: at hidden 512 (two slices) the gemv splits k and needs a workspace.
  EXPECT_INVALID(fused(plan, F, nullptr, D, D, 1, 512), "ptk_gemv_workspace_bytes(512, 512)");
  ptk_rope_plan_destroy(plan);
}

void sample() {
  ptk_sampling_params ok = {0.7f, 20, 0.95f, 1234};
  void* const W = D;
  const size_t kW = ptk_sample_workspace_bytes(1);
  CHECK(kW > 0 && ptk_sample_workspace_bytes(8) == 8 * kW && ptk_sample_workspace_bytes(0) == 0);
  EXPECT_INVALID(ptk_sample(F, 1, 10, &ok, I, I, I, nullptr, kW, nullptr), "workspace");
  EXPECT_INVALID(ptk_sample(F, 2, 10, &ok, I, I, I, W, kW, nullptr), "workspace_bytes");
  EXPECT_INVALID(ptk_sample(nullptr, 1, 10, &ok, I, I, I, W, kW, nullptr), "logits");
  EXPECT_INVALID(ptk_sample(F, 1, 10, nullptr, I, I, I, W, kW, nullptr), "params");
  EXPECT_INVALID(ptk_sample(F, 1, 10, &ok, nullptr, I, I, W, kW, nullptr), "path_ids");
  EXPECT_INVALID(ptk_sample(F, 1, 10, &ok, I, nullptr, I, W, kW, nullptr), "steps");
  EXPECT_INVALID(ptk_sample(F, 1, 10, &ok, I, I, nullptr, W, kW, nullptr), "tokens");
  EXPECT_INVALID(ptk_sample(F, 0, 10, &ok, I, I, I, W, kW, nullptr), "rows (0)");
  EXPECT_INVALID(ptk_sample(F, 1, 0, &ok, I, I, I, W, kW, nullptr), "vocab (0)");
  EXPECT_INVALID(ptk_sample(F, 1, (1 << 24) + 1, &ok, I, I, I, W, kW, nullptr), "vocab (16777217)");
  ptk_sampling_params p = ok;
  p.temperature = -0.5f;
  EXPECT_INVALID(ptk_sample(F, 1, 10, &p, I, I, I, W, kW, nullptr), "params->temperature (-0.5)");
  p = ok;
  p.temperature = INFINITY;
  EXPECT_INVALID(ptk_sample(F, 1, 10, &p, I, I, I, W, kW, nullptr), "params->temperature (inf)");
  p = ok;
  p.top_k = -1;
  EXPECT_INVALID(ptk_sample(F, 1, 10, &p, I, I, I, W, kW, nullptr), "params->top_k (-1)");
  p = ok;
  p.top_p = 0.0f;
  EXPECT_INVALID(ptk_sample(F, 1, 10, &p, I, I, I, W, kW, nullptr), "params->top_p (0)");
  p = ok;
  p.top_p = 1.5f;
  EXPECT_INVALID(ptk_sample(F, 1, 10, &p, I, I, I, W, kW, nullptr), "params->top_p (1.5)");
}

void runtime_arguments() {
  if (ptk_built_with_cuda()) {
    EXPECT_INVALID(ptk_malloc(nullptr, 16), "ptr");
    EXPECT_INVALID(ptk_mem_info(nullptr, nullptr), "free_bytes");
    EXPECT_INVALID(ptk_graph_end_capture(D, nullptr), "graph");
    EXPECT_INVALID(ptk_graph_launch(nullptr, nullptr), "graph");
    int nodes = -1;
    EXPECT_INVALID(ptk_graph_node_count(nullptr, &nodes), "graph");
    EXPECT_INVALID(ptk_event_create(nullptr), "event");
    EXPECT_INVALID(ptk_event_record(nullptr, nullptr), "event");
    float ms = -1.f;
    EXPECT_INVALID(ptk_event_elapsed_ms(nullptr, D, &ms), "start");
    EXPECT_INVALID(ptk_event_elapsed_ms(D, D, nullptr), "ms");
  } else {  // a host-only build refuses every runtime call that would need a device
    CHECK_STATUS(ptk_malloc(nullptr, 16), PTK_ERR_NO_CUDA);
    CHECK_STATUS(ptk_graph_launch(nullptr, nullptr), PTK_ERR_NO_CUDA);
  }
  // Freeing nothing is allowed everywhere, with or without CUDA.
  CHECK_STATUS(ptk_free(nullptr), PTK_OK);
  CHECK_STATUS(ptk_graph_destroy(nullptr), PTK_OK);
  CHECK_STATUS(ptk_stream_destroy(nullptr), PTK_OK);
  CHECK_STATUS(ptk_event_destroy(nullptr), PTK_OK);
}

void random_numbers() {
  // Reproducible: the same key gives the same number through the ABI and the shared header.
  CHECK(ptk_sample_exponential(7, 2, 100, 151935) == ptk::exponential(7, 2, 100, 151935));
  CHECK(ptk_sample_exponential(7, 2, 100, 5) == ptk_sample_exponential(7, 2, 100, 5));
  // Each key component changes the draw.
  const float base = ptk_sample_exponential(7, 2, 100, 5);
  CHECK(ptk_sample_exponential(8, 2, 100, 5) != base);
  CHECK(ptk_sample_exponential(7, 3, 100, 5) != base);
  CHECK(ptk_sample_exponential(7, 2, 101, 5) != base);
  CHECK(ptk_sample_exponential(7, 2, 100, 6) != base);
  // (path, step) packed without collision where a plain sum would collide.
  CHECK(ptk_sample_exponential(7, 1, 2, 5) != ptk_sample_exponential(7, 2, 1, 5));

  // Exp(1): mean 1, variance 1, P(q > 1) = e^-1, over 200000 tokens of one step. Standard errors:
  // mean 0.0022, variance ~0.0067, tail 0.0011; the bounds are about 5 of them.
  const int n = 200000;
  double sum = 0, sum2 = 0;
  int above1 = 0;
  for (int t = 0; t < n; ++t) {
    const double q = ptk::exponential(42, 0, 0, uint32_t(t));
    CHECK(q > 0 && std::isfinite(q));
    sum += q;
    sum2 += q * q;
    above1 += q > 1.0;
  }
  const double mean = sum / n, var = sum2 / n - mean * mean;
  CHECK(std::fabs(mean - 1.0) < 0.011);
  CHECK(std::fabs(var - 1.0) < 0.035);
  CHECK(std::fabs(double(above1) / n - std::exp(-1.0)) < 0.006);

  // uniform_open never reaches 0 or 1.
  for (uint32_t t = 0; t < 1000; ++t) {
    const double u = ptk::uniform_open(0, 0, 0, t);
    CHECK(u > 0.0 && u < 1.0);
  }
}

// argmax_i p_i / q_i with independent q_i ~ Exp(1) picks i with probability p_i / sum p: the draw
// the kernel makes, run here over 40000 steps of one path.
void draw_distribution() {
  const double p[4] = {0.5, 0.25, 0.15, 0.10};
  const int steps = 40000;
  int counts[4] = {0, 0, 0, 0};
  for (int s = 0; s < steps; ++s) {
    int best = 0;
    double best_score = -1;
    for (int i = 0; i < 4; ++i) {
      const double score = p[i] / ptk::exponential(99, 3, uint32_t(s), uint32_t(i));
      if (score > best_score) best_score = score, best = i;
    }
    ++counts[best];
  }
  for (int i = 0; i < 4; ++i) {
    const double f = double(counts[i]) / steps;
    const double se = std::sqrt(p[i] * (1 - p[i]) / steps);  // at most 0.0025
    if (std::fabs(f - p[i]) > 5 * se) {
      std::fprintf(stderr, "token %d drawn with frequency %.4f, probability %.4f\n", i, f, p[i]);
      ++ptk_test_failures();
    }
  }
}

void float_keys_and_helpers() {
  const float ordered[] = {-INFINITY, -3.0e38f, -2.0f, -1e-30f, -0.0f, 0.0f, 1e-30f, 1.0f, 3.0e38f, INFINITY};
  for (size_t i = 0; i + 1 < sizeof ordered / sizeof *ordered; ++i) {
    CHECK(ptk::float_key(ordered[i]) <= ptk::float_key(ordered[i + 1]));
    if (ordered[i] != ordered[i + 1]) CHECK(ptk::float_key(ordered[i]) < ptk::float_key(ordered[i + 1]));
  }
  // silu(x) = x sigmoid(x): silu(0) = 0, silu(1) = 0.7310586, silu(-20) ~ -4.1e-8.
  CHECK(ptk::silu(0.0f) == 0.0f);
  CHECK(std::fabs(ptk::silu(1.0f) - 0.7310586f) < 1e-6f);
  CHECK(std::fabs(ptk::silu(-20.0f) + 4.122307e-8f) < 1e-12f);
  // bf16: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7 and rounds to even (1.0); 1 + 3 * 2^-8 rounds
  // up to 1 + 2^-6; widening is exact.
  CHECK(ptk::float_to_bf16(1.0f + 1.0f / 256) == 0x3F80);
  CHECK(ptk::float_to_bf16(1.0f + 3.0f / 256) == 0x3F82);
  CHECK(ptk::bf16_to_float(0x3F82) == 1.015625f);
  CHECK(ptk::bf16_to_float(0xC000) == -2.0f);
}

}  // namespace

int main() {
  embedding();
  norms();
  elementwise();
  gemv();
  gemv_workspace();
  gemv_fused();
  sample();
  runtime_arguments();
  random_numbers();
  draw_distribution();
  float_keys_and_helpers();
  return ptk_test_result("test_decoder_host");
}
