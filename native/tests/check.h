// A minimal test harness for the native tests: CHECK records a failure and continues; the test's
// main returns ptk_test_result() (0 pass, 1 fail, 77 skipped: ctest's SKIP_RETURN_CODE).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "ptk/ptk.h"

inline int& ptk_test_failures() {
  static int failures = 0;
  return failures;
}

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++ptk_test_failures();                                                 \
    }                                                                        \
  } while (0)

#define CHECK_STATUS(expr, expected)                                                      \
  do {                                                                                    \
    ptk_status s_ = (expr);                                                               \
    if (s_ != (expected)) {                                                               \
      std::fprintf(stderr, "%s:%d: %s returned %d (%s: %s), expected %d\n", __FILE__, __LINE__, \
                   #expr, (int)s_, ptk_status_string(s_), ptk_last_error(), (int)(expected)); \
      ++ptk_test_failures();                                                              \
    }                                                                                     \
  } while (0)

// `expr` must fail with PTK_ERR_INVALID_ARGUMENT and a message naming `name`.
#define EXPECT_INVALID(expr, name)                                                         \
  do {                                                                                     \
    CHECK_STATUS(expr, PTK_ERR_INVALID_ARGUMENT);                                          \
    if (std::strstr(ptk_last_error(), name) == nullptr) {                                  \
      std::fprintf(stderr, "%s:%d: message \"%s\" does not name %s\n", __FILE__, __LINE__, \
                   ptk_last_error(), name);                                                \
      ++ptk_test_failures();                                                               \
    }                                                                                      \
  } while (0)

// Worst |got - want| / (atol + rtol |want|) over two equal-length arrays (<= 1 passes); NaN never
// passes, and infinities must match exactly. *max_rel: the worst relative error where |want| > atol.
inline double tolerance_ratio(const std::vector<double>& got, const std::vector<double>& want, double atol, double rtol,
                              double* max_rel) {
  if (got.size() != want.size()) return INFINITY;
  double worst = 0;
  *max_rel = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(got[i])) return INFINITY;
    if (std::isinf(want[i]) || std::isinf(got[i])) {
      if (got[i] != want[i]) return INFINITY;
      continue;
    }
    const double err = std::fabs(got[i] - want[i]);
    worst = std::max(worst, err / (atol + rtol * std::fabs(want[i])));
    if (std::fabs(want[i]) > atol) *max_rel = std::max(*max_rel, err / std::fabs(want[i]));
  }
  return worst;
}

// Whether the GPU half of a test can run: a CUDA build and at least one device.
inline bool ptk_test_has_device() {
  int devices = 0;
  return ptk_built_with_cuda() && ptk_device_count(&devices) == PTK_OK && devices > 0;
}

inline int ptk_test_result(const char* name) {
  std::printf("%s: %s\n", name, ptk_test_failures() ? "FAILED" : "passed");
  return ptk_test_failures() ? 1 : 0;
}
