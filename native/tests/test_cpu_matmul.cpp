// The CPU matmul (ptk/cpu.h) against a float64 product, on the path this process runs: the best
// the CPU has, or the one PTK_CPU_ISA forces (ctest runs it once per path; a path the CPU lacks
// must be refused with a message naming it, and the run is reported as skipped, exit 77).
// Shapes cover both blockings (decode m <= 16, prefill m > 16), several panels along k, k below
// and not a multiple of the lane count, short last panels of rows; on AMX also short last tiles
// of weight rows and of x, k in one pass and in chunks, more than one super-block of weight rows
// and k below and not a multiple of 32; on avx512bf16 k past 1024 and 2048 with a partial last
// block, more than one panel of 64 weight rows, decode tiles of 4 and 3 weight rows with short
// last groups and one or two passes over the rows of x. Then batch invariance (a row's bits do
// not depend on m or on how n is split), one prepared x run from several threads, and the
// argument checks. Everything but the argument checks runs twice: with x as given (PTK_CPU_X_F32,
// what ptk_cpu_matmul_bf16 does) and rounded to bf16 (PTK_CPU_X_BF16), whose reference takes x
// rounded to nearest even here.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <random>
#include <thread>
#include <vector>

#include "check.h"
#include "ptk/cpu.h"

namespace {

uint16_t bf16_bits(float v) {  // v must be exactly representable (taken from bf16 bits below)
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return uint16_t(u >> 16);
}

float bf16_round_down(float v) {
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  u &= 0xFFFF0000u;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

// Finite v to the nearest bf16, ties to even (written out here, not taken from the library).
float bf16_nearest(float v) {
  float down = bf16_round_down(v);
  uint32_t u;
  std::memcpy(&u, &down, sizeof u);
  uint32_t up_bits = u + 0x10000u;  // the next bf16 away from zero
  float up;
  std::memcpy(&up, &up_bits, sizeof up);
  double dd = std::fabs(double(v) - down), du = std::fabs(double(up) - v);
  if (dd != du) return dd < du ? down : up;
  return (u >> 16) % 2 == 0 ? down : up;
}

int precision = PTK_CPU_X_F32;  // the pass in progress

// y = x w^T (+ bias) with x prepared as the pass says (F32: the one-call entry itself).
ptk_status matmul(const float* x, int m, int k, const uint16_t* w, int n, const float* bias, float* y, int ldy) {
  if (precision == PTK_CPU_X_F32) return ptk_cpu_matmul_bf16(x, m, k, w, n, bias, y, ldy);
  ptk_cpu_x* px = nullptr;
  ptk_status s = ptk_cpu_x_create(&px);
  if (s == PTK_OK) s = ptk_cpu_x_prepare_as(px, x, m, k, precision);
  if (s == PTK_OK) s = ptk_cpu_matmul_prepared(px, w, n, bias, y, ldy);
  ptk_cpu_x_destroy(px);
  return s;
}

struct Case {
  int m, n, k;
  bool bias;
};

struct Data {
  std::vector<float> x, wf, bias;
  std::vector<uint16_t> w;
};

Data make(const Case& c, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  Data d;
  d.x.resize(size_t(c.m) * c.k);
  for (float& v : d.x) v = g(rng);
  d.w.resize(size_t(c.n) * c.k);
  d.wf.resize(d.w.size());
  for (size_t i = 0; i < d.w.size(); ++i) {
    d.wf[i] = bf16_round_down(g(rng));
    d.w[i] = bf16_bits(d.wf[i]);
  }
  if (c.bias) {
    d.bias.resize(c.n);
    for (float& v : d.bias) v = g(rng);
  }
  return d;
}

// The bf16 paths carry x as given in two bf16 halves, x = hi + lo to within 2^-16 |x|: one more
// relative error per product, on top of the f32 sums'. Rounded x is exact in one half.
double x_error(int isa) {
  if (precision == PTK_CPU_X_BF16) return 0.0;
  return isa == PTK_CPU_ISA_AMX || isa == PTK_CPU_ISA_AVX512BF16 ? std::ldexp(1.0, -16) : 0.0;
}

void against_reference(const Case& c, int isa) {
  Data d = make(c, unsigned(c.m * 1000003 + c.n * 101 + c.k));
  int ldy = c.n + 3;
  std::vector<float> y(size_t(c.m) * ldy, NAN);
  CHECK_STATUS(matmul(d.x.data(), c.m, c.k, d.w.data(), c.n, c.bias ? d.bias.data() : nullptr, y.data(), ldy), PTK_OK);
  double worst = 0;
  for (int t = 0; t < c.m; ++t) {
    for (int r = 0; r < c.n; ++r) {
      double want = c.bias ? d.bias[r] : 0.0, magnitude = std::fabs(want);
      for (int i = 0; i < c.k; ++i) {
        float xv = d.x[size_t(t) * c.k + i];
        double p = double(d.wf[size_t(r) * c.k + i]) * (precision == PTK_CPU_X_BF16 ? bf16_nearest(xv) : xv);
        want += p;
        magnitude += std::fabs(p);
      }
      // f32 sums: at most about k roundings of 2^-24 each, relative to the sum of magnitudes.
      double tol = (2.0 * (c.k + 16) * std::ldexp(1.0, -24) + x_error(isa)) * magnitude;
      double got = y[size_t(t) * ldy + r];
      double err = std::fabs(got - want);
      if (!(err <= tol)) {
        std::fprintf(stderr, "m %d n %d k %d: y[%d, %d] = %.9g, want %.9g (tol %.3g)\n", c.m, c.n, c.k, t, r, got,
                     want, tol);
        ++ptk_test_failures();
        return;
      }
      worst = std::fmax(worst, err / std::fmax(tol, 1e-30));
    }
    for (int r = c.n; r < ldy; ++r) CHECK(std::isnan(y[size_t(t) * ldy + r]));  // past n: untouched
  }
  std::printf("  m %3d n %3d k %4d bias %d: worst error %.3f of tolerance\n", c.m, c.n, c.k, c.bias, worst);
}

// The bits of a row of y never depend on the other rows of x (m) nor on how n is split into calls.
void batch_invariance() {
  const int m = 100, n = 37, k = 1100;
  Data d = make({m, n, k, true}, 5);
  std::vector<float> all(size_t(m) * n), one(n), split(size_t(m) * n);
  CHECK_STATUS(matmul(d.x.data(), m, k, d.w.data(), n, d.bias.data(), all.data(), n), PTK_OK);
  for (int t = 0; t < m; ++t) {
    CHECK_STATUS(matmul(d.x.data() + size_t(t) * k, 1, k, d.w.data(), n, d.bias.data(), one.data(), n),
                 PTK_OK);
    CHECK(std::memcmp(one.data(), all.data() + size_t(t) * n, sizeof(float) * n) == 0);
  }
  for (int rows : {2, 5, 16, 33, 70}) {  // m <= 16: the decode blocking; AMX chunks k from 33 rows
    for (int t0 = 0; t0 + rows <= m; t0 += rows) {
      std::vector<float> part(size_t(rows) * n);
      CHECK_STATUS(matmul(d.x.data() + size_t(t0) * k, rows, k, d.w.data(), n, d.bias.data(),
                                       part.data(), n),
                   PTK_OK);
      CHECK(std::memcmp(part.data(), all.data() + size_t(t0) * n, part.size() * sizeof(float)) == 0);
    }
  }
  // n in slices as a caller's threads would take it: w, bias and y offset to the slice.
  for (int r0 = 0; r0 < n;) {
    int len = std::min(n - r0, 7 + r0 % 5);
    CHECK_STATUS(matmul(d.x.data(), m, k, d.w.data() + size_t(r0) * k, len, d.bias.data() + r0,
                                     split.data() + r0, n),
                 PTK_OK);
    r0 += len;
  }
  CHECK(std::memcmp(split.data(), all.data(), all.size() * sizeof(float)) == 0);
}

// One x prepared, then slices of n run on it from several threads at once (as the Java workers
// do): the same bits as one plain call, and a second prepare (larger, then smaller) replaces it.
void prepared_slices() {
  const int n = 70, k = 515;
  ptk_cpu_x* px = nullptr;
  CHECK_STATUS(ptk_cpu_x_create(&px), PTK_OK);
  for (int m : {40, 3}) {
    Data d = make({m, n, k, true}, unsigned(m));
    std::vector<float> want(size_t(m) * n), got(size_t(m) * n, NAN);
    CHECK_STATUS(matmul(d.x.data(), m, k, d.w.data(), n, d.bias.data(), want.data(), n), PTK_OK);
    CHECK_STATUS(ptk_cpu_x_prepare_as(px, d.x.data(), m, k, precision), PTK_OK);
    std::vector<std::thread> threads;
    for (int r0 = 0; r0 < n; r0 += 16) {
      threads.emplace_back([&, r0] {
        int len = std::min(16, n - r0);
        CHECK_STATUS(ptk_cpu_matmul_prepared(px, d.w.data() + size_t(r0) * k, len, d.bias.data() + r0,
                                             got.data() + r0, n),
                     PTK_OK);
      });
    }
    for (auto& t : threads) t.join();
    CHECK(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)) == 0);
  }
  ptk_cpu_x_destroy(px);
  ptk_cpu_x_destroy(nullptr);
}

// Rows of x whose rounding is known, against weights of 1 (each sum exact in f32): 1 + 2^-9 is
// nearer 1; 1 + 2^-8 is halfway between 1 and 1 + 2^-7 and goes to the even one, 1; 1 + 3 2^-8
// is halfway between 1 + 2^-7 and 1 + 2^-6 and goes to 1 + 2^-6. Carried as given, x is exact.
void rounding() {
  const int k = 64, n = 3;
  const float xs[3] = {1.0f + std::ldexp(1.0f, -9), 1.0f + std::ldexp(1.0f, -8), 1.0f + 3 * std::ldexp(1.0f, -8)};
  const float rounded[3] = {1.0f, 1.0f, 1.0f + std::ldexp(1.0f, -6)};
  std::vector<float> x(3 * k);
  for (int t = 0; t < 3; ++t) std::fill(x.begin() + t * k, x.begin() + (t + 1) * k, xs[t]);
  std::vector<uint16_t> w(size_t(n) * k, 0x3F80);
  std::vector<float> y(3 * n, NAN);
  CHECK_STATUS(matmul(x.data(), 3, k, w.data(), n, nullptr, y.data(), n), PTK_OK);
  for (int t = 0; t < 3; ++t) {
    float want = k * (precision == PTK_CPU_X_BF16 ? rounded[t] : xs[t]);
    for (int r = 0; r < n; ++r) {
      if (y[t * n + r] != want) {
        std::fprintf(stderr, "rounding: x = %.9g: y = %.9g, want %.9g\n", xs[t], y[t * n + r], want);
        ++ptk_test_failures();
      }
    }
  }
}

void validation() {
  float x[4] = {}, y[4] = {};
  uint16_t w[4] = {};
  EXPECT_INVALID(ptk_cpu_matmul_bf16(nullptr, 1, 4, w, 1, nullptr, y, 1), "x");
  EXPECT_INVALID(ptk_cpu_matmul_bf16(x, 1, 4, nullptr, 1, nullptr, y, 1), "w");
  EXPECT_INVALID(ptk_cpu_matmul_bf16(x, 1, 4, w, 1, nullptr, nullptr, 1), "y");
  EXPECT_INVALID(ptk_cpu_matmul_bf16(x, 0, 4, w, 1, nullptr, y, 1), "m");
  EXPECT_INVALID(ptk_cpu_matmul_bf16(x, 1, 0, w, 1, nullptr, y, 1), "k");
  EXPECT_INVALID(ptk_cpu_matmul_bf16(x, 1, 4, w, -1, nullptr, y, 1), "n");
  EXPECT_INVALID(ptk_cpu_matmul_bf16(x, 1, 4, w, 2, nullptr, y, 1), "ldy");
  EXPECT_INVALID(ptk_cpu_isa(nullptr), "isa");
  ptk_cpu_x* px = nullptr;
  EXPECT_INVALID(ptk_cpu_x_create(nullptr), "out");
  CHECK_STATUS(ptk_cpu_x_create(&px), PTK_OK);
  EXPECT_INVALID(ptk_cpu_matmul_prepared(px, w, 1, nullptr, y, 1), "ptk_cpu_x_prepare first");
  EXPECT_INVALID(ptk_cpu_x_prepare(nullptr, x, 1, 4), "px");
  EXPECT_INVALID(ptk_cpu_x_prepare(px, nullptr, 1, 4), "x");
  EXPECT_INVALID(ptk_cpu_x_prepare(px, x, 0, 4), "m");
  EXPECT_INVALID(ptk_cpu_x_prepare(px, x, 1, -2), "k");
  EXPECT_INVALID(ptk_cpu_x_prepare_as(px, x, 1, 4, 2), "precision");
  EXPECT_INVALID(ptk_cpu_x_prepare_as(px, x, 1, 4, -1), "precision");
  CHECK_STATUS(ptk_cpu_x_prepare(px, x, 1, 4), PTK_OK);
  EXPECT_INVALID(ptk_cpu_matmul_prepared(nullptr, w, 1, nullptr, y, 1), "px");
  EXPECT_INVALID(ptk_cpu_matmul_prepared(px, nullptr, 1, nullptr, y, 1), "w");
  EXPECT_INVALID(ptk_cpu_matmul_prepared(px, w, 1, nullptr, nullptr, 1), "y");
  EXPECT_INVALID(ptk_cpu_matmul_prepared(px, w, 0, nullptr, y, 1), "n");
  EXPECT_INVALID(ptk_cpu_matmul_prepared(px, w, 2, nullptr, y, 1), "ldy");
  ptk_cpu_x_destroy(px);
  CHECK(std::strcmp(ptk_cpu_isa_name(99), "unknown") == 0);
  CHECK(ptk_cpu_isa_supported(PTK_CPU_ISA_SCALAR) == 1);
}

}  // namespace

int main() {
  const char* forced = std::getenv("PTK_CPU_ISA");
  int isa = -1;
  ptk_status s = ptk_cpu_isa(&isa);
  if (s != PTK_OK) {
    // Only a forced path the CPU lacks may be refused, and the message must name it.
    bool refused_right = forced != nullptr && s == PTK_ERR_UNSUPPORTED && std::strstr(ptk_last_error(), forced);
    float x[1] = {1}, y[1];
    uint16_t w[1] = {0x3F80};
    CHECK_STATUS(ptk_cpu_matmul_bf16(x, 1, 1, w, 1, nullptr, y, 1), PTK_ERR_UNSUPPORTED);
    if (!refused_right) {
      std::fprintf(stderr, "ptk_cpu_isa failed: %s\n", ptk_last_error());
      return 1;
    }
    std::printf("test_cpu_matmul: skipped: %s\n", ptk_last_error());
    return ptk_test_failures() ? 1 : 77;
  }
  std::printf("test_cpu_matmul: path %s (PTK_CPU_ISA=%s)\n", ptk_cpu_isa_name(isa), forced ? forced : "unset");
  if (forced != nullptr) CHECK(std::strcmp(ptk_cpu_isa_name(isa), forced) == 0);
  const Case cases[] = {
      {1, 7, 50, true},    {1, 1, 1, false},     {2, 5, 7, true},      {3, 9, 37, false},   {1, 13, 1536, true},
      {8, 21, 1536, true}, {4, 6, 2100, false},  {16, 19, 300, true},  {17, 18, 260, true}, {40, 33, 1030, false},
      {23, 16, 16, true},  {64, 70, 515, true},   {100, 45, 700, true}, {70, 150, 300, false},
      {20, 9, 2600, true},  {13, 20, 100, true},  {7, 5, 64, false},
  };
  for (int p : {PTK_CPU_X_F32, PTK_CPU_X_BF16}) {
    precision = p;
    std::printf(" x %s\n", p == PTK_CPU_X_F32 ? "as given (PTK_CPU_X_F32)" : "rounded to bf16 (PTK_CPU_X_BF16)");
    for (const Case& c : cases) against_reference(c, isa);
    batch_invariance();
    prepared_slices();
    rounding();
  }
  validation();
  return ptk_test_result("test_cpu_matmul");
}
