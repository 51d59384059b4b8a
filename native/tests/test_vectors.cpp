// Every kernel-level reference vector ($PTK_TEST_VECTORS/manifest.json, kernels/*.safetensors):
// first through a host emulation (the shared device math, the planner's spans and work items),
// which checks the conventions anywhere; then through the C ABI on the GPU, with outputs poisoned
// before each run. Prints the worst error per case; exits 77 (skipped) without a CUDA device.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "check.h"
#include "emulate.h"
#include "planner.h"
#include "ptk/ptk.h"
#include "ptk/rope_freq.h"
#include "ptk/softmax.h"
#include "safetensors.h"

#ifdef PTK_WITH_CUDA
#include "gpu_buffers.h"
#endif

namespace {

using Outputs = std::vector<std::pair<std::string, std::vector<double>>>;  // (expected tensor, values)

struct Case {
  std::string name, kind;
  Json scalars, tolerance;
  std::map<std::string, Tensor> t;
  const Tensor& operator[](const std::string& k) const {
    auto it = t.find(k);
    if (it == t.end()) throw std::runtime_error(name + ": no tensor " + k);
    return it->second;
  }
  double scalar(const std::string& k) const { return scalars[k].num(); }
  int q_heads() const { return int((*this)[kind == "rope_append" ? "q_out" : "q"].shape[1]); }
  ptk_kv_layout layout() const {
    const Tensor& k = (*this)[kind == "rope_append" ? "k_cache_in" : "k_cache"];
    return ptk_kv_layout{q_heads(), int(k.shape[2]), int(k.shape[3]), int(k.shape[1]), int(k.shape[0])};
  }
};

// check.h's tolerance rule against an expected tensor, with the case's tolerance.
double tolerance_ratio(const std::vector<double>& got, const Tensor& want_t, const Json& tol, double* max_rel) {
  return ::tolerance_ratio(got, want_t.values(), tol["atol"].num(), tol["rtol"].num(), max_rel);
}

ptk::RopeParams rope_params(const Case& c) {
  return ptk::RopeParams{c.scalar("theta"), c.scalar("yarn_factor"), c.scalar("yarn_original_max"),
                         c.scalar("beta_fast"), c.scalar("beta_slow")};
}

// ---------------------------------------------------------------------------------------------
// Host emulation

Outputs cpu_rope(const Case& c) {
  const ptk_kv_layout l = c.layout();
  const int D = l.head_dim, H = D / 2, T = int(c["qkv"].shape[0]);
  const std::vector<double> qkv = c["qkv"].values(), table = c["thought_table"].values();
  const std::vector<int32_t> pos = c["positions"].ints(), seg = c["segment_ids"].ints(), slot = c["slot_mapping"].ints();
  std::vector<double> q(size_t(T) * l.num_qo_heads * D), k = c["k_cache_in"].values(), v = c["v_cache_in"].values();
  const ptk::RopeParams rp = rope_params(c);
  const double ms = ptk::rope_mscale(rp);
  auto bf = [](float x) { return double(ptk::bf16_to_float(ptk::float_to_bf16(x))); };
  for (int t = 0; t < T; ++t) {
    const double* row = &qkv[size_t(t) * (l.num_qo_heads + 2 * l.num_kv_heads) * D];
    const double* e = &table[size_t(seg[t]) * D];
    for (int h = 0; h < l.num_qo_heads + l.num_kv_heads; ++h) {
      const bool is_k = h >= l.num_qo_heads;
      for (int i = 0; i < H; ++i) {
        const double a = pos[t] * ptk::rope_inv_freq(i, D, rp);
        const float cs = float(std::cos(a) * ms), sn = float(std::sin(a) * ms);
        const float x1 = float(row[h * D + i] + (is_k ? e[i] : 0)), x2 = float(row[h * D + i + H] + (is_k ? e[i + H] : 0));
        double* dst = !is_k ? &q[(size_t(t) * l.num_qo_heads + h) * D]
                            : slot[t] >= 0 ? &k[ptk::cache_offset(slot[t], h - l.num_qo_heads, l.num_kv_heads, D)]
                                           : nullptr;
        if (!dst) continue;
        dst[i] = bf(x1 * cs - x2 * sn);
        dst[i + H] = bf(x2 * cs + x1 * sn);
      }
    }
    if (slot[t] < 0) continue;
    for (int h = 0; h < l.num_kv_heads; ++h)
      for (int d = 0; d < D; ++d)
        v[ptk::cache_offset(slot[t], h, l.num_kv_heads, D) + d] =
            bf(float(row[(l.num_qo_heads + l.num_kv_heads + h) * D + d] + e[d]));
  }
  return {{"q_out", q}, {"k_cache_out", k}, {"v_cache_out", v}};
}

Outputs cpu_merge(const Case& c) {
  const std::vector<double> oa = c["o_a"].values(), ob = c["o_b"].values(), la = c["lse_a"].values(),
                            lb = c["lse_b"].values();
  const size_t D = size_t(c["o_a"].shape[2]);
  std::vector<double> o(oa.size()), lse(la.size());
  for (size_t r = 0; r < la.size(); ++r) {
    const ptk::MergeWeights w = ptk::merge_weights(float(la[r]), float(lb[r]));
    lse[r] = w.lse;
    for (size_t i = 0; i < D; ++i)
      o[r * D + i] = (w.w_a > 0 ? w.w_a * oa[r * D + i] : 0) + (w.w_b > 0 ? w.w_b * ob[r * D + i] : 0);
  }
  return {{"o", o}, {"lse", lse}};
}

std::vector<int32_t> csr_lens(const std::vector<int32_t>& indptr, const std::vector<int32_t>& last, int ps) {
  std::vector<int32_t> lens;
  for (size_t b = 0; b + 1 < indptr.size(); ++b) lens.push_back(ptk::csr_length(indptr[b + 1] - indptr[b], last[b], ps));
  return lens;
}

// Plans spans like the C ABI does and runs the work list on the host.
void emulate(const Case& c, const std::vector<ptk::Span>& spans, const std::vector<int32_t>& pages, int nq, bool wide,
             std::vector<double>* o, std::vector<double>* lse) {
  const ptk_kv_layout l = c.layout();
  const std::vector<double> q = c["q"].values(), k = c["k_cache"].values(), v = c["v_cache"].values();
  const Dense dense{l.num_qo_heads / l.num_kv_heads, l.num_kv_heads, l.head_dim, l.page_size, q.data(), k.data(), v.data()};
  const ptk::VariantShape vs = ptk::variant_shape(wide ? ptk::Variant::kWide : ptk::Variant::kDecode);
  // As the C ABI shapes the two variants (the decode variant's chunks: balanced whole pages), but
  // with a small target, which splits these short sequences too, so that merging is exercised.
  const int rows = vs.rows;
  const ptk::PlanShape shape{dense.group, l.num_kv_heads, rows, vs.tile_tokens, 64, 1024,
                             wide ? vs.tile_tokens : vs.min_chunk, wide ? 0 : l.page_size};
  ptk::WorkPlan plan;
  std::string err;
  CHECK(ptk::plan_work(spans, nq, shape, &plan, &err));
  emulate_plan(dense, pages, plan, nq, rows, c.scalar("sm_scale"), o, lse);
}

// The page tables of a case, per kind, in the form the C ABI takes them.
struct Tables {
  std::vector<int32_t> indptr, indices, last, qo_indptr, prefix, group_indptr, group_segments;
  int prefix_len = 0;
};

Tables tables(const Case& c) {
  Tables t;
  const bool segments = c.kind == "summary" || c.kind == "ragged";
  t.indptr = c[segments ? "seg_indptr" : "indptr"].ints();
  t.indices = c["indices"].ints();
  t.last = c["last_page_len"].ints();
  if (c.kind == "ragged") {
    t.qo_indptr = c["qo_indptr"].ints();
    t.group_indptr = c["group_indptr"].ints();
    t.group_segments = c["group_segments"].ints();
  } else if (c.kind == "prefill") {
    t.qo_indptr = c["qo_indptr"].ints();
    t.prefix = c["prefix_indices"].ints();
    t.prefix_len = int(c.scalar("prefix_len"));
  } else if (c.kind == "phase1") {
    const int P = int(t.last.size());
    for (int b = 0; b <= P; ++b) t.qo_indptr.push_back(b);
    t.prefix = c["prompt_indices"].ints();
    t.prefix_len = int(c.scalar("prompt_len"));
  }
  return t;
}

// Decode table of P sequences that all read the prompt.
void prompt_as_decode(const Tables& t, int P, int ps, std::vector<int32_t>* indptr, std::vector<int32_t>* indices,
                      std::vector<int32_t>* last) {
  const int n = int(t.prefix.size());
  for (int b = 0; b <= P; ++b) indptr->push_back(b * n);
  for (int b = 0; b < P; ++b) {
    indices->insert(indices->end(), t.prefix.begin(), t.prefix.end());
    last->push_back(n == 0 ? 0 : t.prefix_len - (n - 1) * ps);
  }
}

// The case as the plan calls see it (the per-kind ones are cases of the ragged batch).
ptk::RaggedBatch batch(const Case& c, const Tables& t, const std::vector<int32_t>& lens) {
  const int n = int(lens.size()), nq = int(c["q"].shape[0]);
  if (c.kind == "decode") return ptk::decode_batch(n, t.indptr.data(), t.indices.data(), lens);
  if (c.kind == "summary") return ptk::summary_batch(n, t.indptr.data(), t.indices.data(), lens, nq);
  if (c.kind == "ragged") return ptk::RaggedBatch{t.qo_indptr, t.group_indptr, t.group_segments, t.indptr, lens, t.indices};
  return ptk::prefill_batch(n, t.qo_indptr.data(), t.prefix.data(), t.prefix_len, int(c.scalar("page_size")),
                            t.indptr.data(), t.indices.data(), lens);
}

void emulate(const Case& c, const ptk::RaggedBatch& b, std::vector<double>* o, std::vector<double>* lse) {
  emulate(c, ptk::ragged_spans(b), b.pages, b.num_queries(), ptk::ragged_variant(b) == ptk::Variant::kWide, o, lse);
}

Outputs cpu_attention(const Case& c) {
  const ptk_kv_layout l = c.layout();
  const Tables t = tables(c);
  const std::vector<int32_t> lens = csr_lens(t.indptr, t.last, l.page_size);
  std::vector<double> o, lse;
  emulate(c, batch(c, t, lens), &o, &lse);
  Outputs out = {{"o", o}, {"lse", lse}};
  if (c.kind == "phase1") {
    const int B = int(lens.size());
    std::vector<int32_t> pi, px, pl;
    prompt_as_decode(t, B, l.page_size, &pi, &px, &pl);
    std::vector<double> op, lp, oo, lo;
    emulate(c, ptk::decode_batch(B, pi.data(), px.data(), csr_lens(pi, pl, l.page_size)), &op, &lp);
    emulate(c, ptk::decode_batch(B, t.indptr.data(), t.indices.data(), lens), &oo, &lo);
    out.insert(out.end(), {{"o_prompt", op}, {"lse_prompt", lp}, {"o_own", oo}, {"lse_own", lo}});
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// GPU, through the C ABI

#ifdef PTK_WITH_CUDA
void* upload(Gpu& g, const Tensor& t) { return g.upload(t.bytes.data(), t.bytes.size()); }

Outputs gpu_rope(const Case& c) {
  const ptk_kv_layout l = c.layout();
  const int T = int(c["qkv"].shape[0]);
  const ptk_rope_config rc{c.scalar("theta"), c.scalar("yarn_factor"), int(c.scalar("yarn_original_max")),
                           c.scalar("beta_fast"), c.scalar("beta_slow")};
  ptk_rope_plan* plan = nullptr;
  ABI(ptk_rope_plan_create(&l, &rc, int(c["thought_table"].shape[0]), T, &plan));
  Gpu g;
  void* q_out = g.alloc(size_t(T) * l.num_qo_heads * l.head_dim * 2);
  void* k = upload(g, c["k_cache_in"]);
  void* v = upload(g, c["v_cache_in"]);
  // A case without thought embeddings runs with a null table (its table is all zeros).
  const bool te = !c.scalars.has("thought_embeddings") || c.scalars["thought_embeddings"].boolean;
  const void* table = te ? upload(g, c["thought_table"]) : nullptr;
  ABI(ptk_rope_plan_update(plan, T, c["positions"].ints().data(), c["segment_ids"].ints().data(),
                           c["slot_mapping"].ints().data(), nullptr));
  ABI(ptk_rope_append(plan, upload(g, c["qkv"]), table, q_out, k, v, nullptr));
  sync();
  ptk_rope_plan_destroy(plan);
  CHECK(g.guards_intact());
  return {{"q_out", Gpu::download(q_out, c["q_out"].numel(), true)},
          {"k_cache_out", Gpu::download(k, c["k_cache_out"].numel(), true)},
          {"v_cache_out", Gpu::download(v, c["v_cache_out"].numel(), true)}};
}

Outputs gpu_merge(const Case& c) {
  Gpu g;
  const size_t rows = c["lse_a"].numel();
  const int D = int(c["o_a"].shape[2]);
  float* o = static_cast<float*>(g.alloc(rows * D * 4));
  float* lse = static_cast<float*>(g.alloc(rows * 4));
  ABI(ptk_merge_states(static_cast<float*>(upload(g, c["o_a"])), static_cast<float*>(upload(g, c["lse_a"])),
                       static_cast<float*>(upload(g, c["o_b"])), static_cast<float*>(upload(g, c["lse_b"])), o, lse,
                       int(rows), D, nullptr));
  sync();
  CHECK(g.guards_intact());
  return {{"o", Gpu::download(o, rows * D, false)}, {"lse", Gpu::download(lse, rows, false)}};
}

// Runs a planned attention in both output dtypes; `tag` suffixes the labels of the bf16 run.
void gpu_run(const Case& c, Gpu& g, ptk_attention_plan* plan, void* q, void* k, void* v, int nq, const char* o_name,
             const char* lse_name, Outputs* out, float** o_f32 = nullptr, float** lse_f32 = nullptr) {
  const ptk_kv_layout l = c.layout();
  const size_t rows = size_t(nq) * l.num_qo_heads;
  for (ptk_dtype dt : {PTK_DTYPE_F32, PTK_DTYPE_BF16}) {
    void* o = g.alloc(rows * l.head_dim * (dt == PTK_DTYPE_F32 ? 4 : 2));
    float* lse = static_cast<float*>(g.alloc(rows * 4));
    ABI(ptk_attention_run(plan, q, k, v, float(c.scalar("sm_scale")), o, dt, lse, nullptr));
    sync();
    out->push_back({o_name, Gpu::download(o, rows * l.head_dim, dt == PTK_DTYPE_BF16)});
    out->push_back({lse_name, Gpu::download(lse, rows, false)});
    if (dt == PTK_DTYPE_F32 && o_f32) *o_f32 = static_cast<float*>(o), *lse_f32 = lse;
  }
}

Tensor f32_tensor(const std::vector<double>& v) {
  Tensor t{"F32", {long(v.size())}, std::vector<char>(v.size() * 4)};
  for (size_t i = 0; i < v.size(); ++i) {
    const float f = float(v[i]);
    std::memcpy(t.bytes.data() + 4 * i, &f, 4);
  }
  return t;
}

// A run captured in a CUDA graph follows later plan calls: capture, re-plan with every sequence
// shortened, replay, and compare with the host emulation of the shortened tables.
void graph_follows_plan(const Case& c, Gpu& g, ptk_attention_plan* plan, const Tables& t, void* q, void* k, void* v) {
  const ptk_kv_layout l = c.layout();
  const int B = int(t.last.size()), rows = B * l.num_qo_heads;
  float* o = static_cast<float*>(g.alloc(size_t(rows) * l.head_dim * 4));
  float* lse = static_cast<float*>(g.alloc(size_t(rows) * 4));
  cudaStream_t stream;
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
  cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal);
  const ptk_status captured = ptk_attention_run(plan, q, k, v, float(c.scalar("sm_scale")), o, PTK_DTYPE_F32, lse, stream);
  cudaStreamEndCapture(stream, &graph);
  CHECK(captured == PTK_OK);
  CHECK(cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess);
  std::vector<int32_t> shorter = t.last;
  for (int32_t& n : shorter) n = n > 1 ? n - 1 : n;
  ABI(ptk_attention_plan_decode(plan, B, t.indptr.data(), t.indices.data(), shorter.data(), stream));
  CHECK(cudaGraphLaunch(exec, stream) == cudaSuccess);
  CHECK(cudaStreamSynchronize(stream) == cudaSuccess);
  std::vector<double> want_o, want_lse;
  emulate(c, ptk::decode_batch(B, t.indptr.data(), t.indices.data(), csr_lens(t.indptr, shorter, l.page_size)), &want_o,
          &want_lse);
  double rel_o = 0, rel_lse = 0;
  const double r = std::max(tolerance_ratio(Gpu::download(o, size_t(rows) * l.head_dim, false), f32_tensor(want_o), c.tolerance, &rel_o),
                            tolerance_ratio(Gpu::download(lse, rows, false), f32_tensor(want_lse), c.tolerance, &rel_lse));
  std::printf("gpu   %-28s graph replay after re-plan: worst/tolerance %.3f  %s\n", c.name.c_str(), r, r <= 1 ? "ok" : "FAIL");
  CHECK(r <= 1.0);
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(stream);
}

// A re-plan with sequence 0 emptied (no pages): its rows get o = 0 and lse = -inf, written by the
// run although no keys are read for them; the other rows as the host emulation of the new tables.
void empty_sequence(const Case& c, Gpu& g, ptk_attention_plan* plan, const Tables& t, void* q, void* k, void* v) {
  const ptk_kv_layout l = c.layout();
  const int B = int(t.last.size()), rows = B * l.num_qo_heads, first = t.indptr[1];
  std::vector<int32_t> indptr(t.indptr), indices(t.indices.begin() + first, t.indices.end()), last(t.last);
  for (int b = 1; b <= B; ++b) indptr[b] -= first;
  last[0] = 0;
  ABI(ptk_attention_plan_decode(plan, B, indptr.data(), indices.data(), last.data(), nullptr));
  float* o = static_cast<float*>(g.alloc(size_t(rows) * l.head_dim * 4));
  float* lse = static_cast<float*>(g.alloc(size_t(rows) * 4));
  ABI(ptk_attention_run(plan, q, k, v, float(c.scalar("sm_scale")), o, PTK_DTYPE_F32, lse, nullptr));
  sync();
  const std::vector<double> got_o = Gpu::download(o, size_t(rows) * l.head_dim, false), got_lse = Gpu::download(lse, rows, false);
  bool empty_ok = true;
  for (int r = 0; r < l.num_qo_heads; ++r) {
    empty_ok = empty_ok && got_lse[r] == -INFINITY;
    for (int d = 0; d < l.head_dim; ++d) empty_ok = empty_ok && got_o[size_t(r) * l.head_dim + d] == 0.0;
  }
  std::vector<double> want_o, want_lse;
  emulate(c, ptk::decode_batch(B, indptr.data(), indices.data(), csr_lens(indptr, last, l.page_size)), &want_o, &want_lse);
  double rel_o = 0, rel_lse = 0;
  const double r = std::max(tolerance_ratio(got_o, f32_tensor(want_o), c.tolerance, &rel_o),
                            tolerance_ratio(got_lse, f32_tensor(want_lse), c.tolerance, &rel_lse));
  std::printf("gpu   %-28s sequence 0 emptied: its rows %s, worst/tolerance %.3f  %s\n", c.name.c_str(),
              empty_ok ? "o = 0, lse = -inf" : "WRONG", r, empty_ok && r <= 1 ? "ok" : "FAIL");
  CHECK(empty_ok);
  CHECK(r <= 1.0);
}

Outputs gpu_attention(const Case& c) {
  const ptk_kv_layout l = c.layout();
  const Tables t = tables(c);
  const int nq = int(c["q"].shape[0]), B = int(t.last.size());
  const int groups = std::max(0, int(t.qo_indptr.size()) - 1);
  const ptk_plan_limits lim{nq, std::max(B + 1, groups), int(t.indices.size() + t.prefix.size()) * (c.kind == "phase1" ? B + 1 : 1),
                            0, 0};
  ptk_attention_plan* plan = nullptr;
  ABI(ptk_attention_plan_create(&l, &lim, &plan));
  Gpu g;
  void* q = upload(g, c["q"]);
  void* k = upload(g, c["k_cache"]);
  void* v = upload(g, c["v_cache"]);
  Outputs out;
  if (c.kind == "decode") {
    ABI(ptk_attention_plan_decode(plan, B, t.indptr.data(), t.indices.data(), t.last.data(), nullptr));
    gpu_run(c, g, plan, q, k, v, nq, "o", "lse", &out);
    graph_follows_plan(c, g, plan, t, q, k, v);
    empty_sequence(c, g, plan, t, q, k, v);
  } else if (c.kind == "summary") {
    ABI(ptk_attention_plan_summary(plan, B, t.indptr.data(), t.indices.data(), t.last.data(), nq, nullptr));
    gpu_run(c, g, plan, q, k, v, nq, "o", "lse", &out);
  } else if (c.kind == "ragged") {
    ABI(ptk_attention_plan_ragged(plan, groups, t.qo_indptr.data(), t.group_indptr.data(), t.group_segments.data(), B,
                                  t.indptr.data(), t.indices.data(), t.last.data(), nullptr));
    gpu_run(c, g, plan, q, k, v, nq, "o", "lse", &out);
  } else {
    ABI(ptk_attention_plan_prefill(plan, B, t.qo_indptr.data(), t.prefix.data(), t.prefix_len, t.indptr.data(),
                                   t.indices.data(), t.last.data(), nullptr));
    gpu_run(c, g, plan, q, k, v, nq, "o", "lse", &out);
    if (c.kind == "phase1") {
      // Piece by piece: prompt and own parts as decode, then ptk_merge_states.
      std::vector<int32_t> pi, px, pl;
      prompt_as_decode(t, B, l.page_size, &pi, &px, &pl);
      float *op, *lp, *oo, *lo;
      ABI(ptk_attention_plan_decode(plan, B, pi.data(), px.data(), pl.data(), nullptr));
      gpu_run(c, g, plan, q, k, v, nq, "o_prompt", "lse_prompt", &out, &op, &lp);
      ABI(ptk_attention_plan_decode(plan, B, t.indptr.data(), t.indices.data(), t.last.data(), nullptr));
      gpu_run(c, g, plan, q, k, v, nq, "o_own", "lse_own", &out, &oo, &lo);
      const int rows = nq * l.num_qo_heads;
      float* o = static_cast<float*>(g.alloc(size_t(rows) * l.head_dim * 4));
      float* lse = static_cast<float*>(g.alloc(size_t(rows) * 4));
      ABI(ptk_merge_states(op, lp, oo, lo, o, lse, rows, l.head_dim, nullptr));
      sync();
      out.push_back({"o", Gpu::download(o, size_t(rows) * l.head_dim, false)});
      out.push_back({"lse", Gpu::download(lse, rows, false)});
    }
  }
  CHECK(g.guards_intact());
  ptk_attention_plan_destroy(plan);
  return out;
}
#endif

bool check_case(const Case& c, const Outputs& out, const char* where) {
  bool ok = true;
  double worst = 0, max_rel = 0;
  for (const auto& [name, got] : out) {
    double rel = 0;
    const double r = tolerance_ratio(got, c[name], c.tolerance, &rel);
    worst = std::max(worst, r);
    max_rel = std::max(max_rel, rel);
    if (!(r <= 1.0)) {
      std::fprintf(stderr, "  %s %s: %s off by %.3g x tolerance\n", where, c.name.c_str(), name.c_str(), r);
      ok = false;
    }
  }
  std::printf("%-5s %-28s %-12s max rel err %.3e  worst/tolerance %.3f  %s\n", where, c.name.c_str(), c.kind.c_str(),
              max_rel, worst, ok ? "ok" : "FAIL");
  return ok;
}

}  // namespace

// `test_vectors host` checks the host emulation, `test_vectors gpu` the kernels (exit 77 without a
// device); with no argument, both.
int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "all";
  const bool host = mode != "gpu", device = mode != "host";
  const char* dir = std::getenv("PTK_TEST_VECTORS");
  const std::string root = dir ? dir : "test-vectors";
  std::ifstream mf(root + "/manifest.json");
  if (!mf) {
    std::fprintf(stderr, "no %s/manifest.json: the committed vectors are missing\n", root.c_str());
    return 1;
  }
  std::stringstream ss;
  ss << mf.rdbuf();
  std::vector<Case> cases;
  try {
    const Json manifest = Json::parse(ss.str());
    for (const Json& j : manifest["cases"].array) {
      if (j["file"].string.rfind("kernels/", 0) != 0) continue;
      Case c{j["name"].string, j["kind"].string, j["scalars"], j["tolerance"], read_safetensors(root + "/" + j["file"].string)};
      cases.push_back(std::move(c));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "reading the vectors: %s\n", e.what());
    return 1;
  }
  CHECK(!cases.empty());

  const std::map<std::string, std::function<Outputs(const Case&)>> cpu = {
      {"rope_append", cpu_rope}, {"merge", cpu_merge},     {"decode", cpu_attention},
      {"prefill", cpu_attention}, {"summary", cpu_attention}, {"phase1", cpu_attention},
      {"ragged", cpu_attention}};
  for (const Case& c : cases) {
    if (!host) break;
    if (!cpu.count(c.kind)) {
      std::printf("%-5s %-28s %-12s (kind not handled)\n", "host", c.name.c_str(), c.kind.c_str());
      continue;
    }
    try {
      CHECK(check_case(c, cpu.at(c.kind)(c), "host"));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "host %s: %s\n", c.name.c_str(), e.what());
      CHECK(false);
    }
  }

  if (!device) return ptk_test_result("test_vectors host");
  if (!ptk_test_has_device()) {
    if (ptk_test_failures()) return ptk_test_result("test_vectors");
    std::printf("no CUDA device: the %zu kernel vectors were NOT run on a GPU (skipped)\n", cases.size());
    return 77;
  }
#ifdef PTK_WITH_CUDA
  const std::map<std::string, std::function<Outputs(const Case&)>> gpu = {
      {"rope_append", gpu_rope}, {"merge", gpu_merge},     {"decode", gpu_attention},
      {"prefill", gpu_attention}, {"summary", gpu_attention}, {"phase1", gpu_attention},
      {"ragged", gpu_attention}};
  for (const Case& c : cases) {
    if (!gpu.count(c.kind)) continue;
    try {
      CHECK(check_case(c, gpu.at(c.kind)(c), "gpu"));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "gpu %s: %s\n", c.name.c_str(), e.what());
      CHECK(false);
    }
  }
#endif
  return ptk_test_result("test_vectors");
}
