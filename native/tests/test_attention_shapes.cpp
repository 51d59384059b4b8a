// The attention kernels over layouts and batches the reference vectors do not reach: head dims 64
// and 128, query-head groups 1 to 8; on the decode variant, phase-1 steps of up to 16 paths whose
// shared prompt runs as cascade items (several queries a work item, on the tensor cores) beside
// one-query items, in ragged batches of several requests with a summary row and a plain decode
// row among them; on the wide variant, causal prefills and prefill chunks over shared prefixes.
// Random bf16 inputs; the expected outputs are direct attention over each query's visible tokens
// in double precision (emulate.h attend_slots: no planner, no work items). With o in f32 the
// tolerance is tight (kTight): the kernels keep every probability to 16 bits or more, and one
// that rounded them to bf16 (2^-9) fails it. With o in bf16, the output's rounding is allowed.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "emulate.h"
#include "ptk/ptk.h"

#ifdef PTK_WITH_CUDA
#include "gpu_buffers.h"
#endif

namespace {
#ifdef PTK_WITH_CUDA

struct Tolerance {
  double atol, rtol;
};
constexpr Tolerance kTight{5e-5, 5e-5};   // o in f32 (and lse, either way)
constexpr Tolerance kBf16{2e-3, 8e-3};    // o in bf16: 2^-8 relative plus the f32 error

// A ragged batch in the C ABI's form: segments of seg_lens tokens on shuffled pages of the pool;
// group g sees segments groups[g], its own last and causally: its queries[g] queries (1 where
// queries is empty) are the own segment's last tokens.
struct Batch {
  std::vector<int> seg_lens;
  std::vector<std::vector<int32_t>> groups;
  std::vector<int> queries;
  int queries_of(int g) const { return queries.empty() ? 1 : queries[g]; }
};

struct Layout {
  int q_heads, kv_heads, head_dim, page_size;
};

std::vector<uint16_t> random_bf16(std::mt19937& rng, size_t n, double sigma) {
  std::normal_distribution<double> d(0, sigma);
  std::vector<uint16_t> v(n);
  for (uint16_t& x : v) x = ptk::float_to_bf16(float(d(rng)));
  return v;
}

std::vector<double> widen(const std::vector<uint16_t>& v) {
  std::vector<double> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = ptk::bf16_to_float(v[i]);
  return out;
}

// check.h's tolerance rule.
double worst_ratio(const std::vector<double>& got, const std::vector<double>& want, Tolerance tol) {
  double max_rel = 0;
  return tolerance_ratio(got, want, tol.atol, tol.rtol, &max_rel);
}

// Plans and runs `b` on `l` (num_multiprocessors as the plan limit: 0 asks the device, a small
// count gives few long chunks), in both output dtypes, against direct attention.
void check_batch(const char* what, const Layout& l, const Batch& b, int multiprocessors, uint32_t seed) {
  std::mt19937 rng(seed);
  const int S = int(b.seg_lens.size()), G = int(b.groups.size()), hq = l.q_heads, D = l.head_dim;
  std::vector<int32_t> seg_indptr{0}, indices, last;
  int pages = 0;
  for (int n : b.seg_lens) pages += (n + l.page_size - 1) / l.page_size;
  std::vector<int32_t> pool(pages + 3);
  for (int i = 0; i < int(pool.size()); ++i) pool[i] = i;
  std::shuffle(pool.begin(), pool.end(), rng);
  for (int n : b.seg_lens) {
    for (int i = 0; i < (n + l.page_size - 1) / l.page_size; ++i) indices.push_back(pool[indices.size()]);
    seg_indptr.push_back(int32_t(indices.size()));
    last.push_back(n == 0 ? 0 : (n - 1) % l.page_size + 1);
  }
  std::vector<int32_t> qo_indptr{0}, group_indptr{0}, group_segments;
  bool one_each = true;
  for (int g = 0; g < G; ++g) {
    group_segments.insert(group_segments.end(), b.groups[g].begin(), b.groups[g].end());
    group_indptr.push_back(int32_t(group_segments.size()));
    qo_indptr.push_back(qo_indptr.back() + b.queries_of(g));
    one_each = one_each && b.queries_of(g) == 1;
  }
  const int Q = qo_indptr.back();
  const ptk_kv_layout layout{hq, l.kv_heads, D, l.page_size, int(pool.size())};
  const size_t cache = size_t(layout.num_pages) * l.page_size * l.kv_heads * D;
  // Queries of sigma 2 give peaked softmaxes, where a coarse probability shows most.
  const std::vector<uint16_t> q = random_bf16(rng, size_t(Q) * hq * D, 2.0), k = random_bf16(rng, cache, 1.0),
                              v = random_bf16(rng, cache, 1.0);

  // Direct attention per query row over what its group sees.
  const std::vector<double> qd = widen(q), kd = widen(k), vd = widen(v);
  const Dense dense{hq / l.kv_heads, l.kv_heads, D, l.page_size, qd.data(), kd.data(), vd.data()};
  const double scale = 1.0 / std::sqrt(double(D));
  std::vector<double> want_o(size_t(Q) * hq * D), want_lse(size_t(Q) * hq);
  for (int g = 0; g < G; ++g)
    for (int i = 0; i < b.queries_of(g); ++i) {
      const int query = qo_indptr[g] + i, own = b.groups[g].back();
      std::vector<int64_t> slots;
      for (int32_t s : b.groups[g]) {
        const int seen = s == own ? b.seg_lens[s] - b.queries_of(g) + i + 1 : b.seg_lens[s];
        for (int t = 0; t < seen; ++t) slots.push_back(ptk::span_slot(indices.data() + seg_indptr[s], l.page_size, t));
      }
      for (int h = 0; h < hq; ++h)
        attend_slots(dense, query, h, slots, scale, &want_o[(size_t(query) * hq + h) * D], &want_lse[size_t(query) * hq + h]);
    }

  const ptk_plan_limits limits{Q, std::max(G, S), int(indices.size()), 0, multiprocessors};
  ptk_attention_plan* plan = nullptr;
  ABI(ptk_attention_plan_create(&layout, &limits, &plan));
  Gpu gpu;
  void *dq = gpu.upload(q), *dk = gpu.upload(k), *dv = gpu.upload(v);
  ABI(ptk_attention_plan_ragged(plan, G, qo_indptr.data(), group_indptr.data(), group_segments.data(), S,
                                seg_indptr.data(), indices.data(), last.data(), nullptr));
  ptk_attention_plan_info info;
  ABI(ptk_attention_plan_info_get(plan, &info));
  CHECK(info.variant == (one_each ? PTK_ATTENTION_DECODE : PTK_ATTENTION_WIDE));
  for (ptk_dtype dt : {PTK_DTYPE_F32, PTK_DTYPE_BF16}) {
    const bool f32 = dt == PTK_DTYPE_F32;
    void* o = gpu.alloc(want_o.size() * (f32 ? 4 : 2));
    float* lse = static_cast<float*>(gpu.alloc(want_lse.size() * 4));
    ABI(ptk_attention_run(plan, dq, dk, dv, 0.f, o, dt, lse, nullptr));
    sync();
    const double r_o = worst_ratio(Gpu::download(o, want_o.size(), !f32), want_o, f32 ? kTight : kBf16);
    const double r_lse = worst_ratio(Gpu::download(lse, want_lse.size(), false), want_lse, kTight);
    const bool ok = r_o <= 1 && r_lse <= 1;
    std::printf("%-52s hq %2d kv %d D %3d ps %2d sms %3d o %s: %3d items, worst/tolerance o %.3f lse %.3f  %s\n", what,
                hq, l.kv_heads, D, l.page_size, multiprocessors, f32 ? "f32 " : "bf16", info.num_work_items, r_o, r_lse,
                ok ? "ok" : "FAIL");
    CHECK(ok);
  }
  CHECK(gpu.guards_intact());
  ptk_attention_plan_destroy(plan);
}

// P paths over one prompt (segment 0), path i's own segment i + 1.
Batch paths(int prompt, const std::vector<int>& own) {
  Batch b{{prompt}, {}, {}};
  for (int n : own) {
    b.groups.push_back({0, int32_t(b.seg_lens.size())});
    b.seg_lens.push_back(n);
  }
  return b;
}

// Continuous batching on the decode variant: request A's 3 paths over its prompt, a plain decode
// sequence, request B's P paths over its prompt, and A's summary row (over A's prompt, its paths
// and its own segment).
Batch mixed(int b_paths) {
  Batch b{{37, 3, 18, 9, 50, 29}, {{0, 1}, {0, 2}, {0, 3}, {4}}, {}};
  for (int i = 0; i < b_paths; ++i) {
    b.groups.push_back({5, int32_t(b.seg_lens.size())});
    b.seg_lens.push_back(1 + (7 * i + 3) % 41);
  }
  b.groups.push_back({0, 1, 2, 3, int32_t(b.seg_lens.size())});
  b.seg_lens.push_back(2);
  return b;
}

// The wide variant: requests over a shared prefix (segment 0), request r's queries the last
// qo[r] of its own tokens; prefix 0 is a plain causal prefill.
Batch prefill(int prefix, const std::vector<int>& own, const std::vector<int>& qo) {
  Batch b{{prefix}, {}, qo};
  for (int n : own) {
    b.groups.push_back(prefix > 0 ? std::vector<int32_t>{0, int32_t(b.seg_lens.size())}
                                  : std::vector<int32_t>{int32_t(b.seg_lens.size())});
    b.seg_lens.push_back(n);
  }
  return b;
}

// Continuous batching on the wide variant: request C's prompt chunk (its last 5 of 21 tokens),
// A's 3 paths over A's prompt, A's summary (2 queries) over A's prompt and paths.
Batch ragged_wide() {
  return Batch{{21, 37, 3, 18, 9, 6}, {{0}, {1, 2}, {1, 3}, {1, 4}, {1, 2, 3, 4, 5}}, {5, 1, 1, 1, 2}};
}
#endif

}  // namespace

int main() {
  if (!ptk_test_has_device()) {
    std::printf("no CUDA device: the attention shapes were NOT run on a GPU (skipped)\n");
    return 77;
  }
#ifdef PTK_WITH_CUDA
  try {
    const Layout model{12, 2, 128, 16}, tiny{6, 1, 128, 16}, wide_group{8, 1, 64, 16}, group8{16, 2, 128, 8},
        single{4, 4, 64, 16}, pairs{4, 2, 64, 4};
    std::vector<int> own16;
    for (int i = 0; i < 16; ++i) own16.push_back(1 + (11 * i + 5) % 47);
    uint32_t seed = 1;
    for (int sms : {0, 3}) {
      check_batch("16 paths, prompt 29 (cascade items 10 + 6)", model, paths(29, own16), sms, seed++);
      check_batch("8 paths, prompt 61", model, paths(61, {1, 7, 16, 33, 18, 40, 9, 27}), sms, seed++);
      check_batch("2 paths, prompt 333", tiny, paths(333, {5, 120}), sms, seed++);
      check_batch("9 paths, prompt 45 (8 + 1: a one-query item)", wide_group, paths(45, {4, 9, 1, 30, 2, 7, 12, 5, 3}),
                  sms, seed++);
      check_batch("16 paths, prompt 100, group 8", group8, paths(100, own16), sms, seed++);
      check_batch("16 paths, prompt 17, group 1 (one item)", single, paths(17, own16), sms, seed++);
      check_batch("11 paths, prompt 70, group 2, pages of 4", pairs, paths(70, std::vector<int>(11, 6)), sms, seed++);
      check_batch("3 paths, prompt 1", model, paths(1, {2, 1, 9}), sms, seed++);
      check_batch("ragged: 2 requests' paths, a decode row, a summary", model, mixed(5), sms, seed++);
      check_batch("ragged, group 8", group8, mixed(9), sms, seed++);
      check_batch("wide: causal prefill of 77 tokens", model, prefill(0, {77}, {77}), sms, seed++);
      check_batch("wide: causal prefill of 45, group 8, D 64", wide_group, prefill(0, {45}, {45}), sms, seed++);
      check_batch("wide: 3 requests over a prefix of 37 (qo 5, 17, 2)", model, prefill(37, {5, 17, 9}, {5, 17, 2}), sms,
                  seed++);
      check_batch("wide: 2 requests over a prefix of 19, group 1", single, prefill(19, {40, 3}, {33, 3}), sms, seed++);
      check_batch("wide: a prompt chunk, 3 paths and a summary", model, ragged_wide(), sms, seed++);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "test_attention_shapes: %s\n", e.what());
    CHECK(false);
  }
#endif
  return ptk_test_result("test_attention_shapes");
}
