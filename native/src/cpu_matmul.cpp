// The CPU matmul's C ABI: argument checks, the choice of ISA path (once per process) and the
// per-thread scratch. The kernels themselves are in cpu_matmul_<isa>.cpp.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "cpu_matmul.h"
#include "error.h"
#include "ptk/cpu.h"

namespace {

constexpr const char* kEnv = "PTK_CPU_ISA";

bool supported(int isa) {
  switch (isa) {
    case PTK_CPU_ISA_SCALAR:
      return true;
#if defined(__x86_64__)
    // __builtin_cpu_supports also checks that the OS saves the registers (XGETBV).
    case PTK_CPU_ISA_AVX2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case PTK_CPU_ISA_AVX512F:
      return __builtin_cpu_supports("avx512f");
#endif
    default:
      return false;
  }
}

// The path in use, or why there is none (a bad PTK_CPU_ISA), decided at the first call.
struct Choice {
  int isa = PTK_CPU_ISA_SCALAR;
  char error[256] = "";
};

Choice choose() {
  Choice c;
  for (int isa : {PTK_CPU_ISA_AVX512F, PTK_CPU_ISA_AVX2}) {
    if (supported(isa)) {
      c.isa = isa;
      break;
    }
  }
  const char* forced = getenv(kEnv);
  if (forced == nullptr || forced[0] == '\0') return c;
  for (int isa : {PTK_CPU_ISA_SCALAR, PTK_CPU_ISA_AVX2, PTK_CPU_ISA_AVX512F}) {
    if (strcmp(forced, ptk_cpu_isa_name(isa)) != 0) continue;
    if (!supported(isa)) {
      snprintf(c.error, sizeof c.error, "%s=%s: this CPU cannot run %s (best here: %s)", kEnv, forced, forced,
               ptk_cpu_isa_name(c.isa));
    }
    c.isa = isa;
    return c;
  }
  snprintf(c.error, sizeof c.error, "%s=%s: unknown path (scalar, avx2 or avx512f)", kEnv, forced);
  return c;
}

const Choice& choice() {
  static const Choice c = choose();
  return c;
}

ptk::cpu::MatmulFn entry(int isa) {
  switch (isa) {
#if defined(__x86_64__)
    case PTK_CPU_ISA_AVX2:
      return ptk::cpu::matmul_avx2;
    case PTK_CPU_ISA_AVX512F:
      return ptk::cpu::matmul_avx512f;
#endif
    default:
      return ptk::cpu::matmul_scalar;
  }
}

}  // namespace

extern "C" {

const char* ptk_cpu_isa_name(int isa) {
  switch (isa) {
    case PTK_CPU_ISA_SCALAR:
      return "scalar";
    case PTK_CPU_ISA_AVX2:
      return "avx2";
    case PTK_CPU_ISA_AVX512F:
      return "avx512f";
    default:
      return "unknown";
  }
}

int ptk_cpu_isa_supported(int isa) { return supported(isa) ? 1 : 0; }

ptk_status ptk_cpu_isa(int* isa) {
  PTK_REQUIRE_NOT_NULL(isa);
  const Choice& c = choice();
  if (c.error[0] != '\0') return ptk::fail(PTK_ERR_UNSUPPORTED, "%s", c.error);
  *isa = c.isa;
  return ptk::ok();
}

ptk_status ptk_cpu_matmul_bf16(const float* x, int m, int k, const uint16_t* w, int n, const float* bias, float* y,
                               int ldy) {
  return ptk::no_throw([&]() -> ptk_status {
    PTK_REQUIRE_NOT_NULL(x);
    PTK_REQUIRE_NOT_NULL(w);
    PTK_REQUIRE_NOT_NULL(y);
    PTK_REQUIRE(m > 0, "m must be > 0, got %d", m);
    PTK_REQUIRE(n > 0, "n must be > 0, got %d", n);
    PTK_REQUIRE(k > 0, "k must be > 0, got %d", k);
    PTK_REQUIRE(ldy >= n, "ldy must be >= n (%d), got %d", n, ldy);
    const Choice& c = choice();
    if (c.error[0] != '\0') return ptk::fail(PTK_ERR_UNSUPPORTED, "%s", c.error);
    // Per thread, grown to the largest call it has seen: the caller's threads are long-lived.
    thread_local std::vector<float> scratch;
    size_t need = ptk::cpu::scratch_floats(m);
    if (scratch.size() < need) scratch.resize(need);
    entry(c.isa)(x, m, k, w, n, bias, y, ldy, scratch.data());
    return ptk::ok();
  });
}

}  // extern "C"
