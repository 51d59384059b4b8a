// The decoder's device operations on a GPU against double-precision host formulas on the same
// bf16 inputs: embedding, add + RMSNorm, RMSNorm of selected rows, SiLU gate, bias to bf16,
// ptk_gemv at every row count 1..16 with and without bias, f32 and bf16 out, and its batch
// invariance, ptk_gemv_silu_mul against the unfused pair; the norm handoff (ptk_add_sumsq,
// ptk_gemv_add, ptk_gemv_rmsnorm, ptk_gemv_rmsnorm_silu_mul) against the unfused operations; the
// qkv gemv that appends (ptk_gemv_rmsnorm_rope_append) against ptk_gemv_rmsnorm + ptk_rope_append;
// then ptk_gemv captured in a CUDA graph and replayed on new input, and the timing events. Without a device it
// skips (77). Tolerances: f32 results 1e-4 relative to the row's scale; bf16 results one bf16
// rounding (2^-8 relative) plus the f32 part.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "ptk/common.h"
#include "ptk/decoder.h"
#include "ptk/runtime.h"

namespace {

std::mt19937 rng(2024);

std::vector<uint16_t> random_bf16(size_t n, float scale) {
  std::normal_distribution<float> d(0.f, scale);
  std::vector<uint16_t> v(n);
  for (auto& x : v) x = ptk::float_to_bf16(d(rng));
  return v;
}

std::vector<float> random_f32(size_t n, float scale) {
  std::normal_distribution<float> d(0.f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

double bf(uint16_t b) { return double(ptk::bf16_to_float(b)); }

// A device copy of a host vector (or `n` uninitialized elements), freed at scope exit.
template <typename T>
struct Device {
  void* ptr = nullptr;
  size_t n = 0;
  explicit Device(size_t count) : n(count) { CHECK_STATUS(ptk_malloc(&ptr, n * sizeof(T)), PTK_OK); }
  explicit Device(const std::vector<T>& host) : Device(host.size()) { put(host); }
  ~Device() { ptk_free(ptr); }
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  void put(const std::vector<T>& host) {  // complete on return, for work on any stream
    CHECK_STATUS(ptk_copy_to_device(ptr, host.data(), n * sizeof(T), nullptr), PTK_OK);
    CHECK_STATUS(ptk_stream_synchronize(nullptr), PTK_OK);
  }
  std::vector<T> get() const {
    std::vector<T> host(n);
    CHECK_STATUS(ptk_copy_to_host(host.data(), ptr, n * sizeof(T), nullptr), PTK_OK);
    CHECK_STATUS(ptk_stream_synchronize(nullptr), PTK_OK);
    return host;
  }
  T* p() const { return static_cast<T*>(ptr); }
};

int mismatches = 0;

// The split workspace of a gemv of n weight rows and k columns: exactly ptk_gemv_workspace_bytes
// (so that the sanitizer sees a kernel that writes past it), zeroed once and kept for the test's
// life; null when the gemv does not split. Every call of a shape reuses it, so a counter that a
// launch did not put back to zero derails the next call.
void* gemv_workspace(int n, int k) {
  static struct Workspaces : std::map<std::pair<int, int>, void*> {
    ~Workspaces() {
      for (auto& [shape, ws] : *this) ptk_free(ws);
    }
  } workspaces;
  const size_t bytes = ptk_gemv_workspace_bytes(n, k);
  if (bytes == 0) return nullptr;
  void*& ws = workspaces[{n, k}];
  if (ws == nullptr) {
    CHECK_STATUS(ptk_malloc(&ws, bytes), PTK_OK);
    CHECK_STATUS(ptk_memset_zero(ws, bytes, nullptr), PTK_OK);
  }
  return ws;
}

// |got - want| <= tol; reports the first few mismatches of a test by name and index.
void expect_near(const char* what, size_t i, double got, double want, double tol) {
  if (std::fabs(got - want) <= tol) return;
  if (++mismatches <= 8) std::fprintf(stderr, "%s[%zu]: got %.6g, want %.6g (tol %.3g)\n", what, i, got, want, tol);
  ++ptk_test_failures();
}

// The rows, and their sums of squares in parts of 32 columns (at 8456 the last one 8 wide); each
// part the fmaf chain over its columns in order, as ptk_norm_parts says.
void embedding() {
  for (int hidden : {64, 8456}) {
    const int vocab = 37, parts = ptk_norm_parts(hidden), width = 32;
    CHECK(parts == (hidden + width - 1) / width);
    auto table = random_bf16(size_t(vocab) * hidden, 1.f);
    std::vector<int32_t> ids = {5, 0, 36, -1, 37, 5};  // the out-of-range ids give zero rows
    Device<uint16_t> d_table(table);
    Device<int32_t> d_ids(ids);
    Device<float> d_out(ids.size() * hidden), d_plain(ids.size() * hidden), d_sumsq(ids.size() * parts);
    CHECK_STATUS(ptk_embedding(d_table.ptr, vocab, hidden, d_ids.p(), int(ids.size()), d_out.p(), d_sumsq.p(), nullptr),
                 PTK_OK);
    CHECK_STATUS(ptk_embedding(d_table.ptr, vocab, hidden, d_ids.p(), int(ids.size()), d_plain.p(), nullptr, nullptr),
                 PTK_OK);
    auto out = d_out.get(), plain = d_plain.get(), sumsq = d_sumsq.get();
    for (size_t t = 0; t < ids.size(); ++t) {
      const bool valid = ids[t] >= 0 && ids[t] < vocab;
      for (int c = 0; c < hidden; ++c) {
        const double want = valid ? bf(table[size_t(ids[t]) * hidden + c]) : 0.0;
        expect_near("embedding", t * hidden + c, out[t * hidden + c], want, 0);
        expect_near("embedding without parts", t * hidden + c, plain[t * hidden + c], want, 0);
      }
      for (int g = 0; g < parts; ++g) {
        float ss = 0.f;
        for (int c = g * width; c < std::min(hidden, (g + 1) * width); ++c) {
          const float x = valid ? float(bf(table[size_t(ids[t]) * hidden + c])) : 0.f;
          ss = std::fmaf(x, x, ss);
        }
        expect_near("embedding parts", t * parts + g, sumsq[t * parts + g], ss, 0);
      }
    }
  }
}

// bf16(x / rms(x) * w) for one row, in double.
std::vector<double> rmsnorm(const std::vector<double>& x, const std::vector<uint16_t>& w, double eps) {
  double ss = 0;
  for (double v : x) ss += v * v;
  const double inv = 1.0 / std::sqrt(ss / double(x.size()) + eps);
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = x[i] * inv * bf(w[i]);
  return out;
}

void norms() {
  const int rows = 5, hidden = 1536;
  const float eps = 1e-6f;
  auto residual = random_f32(size_t(rows) * hidden, 2.f);
  auto delta = random_f32(size_t(rows) * hidden, 0.5f);
  auto weight = random_bf16(hidden, 1.f);
  Device<float> d_res(residual), d_delta(delta);
  Device<uint16_t> d_w(weight), d_out(size_t(rows) * hidden);
  CHECK_STATUS(ptk_add_rmsnorm(d_res.p(), d_delta.p(), d_w.ptr, eps, d_out.ptr, rows, hidden, nullptr), PTK_OK);
  auto res = d_res.get();
  auto out = d_out.get();
  for (int r = 0; r < rows; ++r) {
    std::vector<double> x(hidden);
    for (int c = 0; c < hidden; ++c) {
      const size_t i = size_t(r) * hidden + c;
      x[size_t(c)] = double(residual[i]) + double(delta[i]);
      expect_near("add_rmsnorm residual", i, res[i], x[size_t(c)], 1e-6 * std::fabs(x[size_t(c)]));
    }
    auto want = rmsnorm(x, weight, eps);
    for (int c = 0; c < hidden; ++c) {
      const size_t i = size_t(r) * hidden + c;
      expect_near("add_rmsnorm out", i, bf(out[i]), want[size_t(c)], std::fabs(want[size_t(c)]) / 128 + 1e-5);
    }
  }

  // The selected rows of the updated residual, in the order asked.
  std::vector<int32_t> row_ids = {4, 0, 4};
  Device<int32_t> d_rows(row_ids);
  Device<uint16_t> d_sel(row_ids.size() * hidden);
  CHECK_STATUS(ptk_rmsnorm_rows(d_res.p(), d_rows.p(), d_w.ptr, eps, d_sel.ptr, int(row_ids.size()), hidden, nullptr),
               PTK_OK);
  auto sel = d_sel.get();
  for (size_t r = 0; r < row_ids.size(); ++r) {
    std::vector<double> x(res.begin() + row_ids[r] * hidden, res.begin() + (row_ids[r] + 1) * hidden);
    auto want = rmsnorm(x, weight, eps);
    for (int c = 0; c < hidden; ++c) {
      expect_near("rmsnorm_rows", r * hidden + c, bf(sel[r * hidden + c]), want[size_t(c)], std::fabs(want[size_t(c)]) / 128 + 1e-5);
    }
  }
}

void activation_and_bias() {
  const int rows = 3, inter = 8960, n = 2048;
  auto gate_up = random_f32(size_t(rows) * 2 * inter, 3.f);
  Device<float> d_gu(gate_up);
  Device<uint16_t> d_out(size_t(rows) * inter);
  CHECK_STATUS(ptk_silu_mul(d_gu.p(), d_out.ptr, rows, inter, nullptr), PTK_OK);
  auto out = d_out.get();
  for (int r = 0; r < rows; ++r) {
    for (int i = 0; i < inter; ++i) {
      const double g = gate_up[size_t(r) * 2 * inter + i], u = gate_up[size_t(r) * 2 * inter + inter + i];
      const double want = g / (1 + std::exp(-g)) * u;
      expect_near("silu_mul", size_t(r) * inter + i, bf(out[size_t(r) * inter + i]), want, std::fabs(want) / 128 + 1e-5);
    }
  }

  auto y = random_f32(size_t(rows) * n, 4.f);
  auto bias = random_bf16(n, 1.f);
  Device<float> d_y(y);
  Device<uint16_t> d_bias(bias), d_biased(size_t(rows) * n);
  CHECK_STATUS(ptk_bias_to_bf16(d_y.p(), d_bias.ptr, d_biased.ptr, rows, n, nullptr), PTK_OK);
  auto biased = d_biased.get();
  for (size_t i = 0; i < biased.size(); ++i) {
    const double want = double(y[i]) + bf(bias[i % size_t(n)]);
    expect_near("bias_to_bf16", i, bf(biased[i]), want, std::fabs(want) / 256 + 1e-6);
  }
}

// y = x w^T (+ b) in double, for rows 0..m-1.
std::vector<double> matmul(const std::vector<uint16_t>& x, const std::vector<uint16_t>& w, const std::vector<uint16_t>* b,
                           int m, int n, int k) {
  std::vector<double> y(size_t(m) * n);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double s = b ? bf((*b)[size_t(j)]) : 0.0;
      for (int c = 0; c < k; ++c) s += bf(x[size_t(i) * k + c]) * bf(w[size_t(j) * k + c]);
      y[size_t(i) * n + j] = s;
    }
  }
  return y;
}

// The f32 tolerance of a k-long dot product of unit-scale x and weights of scale w_scale: 1e-4
// of its typical magnitude.
double dot_tol(int k, double w_scale) { return 1e-4 * std::sqrt(double(k)) * w_scale; }

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// One weight at the row counts `ms`, without bias into f32 (most projections) and, with
// `bf16_too`, with bias into bf16 (the QKV projection), against the double reference; then batch
// invariance: row i's f32 result is bit-identical at every m (compared with the largest m run).
void gemv_shape(const char* what, int n, int k, const std::vector<int>& ms, bool bf16_too) {
  const double w_scale = 0.05;
  auto x = random_bf16(size_t(PTK_GEMV_MAX_ROWS) * k, 1.f);
  auto w = random_bf16(size_t(n) * k, float(w_scale));
  auto b = random_bf16(n, 0.5f);
  Device<uint16_t> d_x(x), d_w(w), d_b(b), d_y16(size_t(PTK_GEMV_MAX_ROWS) * n);
  Device<float> d_y32(size_t(PTK_GEMV_MAX_ROWS) * n);
  const int m_max = ms.back();
  auto want_all = matmul(x, w, nullptr, m_max, n, k);
  const double tol = dot_tol(k, w_scale);
  std::vector<std::vector<float>> by_m;
  for (int m : ms) {
    CHECK_STATUS(ptk_gemv(d_x.ptr, d_w.ptr, nullptr, d_y32.ptr, PTK_DTYPE_F32, m, n, k, gemv_workspace(n, k), ptk_gemv_workspace_bytes(n, k), nullptr), PTK_OK);
    auto y32 = d_y32.get();
    for (size_t i = 0; i < size_t(m) * n; ++i) expect_near(what, i, y32[i], want_all[i], tol + 1e-5 * std::fabs(want_all[i]));
    if (bf16_too) {
      CHECK_STATUS(ptk_gemv(d_x.ptr, d_w.ptr, d_b.ptr, d_y16.ptr, PTK_DTYPE_BF16, m, n, k, gemv_workspace(n, k), ptk_gemv_workspace_bytes(n, k),
                            nullptr), PTK_OK);
      auto y16 = d_y16.get();
      for (size_t i = 0; i < size_t(m) * n; ++i) {
        const double biased = want_all[i] + bf(b[i % size_t(n)]);
        expect_near(what, i, bf(y16[i]), biased, std::fabs(biased) / 128 + tol);
      }
    }
    y32.resize(size_t(m) * n);
    by_m.push_back(y32);
  }
  for (size_t r = 0; r + 1 < ms.size(); ++r) {
    for (size_t i = 0; i < by_m[r].size(); ++i) {
      if (!same_bits(by_m[r][i], by_m.back()[i])) {
        if (++mismatches <= 8) {
          std::fprintf(stderr, "%s: row %zu differs between m = %d and m = %d\n", what, i / size_t(n), ms[r], m_max);
        }
        ++ptk_test_failures();
      }
    }
  }
}

// The decode projections scaled down for the sim: k not a multiple of the k slice, n not a
// multiple of a group's 32 rows. Split k (few groups, as qkv, o and down): n = 333 (11 groups,
// 7 slices: one slice per split) at every row count, n = 100 (4 groups, 10 splits of one slice),
// n = 4250 (133 groups, 3 slices in 2 splits of unequal size, the last slice short), n = 8400
// (263 groups, the most that split: the last counter and the end of the workspace). Whole k (as
// gate_up and lm_head: at least 264 groups; f32 only, the sim's time being in these blocks).
void gemv() {
  CHECK(ptk_gemv_workspace_bytes(333, 1544) > 0 && ptk_gemv_workspace_bytes(4250, 520) > 0 &&
        ptk_gemv_workspace_bytes(8400, 264) > 0);
  CHECK(ptk_gemv_workspace_bytes(8456, 264) == 0);
  gemv_shape("gemv split", 333, 1544, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, true);
  gemv_shape("gemv split long k", 100, 2312, {1, 3, 8, 16}, true);
  gemv_shape("gemv split unequal", 4250, 520, {1, 5, 16}, true);
  gemv_shape("gemv split, the last counter", 8400, 264, {1, 16}, false);
  gemv_shape("gemv whole k", 8456, 264, {1, 3, 8, 16}, false);
}

// ptk_gemv_silu_mul against ptk_gemv (f32) + ptk_silu_mul bit for bit, and against the double
// reference bf16(silu(g) * u) within one bf16 rounding plus the f32 error of g and u.
void gemv_silu_mul_shape(const char* what, int inter, int k, const std::vector<int>& ms) {
  const double w_scale = 0.05;
  const int n = 2 * inter;
  auto x = random_bf16(size_t(PTK_GEMV_MAX_ROWS) * k, 1.f);
  auto w = random_bf16(size_t(n) * k, float(w_scale));
  Device<uint16_t> d_x(x), d_w(w), d_fused(size_t(PTK_GEMV_MAX_ROWS) * inter), d_split(size_t(PTK_GEMV_MAX_ROWS) * inter);
  Device<float> d_gate_up(size_t(PTK_GEMV_MAX_ROWS) * n);
  auto gate_up = matmul(x, w, nullptr, PTK_GEMV_MAX_ROWS, n, k);
  const double tol = dot_tol(k, w_scale);
  for (int m : ms) {
    CHECK_STATUS(ptk_gemv_silu_mul(d_x.ptr, d_w.ptr, d_fused.ptr, m, inter, k, gemv_workspace(n, k), ptk_gemv_workspace_bytes(n, k),
                                   nullptr), PTK_OK);
    CHECK_STATUS(ptk_gemv(d_x.ptr, d_w.ptr, nullptr, d_gate_up.ptr, PTK_DTYPE_F32, m, n, k, gemv_workspace(n, k),
                          ptk_gemv_workspace_bytes(n, k), nullptr), PTK_OK);
    CHECK_STATUS(ptk_silu_mul(d_gate_up.p(), d_split.ptr, m, inter, nullptr), PTK_OK);
    auto fused = d_fused.get();
    auto split = d_split.get();
    for (int r = 0; r < m; ++r) {
      for (int j = 0; j < inter; ++j) {
        const size_t i = size_t(r) * inter + j;
        const double g = gate_up[size_t(r) * n + j], u = gate_up[size_t(r) * n + inter + j];
        const double want = g / (1 + std::exp(-g)) * u;
        expect_near(what, i, bf(fused[i]), want, std::fabs(want) / 128 + 2 * tol * (std::fabs(g) + std::fabs(u)) + 1e-6);
        expect_near(what, i, fused[i], split[i], 0);
      }
    }
  }
}

void gemv_silu_mul() {
  gemv_silu_mul_shape("gemv_silu_mul split", 104, 1544, {1, 3, 8, 16});
  gemv_silu_mul_shape("gemv_silu_mul whole k", 4232, 264, {1, 16});
}

// ptk_add_sumsq: the residual add as ptk_add_rmsnorm's, and each part within f32 rounding of its
// double sum (parts of 32 columns, the last one short).
void add_sumsq_shape(int hidden) {
  const int rows = 3, parts = ptk_norm_parts(hidden);
  CHECK(parts == (hidden + 31) / 32);
  auto residual = random_f32(size_t(rows) * hidden, 2.f);
  auto delta = random_f32(size_t(rows) * hidden, 0.5f);
  Device<float> d_res(residual), d_delta(delta), d_sumsq(size_t(rows) * parts);
  CHECK_STATUS(ptk_add_sumsq(d_res.p(), d_delta.p(), d_sumsq.p(), rows, hidden, nullptr), PTK_OK);
  auto res = d_res.get();
  auto sumsq = d_sumsq.get();
  const int width = 32;
  for (int r = 0; r < rows; ++r) {
    for (int g = 0; g < parts; ++g) {
      double want = 0;
      for (int c = g * width; c < std::min(hidden, (g + 1) * width); ++c) {
        const size_t i = size_t(r) * hidden + c;
        expect_near("add_sumsq residual", i, res[i], float(residual[i] + delta[i]), 0);
        want += double(res[i]) * res[i];
      }
      expect_near("add_sumsq part", size_t(r) * parts + g, sumsq[size_t(r) * parts + g], want, 1e-6 * want);
    }
  }
}

// ptk_gemv_add bit for bit ptk_gemv (f32) + ptk_add_sumsq, and without sumsq the same residual.
void gemv_add_shape(const char* what, int n, int k, const std::vector<int>& ms) {
  const int parts = ptk_norm_parts(n);
  auto x = random_bf16(size_t(PTK_GEMV_MAX_ROWS) * k, 1.f);
  auto w = random_bf16(size_t(n) * k, 0.05f);
  auto residual = random_f32(size_t(PTK_GEMV_MAX_ROWS) * n, 2.f);
  Device<uint16_t> d_x(x), d_w(w);
  Device<float> d_fused(residual), d_fused_sumsq(size_t(PTK_GEMV_MAX_ROWS) * parts);
  Device<float> d_split(residual), d_delta(size_t(PTK_GEMV_MAX_ROWS) * n), d_split_sumsq(size_t(PTK_GEMV_MAX_ROWS) * parts);
  Device<float> d_bare(residual);
  for (int m : ms) {
    d_fused.put(residual);
    d_split.put(residual);
    d_bare.put(residual);
    CHECK_STATUS(ptk_gemv_add(d_x.ptr, d_w.ptr, d_fused.p(), d_fused_sumsq.p(), m, n, k, gemv_workspace(n, k),
                              ptk_gemv_workspace_bytes(n, k), nullptr), PTK_OK);
    CHECK_STATUS(ptk_gemv_add(d_x.ptr, d_w.ptr, d_bare.p(), nullptr, m, n, k, gemv_workspace(n, k), ptk_gemv_workspace_bytes(n, k), nullptr), PTK_OK);
    CHECK_STATUS(ptk_gemv(d_x.ptr, d_w.ptr, nullptr, d_delta.ptr, PTK_DTYPE_F32, m, n, k, gemv_workspace(n, k), ptk_gemv_workspace_bytes(n, k),
                          nullptr), PTK_OK);
    CHECK_STATUS(ptk_add_sumsq(d_split.p(), d_delta.p(), d_split_sumsq.p(), m, n, nullptr), PTK_OK);
    auto fused = d_fused.get(), split = d_split.get(), bare = d_bare.get();
    auto fused_sumsq = d_fused_sumsq.get(), split_sumsq = d_split_sumsq.get();
    for (size_t i = 0; i < fused.size(); ++i) {
      expect_near(what, i, fused[i], split[i], 0);  // rows past m untouched in both
      expect_near(what, i, bare[i], split[i], 0);
    }
    for (size_t i = 0; i < size_t(m) * parts; ++i) expect_near(what, i, fused_sumsq[i], split_sumsq[i], 0);
  }
}

// bf16's spacing at v: what one rounding flip of a bf16 value moves it by.
double bf16_ulp(double v) { return v == 0 ? 0 : std::ldexp(1.0, std::ilogb(v) - 7); }

// ptk_gemv_rmsnorm against ptk_add_rmsnorm + ptk_gemv on the same residual. The two sum the
// squares in different orders, so a scale may differ in its last bit, and an input value that
// lies that close to a bf16 rounding boundary rounds the other way: rare (about 2^-15 of the
// values), so each output may differ by up to two such flips, and is otherwise equal (same sums
// in the same order). Then batch invariance, and ptk_gemv_rmsnorm_silu_mul bit for bit against
// ptk_gemv_rmsnorm (f32) + ptk_silu_mul.
void gemv_rmsnorm_shape(const char* what, int n, int k, const std::vector<int>& ms) {
  const float eps = 1e-6f;
  const int parts = ptk_norm_parts(k), m_max = ms.back();
  auto residual = random_f32(size_t(PTK_GEMV_MAX_ROWS) * k, 2.f);
  auto norm_w = random_bf16(k, 1.f);
  auto w = random_bf16(size_t(n) * k, 0.05f);
  auto b = random_bf16(n, 0.5f);
  Device<float> d_res(residual), d_norm_res(residual), d_sumsq(size_t(PTK_GEMV_MAX_ROWS) * parts);
  Device<uint16_t> d_norm_w(norm_w), d_w(w), d_b(b), d_h(size_t(PTK_GEMV_MAX_ROWS) * k);
  Device<uint16_t> d_fused(size_t(PTK_GEMV_MAX_ROWS) * n), d_split(size_t(PTK_GEMV_MAX_ROWS) * n);
  Device<float> d_fused32(size_t(PTK_GEMV_MAX_ROWS) * n), d_split32(size_t(PTK_GEMV_MAX_ROWS) * n);
  CHECK_STATUS(ptk_add_sumsq(d_res.p(), nullptr, d_sumsq.p(), PTK_GEMV_MAX_ROWS, k, nullptr), PTK_OK);
  CHECK_STATUS(ptk_add_rmsnorm(d_norm_res.p(), nullptr, d_norm_w.ptr, eps, d_h.ptr, PTK_GEMV_MAX_ROWS, k, nullptr), PTK_OK);
  auto h = d_h.get();
  std::vector<std::vector<float>> by_m;
  for (int m : ms) {
    CHECK_STATUS(ptk_gemv_rmsnorm(d_res.p(), d_sumsq.p(), d_norm_w.ptr, eps, d_w.ptr, nullptr, d_fused32.ptr,
                                  PTK_DTYPE_F32, m, n, k, gemv_workspace(n, k), ptk_gemv_workspace_bytes(n, k), nullptr), PTK_OK);
    CHECK_STATUS(ptk_gemv(d_h.ptr, d_w.ptr, nullptr, d_split32.ptr, PTK_DTYPE_F32, m, n, k, gemv_workspace(n, k),
                          ptk_gemv_workspace_bytes(n, k), nullptr), PTK_OK);
    CHECK_STATUS(ptk_gemv_rmsnorm(d_res.p(), d_sumsq.p(), d_norm_w.ptr, eps, d_w.ptr, d_b.ptr, d_fused.ptr,
                                  PTK_DTYPE_BF16, m, n, k, gemv_workspace(n, k), ptk_gemv_workspace_bytes(n, k), nullptr), PTK_OK);
    CHECK_STATUS(ptk_gemv(d_h.ptr, d_w.ptr, d_b.ptr, d_split.ptr, PTK_DTYPE_BF16, m, n, k, gemv_workspace(n, k),
                          ptk_gemv_workspace_bytes(n, k), nullptr), PTK_OK);
    auto fused32 = d_fused32.get(), split32 = d_split32.get();
    auto fused = d_fused.get(), split = d_split.get();
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < n; ++j) {
        double flip = 0;
        for (int c = 0; c < k; ++c) {
          flip = std::max(flip, std::fabs(bf(w[size_t(j) * k + c])) * bf16_ulp(bf(h[size_t(i) * k + c])));
        }
        const size_t e = size_t(i) * n + j;
        const double tol = 2 * flip + 1e-6 * std::fabs(split32[e]);
        expect_near(what, e, fused32[e], split32[e], tol);
        expect_near(what, e, bf(fused[e]), bf(split[e]), tol + std::fabs(split32[e]) / 128);
      }
    }
    fused32.resize(size_t(m) * n);
    by_m.push_back(fused32);
  }
  for (size_t r = 0; r + 1 < ms.size(); ++r) {
    for (size_t i = 0; i < by_m[r].size(); ++i) {
      if (!same_bits(by_m[r][i], by_m.back()[i])) {
        if (++mismatches <= 8) std::fprintf(stderr, "%s: row %zu differs between m = %d and m = %d\n", what, i / size_t(n), ms[r], m_max);
        ++ptk_test_failures();
      }
    }
  }

  // The fused MLP input: n = 2 intermediate.
  const int inter = n / 2;
  Device<uint16_t> d_gated(size_t(PTK_GEMV_MAX_ROWS) * inter), d_gated_split(size_t(PTK_GEMV_MAX_ROWS) * inter);
  for (int m : {1, m_max}) {
    CHECK_STATUS(ptk_gemv_rmsnorm_silu_mul(d_res.p(), d_sumsq.p(), d_norm_w.ptr, eps, d_w.ptr, d_gated.ptr, m, inter, k,
                                           gemv_workspace(n, k), ptk_gemv_workspace_bytes(n, k), nullptr), PTK_OK);
    CHECK_STATUS(ptk_gemv_rmsnorm(d_res.p(), d_sumsq.p(), d_norm_w.ptr, eps, d_w.ptr, nullptr, d_fused32.ptr,
                                  PTK_DTYPE_F32, m, 2 * inter, k, gemv_workspace(n, k), ptk_gemv_workspace_bytes(n, k), nullptr), PTK_OK);
    CHECK_STATUS(ptk_silu_mul(d_fused32.p(), d_gated_split.ptr, m, inter, nullptr), PTK_OK);
    auto gated = d_gated.get(), gated_split = d_gated_split.get();
    for (size_t i = 0; i < size_t(m) * inter; ++i) expect_near(what, i, gated[i], gated_split[i], 0);
  }
}

// Parts of 32 (hidden 1544: 49 parts, the last 8 wide, k not a multiple of the slice; 8456: 265),
// gemvs that split k (n = 1544: 49 groups, 5 splits; n = 208 and 48: every slice its own split)
// and one that does not (n = 8456).
void norm_handoff() {
  add_sumsq_shape(1544);
  add_sumsq_shape(8456);
  gemv_add_shape("gemv_add split", 1544, 1048, {1, 3, 16});
  gemv_add_shape("gemv_add whole k", 8456, 264, {1, 16});
  gemv_rmsnorm_shape("gemv_rmsnorm split", 208, 1544, {1, 2, 5, 16});
  gemv_rmsnorm_shape("gemv_rmsnorm long k", 48, 8456, {1, 16});
}

// ptk_gemv_rmsnorm_rope_append bit for bit against ptk_gemv_rmsnorm (bf16, bias) + ptk_rope_append
// on the same plan: q for the first m tokens, and the whole K and V caches (filled at random first,
// so a write to a wrong slot or a write that should not happen shows). The plan holds 16 tokens at
// random positions (up to 2^17) and segments, some of them with slot -1; calls take its first m.
void qkv_append_shape(const char* what, int q_heads, int kv_heads, int head_dim, int hidden, bool bias, bool thought,
                      const std::vector<int>& ms) {
  const float eps = 1e-6f;
  const int n = (q_heads + 2 * kv_heads) * head_dim, parts = ptk_norm_parts(hidden), segments = 5;
  const ptk_kv_layout layout = {q_heads, kv_heads, head_dim, 16, 4};
  const ptk_rope_config yarn = {10000.0, 4.0, 9280, 32.0, 1.0};
  ptk_rope_plan* plan = nullptr;
  CHECK_STATUS(ptk_rope_plan_create(&layout, &yarn, segments, PTK_GEMV_MAX_ROWS, &plan), PTK_OK);
  std::vector<int32_t> pos(PTK_GEMV_MAX_ROWS), seg(PTK_GEMV_MAX_ROWS), slots(PTK_GEMV_MAX_ROWS);
  std::vector<int32_t> free_slots(layout.num_pages * layout.page_size);
  for (size_t i = 0; i < free_slots.size(); ++i) free_slots[i] = int32_t(i);
  std::shuffle(free_slots.begin(), free_slots.end(), rng);
  for (int t = 0; t < PTK_GEMV_MAX_ROWS; ++t) {
    pos[t] = int32_t(rng() % (1u << 17));
    seg[t] = int32_t(rng() % segments);
    slots[t] = t % 5 == 3 ? -1 : free_slots[t];
  }
  CHECK_STATUS(ptk_rope_plan_update(plan, PTK_GEMV_MAX_ROWS, pos.data(), seg.data(), slots.data(), nullptr), PTK_OK);

  const size_t cache = size_t(layout.num_pages) * layout.page_size * kv_heads * head_dim;
  auto residual = random_f32(size_t(PTK_GEMV_MAX_ROWS) * hidden, 2.f);
  auto k_init = random_bf16(cache, 1.f), v_init = random_bf16(cache, 1.f);
  Device<float> d_res(residual), d_sumsq(size_t(PTK_GEMV_MAX_ROWS) * parts);
  Device<uint16_t> d_norm_w(random_bf16(hidden, 1.f)), d_w(random_bf16(size_t(n) * hidden, 0.05f));
  Device<uint16_t> d_b(random_bf16(n, 0.5f)), d_thought(random_bf16(size_t(segments) * head_dim, 0.5f));
  Device<uint16_t> d_qkv(size_t(PTK_GEMV_MAX_ROWS) * n), d_q_split(size_t(PTK_GEMV_MAX_ROWS) * q_heads * head_dim);
  Device<uint16_t> d_q_fused(size_t(PTK_GEMV_MAX_ROWS) * q_heads * head_dim);
  Device<uint16_t> d_k_split(k_init), d_v_split(v_init), d_k_fused(k_init), d_v_fused(v_init);
  CHECK_STATUS(ptk_add_sumsq(d_res.p(), nullptr, d_sumsq.p(), PTK_GEMV_MAX_ROWS, hidden, nullptr), PTK_OK);
  const void* b = bias ? d_b.ptr : nullptr;
  const void* e = thought ? d_thought.ptr : nullptr;
  for (int m : ms) {
    CHECK_STATUS(ptk_gemv_rmsnorm(d_res.p(), d_sumsq.p(), d_norm_w.ptr, eps, d_w.ptr, b, d_qkv.ptr, PTK_DTYPE_BF16, m, n,
                                  hidden, gemv_workspace(n, hidden), ptk_gemv_workspace_bytes(n, hidden), nullptr), PTK_OK);
    // ptk_rope_append runs every token of the plan: the first m of its result are the reference.
    CHECK_STATUS(ptk_rope_plan_update(plan, m, pos.data(), seg.data(), slots.data(), nullptr), PTK_OK);
    CHECK_STATUS(ptk_rope_append(plan, d_qkv.ptr, e, d_q_split.ptr, d_k_split.ptr, d_v_split.ptr, nullptr), PTK_OK);
    CHECK_STATUS(ptk_rope_plan_update(plan, PTK_GEMV_MAX_ROWS, pos.data(), seg.data(), slots.data(), nullptr), PTK_OK);
    CHECK_STATUS(ptk_gemv_rmsnorm_rope_append(plan, d_res.p(), d_sumsq.p(), d_norm_w.ptr, eps, d_w.ptr, b, e,
                                              d_q_fused.ptr, d_k_fused.ptr, d_v_fused.ptr, m, hidden,
                                              gemv_workspace(n, hidden), ptk_gemv_workspace_bytes(n, hidden), nullptr), PTK_OK);
    auto q_split = d_q_split.get(), q_fused = d_q_fused.get();
    for (size_t i = 0; i < size_t(m) * q_heads * head_dim; ++i) expect_near(what, i, bf(q_fused[i]), bf(q_split[i]), 0);
    auto k_split = d_k_split.get(), k_fused = d_k_fused.get(), v_split = d_v_split.get(), v_fused = d_v_fused.get();
    size_t written = 0;
    for (size_t i = 0; i < cache; ++i) {
      expect_near(what, i, bf(k_fused[i]), bf(k_split[i]), 0);
      expect_near(what, i, bf(v_fused[i]), bf(v_split[i]), 0);
      written += k_split[i] != k_init[i];
    }
    CHECK(written > 0);  // the reference did append
  }
  ptk_rope_plan_destroy(plan);
}

void qkv_append() {
  // ParaThinker-1.5B's heads (12 q, 2 kv, 128 dims) on a short hidden; the tiny model's (6 q, 1 kv,
  // with a 768 hidden); 64 dims with k not a multiple of the slice: all three split k. A qkv wide
  // enough not to (72 heads of 128 = 9216 rows, 288 groups).
  qkv_append_shape("qkv_append 12/2x128", 12, 2, 128, 264, true, true, {1, 3, 16});
  qkv_append_shape("qkv_append 6/1x128", 6, 1, 128, 768, true, false, {2, 8});
  qkv_append_shape("qkv_append 4/2x64", 4, 2, 64, 1048, false, true, {1, 5, 16});
  qkv_append_shape("qkv_append wide", 56, 8, 128, 64, true, true, {1, 16});
}

// Captured once, replayed on new input: the graph reads the buffers, not the values at capture.
// The events time a replay.
void gemv_in_a_graph() {
  const int m = 8, n = 256, k = 512;
  auto w = random_bf16(size_t(n) * k, 0.05f);
  Device<uint16_t> d_x(size_t(m) * k), d_w(w);
  Device<float> d_y(size_t(m) * n);
  void* stream = nullptr;
  CHECK_STATUS(ptk_stream_create(&stream), PTK_OK);
  void* const ws = gemv_workspace(n, k);  // allocated before the capture, which may not allocate
  CHECK(ws != nullptr);                    // a split gemv: its counters replayed by the graph
  CHECK_STATUS(ptk_graph_begin_capture(stream), PTK_OK);
  CHECK_STATUS(ptk_gemv(d_x.ptr, d_w.ptr, nullptr, d_y.ptr, PTK_DTYPE_F32, m, n, k, ws, ptk_gemv_workspace_bytes(n, k),
                        stream), PTK_OK);
  void* graph = nullptr;
  CHECK_STATUS(ptk_graph_end_capture(stream, &graph), PTK_OK);
  void *start = nullptr, *end = nullptr;
  CHECK_STATUS(ptk_event_create(&start), PTK_OK);
  CHECK_STATUS(ptk_event_create(&end), PTK_OK);
  for (int round = 0; round < 2; ++round) {
    auto x = random_bf16(size_t(m) * k, 1.f);
    d_x.put(x);
    CHECK_STATUS(ptk_event_record(start, stream), PTK_OK);
    CHECK_STATUS(ptk_graph_launch(graph, stream), PTK_OK);
    CHECK_STATUS(ptk_event_record(end, stream), PTK_OK);
    float ms = -1.f;
    CHECK_STATUS(ptk_event_elapsed_ms(start, end, &ms), PTK_OK);
    CHECK(ms > 0.f && ms < 1000.f);
    CHECK_STATUS(ptk_stream_synchronize(stream), PTK_OK);
    auto y = d_y.get();
    auto want = matmul(x, w, nullptr, m, n, k);
    for (size_t i = 0; i < y.size(); ++i) expect_near("graph replay", i, y[i], want[i], 1e-4 + 1e-5 * std::fabs(want[i]));
  }
  ptk_event_destroy(start);
  ptk_event_destroy(end);
  ptk_graph_destroy(graph);
  ptk_stream_destroy(stream);
}

// A graph reports the nodes its capture recorded: here two memsets.
void graph_node_count() {
  Device<float> d(64);
  void* stream = nullptr;
  CHECK_STATUS(ptk_stream_create(&stream), PTK_OK);
  CHECK_STATUS(ptk_graph_begin_capture(stream), PTK_OK);
  CHECK_STATUS(ptk_memset_zero(d.ptr, 64 * sizeof(float), stream), PTK_OK);
  CHECK_STATUS(ptk_memset_zero(d.ptr, 32 * sizeof(float), stream), PTK_OK);
  void* graph = nullptr;
  CHECK_STATUS(ptk_graph_end_capture(stream, &graph), PTK_OK);
  int nodes = -1;
  CHECK_STATUS(ptk_graph_node_count(graph, &nodes), PTK_OK);
  CHECK(nodes == 2);
  ptk_graph_destroy(graph);
  ptk_stream_destroy(stream);
}

// PTK_GEMV_MATH set to a value it does not know: every gemv form refuses, naming the variable and
// the value, and launches nothing.
void bad_gemv_math(const char* value) {
  const int m = 2, n = 64, k = 64;
  auto x = random_bf16(size_t(m) * k, 1.f);
  auto w = random_bf16(size_t(n) * k, 0.05f);
  Device<uint16_t> d_x(x), d_w(w);
  Device<float> d_y(size_t(m) * n);
  CHECK_STATUS(ptk_gemv(d_x.ptr, d_w.ptr, nullptr, d_y.ptr, PTK_DTYPE_F32, m, n, k, gemv_workspace(n, k), ptk_gemv_workspace_bytes(n, k),
                        nullptr),
               PTK_ERR_INVALID_ARGUMENT);
  const std::string error = ptk_last_error();
  CHECK(error.find(std::string("PTK_GEMV_MATH=") + value) != std::string::npos);
  CHECK_STATUS(ptk_gemv_add(d_x.ptr, d_w.ptr, d_y.p(), nullptr, m, n, k, gemv_workspace(n, k), ptk_gemv_workspace_bytes(n, k), nullptr),
               PTK_ERR_INVALID_ARGUMENT);
}

}  // namespace

int main() {
  if (!ptk_test_has_device()) {
    std::printf("test_decoder_ops: skipped: no CUDA device (the decoder's device operations need a GPU)\n");
    return 77;
  }
  const char* math = std::getenv("PTK_GEMV_MATH");
  if (math != nullptr && math[0] != '\0' && std::strcmp(math, "mma") != 0 && std::strcmp(math, "fma") != 0) {
    bad_gemv_math(math);
    return ptk_test_result("test_decoder_ops (unknown PTK_GEMV_MATH)");
  }
  embedding();
  norms();
  activation_and_bias();
  gemv();
  gemv_silu_mul();
  norm_handoff();
  qkv_append();
  gemv_in_a_graph();
  graph_node_count();
  return ptk_test_result("test_decoder_ops");
}
