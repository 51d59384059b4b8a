// The CPU matmul's C ABI: argument checks, the choice of ISA path (once per process) and the
// per-thread scratch. The kernels themselves are in cpu_matmul_<isa>.cpp.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include <vector>

#include "cpu_matmul.h"
#include "error.h"
#include "ptk/common.h"
#include "ptk/cpu.h"

namespace {

constexpr const char* kEnv = "PTK_CPU_ISA";
// In order of preference, the best last.
constexpr int kLevels[] = {PTK_CPU_ISA_SCALAR, PTK_CPU_ISA_AVX2, PTK_CPU_ISA_AVX512F, PTK_CPU_ISA_AVX512BF16,
                           PTK_CPU_ISA_AMX};

#if defined(__x86_64__)
// AMX: CPUID says AMX-TILE and AMX-BF16 (leaf 7, EDX bits 24 and 22), and Linux grants this
// process the tile data state (off by default: it makes every signal frame 8 KiB larger, so a
// process asks once; the grant covers all its threads). The AMX file is also built with
// AVX-512F, which every AMX CPU has; it is checked all the same.
bool amx_usable() {
  static const bool usable = [] {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    if (!(d & (1u << 24)) || !(d & (1u << 22)) || !__builtin_cpu_supports("avx512f")) return false;
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return usable;
}
#endif

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
    case PTK_CPU_ISA_AVX512BF16:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512bf16");
    case PTK_CPU_ISA_AMX:
      return amx_usable();
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
  for (int isa : kLevels) {  // the last one this CPU runs
    if (supported(isa)) c.isa = isa;
  }
  const char* forced = getenv(kEnv);
  if (forced == nullptr || forced[0] == '\0') return c;
  for (int isa : kLevels) {
    if (strcmp(forced, ptk_cpu_isa_name(isa)) != 0) continue;
    if (!supported(isa)) {
      snprintf(c.error, sizeof c.error, "%s=%s: this CPU cannot run %s (best here: %s)", kEnv, forced, forced,
               ptk_cpu_isa_name(c.isa));
    }
    c.isa = isa;
    return c;
  }
  snprintf(c.error, sizeof c.error, "%s=%s: unknown path (scalar, avx2, avx512f, avx512bf16 or amx)", kEnv, forced);
  return c;
}

const Choice& choice() {
  static const Choice c = choose();
  return c;
}

// The f32 vector paths' entry (the bf16 paths, which work on prepared x, are called on their own).
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

#if defined(__x86_64__)
// The first 64-byte boundary in p.
float* aligned(const float* p) {
  return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t(63));
}
#endif

}  // namespace

// x as prepared for the path in use (ptk/cpu.h): the caller's x (or, rounded to bf16, a copy),
// and on the bf16 paths its halves (amx: in tiles; avx512bf16: by rows, hi alone when rounded).
struct ptk_cpu_x {
  const float* x = nullptr;
  int m = 0, k = 0;  // m == 0: nothing prepared
  int halves = 2;    // avx512bf16: halves per row
  std::vector<float> rounded;
  std::vector<float> packed;
  std::vector<uint16_t> halves_data;
};

extern "C" {

const char* ptk_cpu_isa_name(int isa) {
  switch (isa) {
    case PTK_CPU_ISA_SCALAR:
      return "scalar";
    case PTK_CPU_ISA_AVX2:
      return "avx2";
    case PTK_CPU_ISA_AVX512F:
      return "avx512f";
    case PTK_CPU_ISA_AMX:
      return "amx";
    case PTK_CPU_ISA_AVX512BF16:
      return "avx512bf16";
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

ptk_status ptk_cpu_x_create(ptk_cpu_x** out) {
  return ptk::no_throw([&]() -> ptk_status {
    PTK_REQUIRE_NOT_NULL(out);
    *out = new ptk_cpu_x();
    return ptk::ok();
  });
}

void ptk_cpu_x_destroy(ptk_cpu_x* px) { delete px; }

ptk_status ptk_cpu_x_prepare_as(ptk_cpu_x* px, const float* x, int m, int k, int precision) {
  return ptk::no_throw([&]() -> ptk_status {
    PTK_REQUIRE_NOT_NULL(px);
    PTK_REQUIRE_NOT_NULL(x);
    PTK_REQUIRE(m > 0, "m must be > 0, got %d", m);
    PTK_REQUIRE(k > 0, "k must be > 0, got %d", k);
    PTK_REQUIRE(precision == PTK_CPU_X_F32 || precision == PTK_CPU_X_BF16,
                "precision must be PTK_CPU_X_F32 (0) or PTK_CPU_X_BF16 (1), got %d", precision);
    const Choice& c = choice();
    if (c.error[0] != '\0') return ptk::fail(PTK_ERR_UNSUPPORTED, "%s", c.error);
    px->m = 0;  // not prepared, should anything below fail
    const bool rounded = precision == PTK_CPU_X_BF16;
    px->halves = rounded ? 1 : 2;
    if (rounded && c.isa != PTK_CPU_ISA_AVX512BF16) {
      // The other paths multiply the rounded copy as they would any x (amx: its lo half is zero).
      const size_t count = size_t(m) * k;
      if (px->rounded.size() < count) px->rounded.resize(count);
      for (size_t i = 0; i < count; ++i) px->rounded[i] = ptk::bf16_to_float(ptk::float_to_bf16(x[i]));
      x = px->rounded.data();
    }
#if defined(__x86_64__)
    if (c.isa == PTK_CPU_ISA_AMX) {
      // + 16 floats: the packed tiles start on a 64-byte boundary
      size_t need = ptk::cpu::amx_packed_floats(m, k) + 16;
      if (px->packed.size() < need) px->packed.resize(need);
      ptk::cpu::amx_pack(x, m, k, aligned(px->packed.data()));
    }
    if (c.isa == PTK_CPU_ISA_AVX512BF16) {
      size_t need = ptk::cpu::avx512bf16_packed_halves(m, k, px->halves);
      if (px->halves_data.size() < need) px->halves_data.resize(need);
      ptk::cpu::avx512bf16_pack(x, m, k, px->halves, px->halves_data.data());
    }
#endif
    px->x = x;
    px->m = m;
    px->k = k;
    return ptk::ok();
  });
}

ptk_status ptk_cpu_x_prepare(ptk_cpu_x* px, const float* x, int m, int k) {
  return ptk_cpu_x_prepare_as(px, x, m, k, PTK_CPU_X_F32);
}

ptk_status ptk_cpu_matmul_prepared(const ptk_cpu_x* px, const uint16_t* w, int n, const float* bias, float* y,
                                   int ldy) {
  return ptk::no_throw([&]() -> ptk_status {
    PTK_REQUIRE_NOT_NULL(px);
    PTK_REQUIRE(px->m > 0, "px holds no prepared x (ptk_cpu_x_prepare first)");
    PTK_REQUIRE_NOT_NULL(w);
    PTK_REQUIRE_NOT_NULL(y);
    PTK_REQUIRE(n > 0, "n must be > 0, got %d", n);
    PTK_REQUIRE(ldy >= n, "ldy must be >= n (%d), got %d", n, ldy);
    const Choice& c = choice();
    if (c.error[0] != '\0') return ptk::fail(PTK_ERR_UNSUPPORTED, "%s", c.error);
    // Per thread, grown to the largest call it has seen: the caller's threads are long-lived.
    thread_local std::vector<float> scratch;
#if defined(__x86_64__)
    if (c.isa == PTK_CPU_ISA_AMX) {
      size_t need = ptk::cpu::amx_sums_floats(px->m);
      if (scratch.size() < need) scratch.resize(need);
      ptk::cpu::matmul_amx(px->x, aligned(px->packed.data()), px->m, px->k, w, n, bias, y, ldy, scratch.data());
      return ptk::ok();
    }
    if (c.isa == PTK_CPU_ISA_AVX512BF16) {
      ptk::cpu::matmul_avx512bf16(px->halves_data.data(), px->halves, px->m, px->k, w, n, bias, y, ldy);
      return ptk::ok();
    }
#endif
    size_t need = ptk::cpu::scratch_floats(px->m);
    if (scratch.size() < need) scratch.resize(need);
    entry(c.isa)(px->x, px->m, px->k, w, n, bias, y, ldy, scratch.data());
    return ptk::ok();
  });
}

ptk_status ptk_cpu_matmul_bf16(const float* x, int m, int k, const uint16_t* w, int n, const float* bias, float* y,
                               int ldy) {
  thread_local ptk_cpu_x px;
  ptk_status s = ptk_cpu_x_prepare(&px, x, m, k);
  return s != PTK_OK ? s : ptk_cpu_matmul_prepared(&px, w, n, bias, y, ldy);
}

}  // extern "C"
