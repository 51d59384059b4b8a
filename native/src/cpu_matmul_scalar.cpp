// The portable path of the CPU matmul: one lane, plain multiply and add (built with the library's
// default flags, so it runs on any CPU).
#include "cpu_matmul_kernel.h"

namespace {
struct Scalar {
  static constexpr int kLanes = 1;
  using reg = float;
  static reg zero() { return 0.f; }
  static reg load(const float* p) { return *p; }
  static void store(float* p, reg v) { *p = v; }
  static reg widen(const uint16_t* p) { return bf16_value(*p); }
  static reg fma(reg a, reg b, reg c) { return a * b + c; }
};
}  // namespace

namespace ptk::cpu {
void matmul_scalar(const float* x, int m, int k, const uint16_t* w, int n, const float* bias, float* y, int ldy,
                   float* scratch) {
  Kernel<Scalar>::run(x, m, k, w, n, bias, y, ldy, scratch);
}
}  // namespace ptk::cpu
