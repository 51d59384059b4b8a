// Times ptk_cpu_matmul_bf16 on the ParaThinker-1.5B projection shapes, n split across T threads
// as the Java WorkerPool splits it, beside this machine's read bandwidth (the decode floor) and
// the multiply-add peak of the ISA path in use (the prefill ceiling), both measured in the same
// run. Usage: matmul_bench [threads [result.json [f32|bf16]]]   (PTK_CPU_ISA forces a path; the
// last argument, x as given or rounded to bf16, is the ptk_cpu_x_precision of every matmul);
// matmul_bench --bandwidth threads result.json: the read bandwidth alone.
// Built and run by bench/cpu/matmul-bench.sh.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "ptk/cpu.h"

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Best of `reps` runs of f on `threads` threads, each given its index; `next` runs, untimed,
// after each.
template <class F, class G>
double best_time(int threads, int reps, F f, G next) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    double t0 = now();
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back(f, i);
    f(0);
    for (auto& t : pool) t.join();
    best = std::min(best, now() - t0);
    next();
  }
  return best;
}

template <class F>
double best_time(int threads, int reps, F f) {
  return best_time(threads, reps, f, [] {});
}

// Bytes of weight copies a matmul's runs rotate through: several times any last-level cache here.
constexpr size_t kColdBytes = size_t(1) << 30;

// Read bandwidth (the program is built with -mavx2): every thread sums its share of a 1 GiB buffer
// with 256-bit loads, as 4 streams read in turn (its share's quarters), each prefetched into L2
// 4 KiB ahead. Without the prefetch a core keeps too few misses in flight: on Zen 4 (2 cores)
// 32-35 GB/s against 42-43 with it, which is what the matmul's own prefetched reads reach (one
// stream with the prefetch: the same 43; 16 KiB ahead: 40). A floor from the lower figure
// would be one a kernel beats.
double read_bandwidth(int threads) {
  constexpr int kStreams = 4;
  size_t bytes = size_t(1) << 30;
  std::vector<uint8_t> buf(bytes, 1);
  volatile int sink = 0;
  double t = best_time(threads, 5, [&](int i) {
    const size_t quarter = bytes / threads / kStreams / 32;  // 32-byte loads per stream
    const __m256i* p = reinterpret_cast<const __m256i*>(buf.data()) + size_t(i) * kStreams * quarter;
    __m256i acc[kStreams];
    for (auto& a : acc) a = _mm256_setzero_si256();
    constexpr size_t kAhead = 4096 / 32;  // loads
    for (size_t j = 0; j < quarter; ++j)
      for (int s = 0; s < kStreams; ++s) {
        if (j % 2 == 0) _mm_prefetch(reinterpret_cast<const char*>(p + s * quarter + j + kAhead), _MM_HINT_T1);
        acc[s] = _mm256_add_epi32(acc[s], _mm256_loadu_si256(p + s * quarter + j));
      }
    __m256i sum = acc[0];
    for (int s = 1; s < kStreams; ++s) sum = _mm256_add_epi32(sum, acc[s]);
    sink = sink + _mm256_extract_epi32(sum, 0);
  });
  return bytes / t;
}

// The multiply-add peak of the path in use, measured: every thread runs independent chains of
// the path's widest operation on registers, with nothing loaded. FLOP = 2 per product. (Each
// chain is its own function: a target attribute does not reach into a lambda.)
constexpr long kFmaIters = 20000000, kTileIters = 2000000;

__attribute__((target("avx2,fma"))) void fma_chains_avx2() {
  __m256 a[10];
  for (auto& v : a) v = _mm256_set1_ps(1.f);
  const __m256 b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-3f);
  for (long i = 0; i < kFmaIters; ++i) {
#pragma GCC unroll 10
    for (auto& v : a) v = _mm256_fmadd_ps(v, b, c);  // unrolled, so that a[] lives in registers
  }
  float sum = 0;  // every chain reaches the result, or the compiler drops the ones that do not
  for (auto& v : a) sum += _mm256_cvtss_f32(v);
  volatile float sink = sum;
  (void)sink;
}

__attribute__((target("avx512f"))) void fma_chains_avx512() {
  __m512 a[10];
  for (auto& v : a) v = _mm512_set1_ps(1.f);
  const __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-3f);
  for (long i = 0; i < kFmaIters; ++i) {
#pragma GCC unroll 10
    for (auto& v : a) v = _mm512_fmadd_ps(v, b, c);
  }
  float sum = 0;  // every chain reaches the result, or the compiler drops the ones that do not
  for (auto& v : a) sum += _mm512_cvtss_f32(v);
  volatile float sink = sum;
  (void)sink;
}

// VDPBF16PS: 16 lanes, each += 2 products of bf16 pairs.
__attribute__((target("avx512f,avx512bf16"))) void dot_chains_avx512bf16() {
  __m512 a[10];
  for (auto& v : a) v = _mm512_setzero_ps();
  const __m512bh b = (__m512bh)_mm512_set1_epi32(0x3F803F80), c = (__m512bh)_mm512_set1_epi32(0x3A833A83);
  for (long i = 0; i < kFmaIters; ++i) {
#pragma GCC unroll 10
    for (auto& v : a) v = _mm512_dpbf16_ps(v, b, c);
  }
  float sum = 0;  // every chain reaches the result, or the compiler drops the ones that do not
  for (auto& v : a) sum += _mm512_cvtss_f32(v);
  volatile float sink = sum;
  (void)sink;
}

// TDPBF16PS on 4 accumulator tiles (16 x 16 f32 each += 16 x 32 by 32 x 16 bf16). The library
// has already asked the OS for the tile state (ptk_cpu_isa chose amx).
__attribute__((target("amx-tile,amx-bf16"))) void tile_chains_amx() {
  alignas(64) uint8_t cfg[64] = {1};
  for (int i = 0; i < 8; ++i) {
    cfg[16 + 2 * i] = 64;  // bytes per row
    cfg[48 + i] = 16;      // rows
  }
  alignas(64) static thread_local uint16_t ab[16 * 32];
  __asm__ volatile("" : : "r"(cfg) : "memory");  // GCC 12's _tile_loadconfig claims to read 8 bytes only
  _tile_loadconfig(cfg);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, ab, 64);
  _tile_loadd(5, ab, 64);
  _tile_loadd(6, ab, 64);
  _tile_loadd(7, ab, 64);
  for (long i = 0; i < kTileIters; ++i) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_release();
}

double peak_flops(int isa, int threads) {
  switch (isa) {
    case PTK_CPU_ISA_AVX2:
      return threads * double(kFmaIters) * 10 * 8 * 2 / best_time(threads, 3, [](int) { fma_chains_avx2(); });
    case PTK_CPU_ISA_AVX512F:
      return threads * double(kFmaIters) * 10 * 16 * 2 / best_time(threads, 3, [](int) { fma_chains_avx512(); });
    case PTK_CPU_ISA_AVX512BF16:
      return threads * double(kFmaIters) * 10 * 32 * 2 / best_time(threads, 3, [](int) { dot_chains_avx512bf16(); });
    case PTK_CPU_ISA_AMX:
      return threads * double(kTileIters) * 4 * 16 * 16 * 32 * 2 / best_time(threads, 3, [](int) { tile_chains_amx(); });
    default:
      return 0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--bandwidth") == 0) {
    if (argc != 4 || std::atoi(argv[2]) < 1) {
      std::fprintf(stderr, "usage: matmul_bench --bandwidth threads result.json (threads >= 1)\n");
      return 2;
    }
    FILE* out = std::fopen(argv[3], "w");
    if (out == nullptr) {
      std::perror(argv[3]);
      return 1;
    }
    double bw = read_bandwidth(std::atoi(argv[2]));
    std::printf("read bandwidth %.2f GB/s\n", bw / 1e9);
    std::fprintf(out, "{\"read_bandwidth_gb_s\": %.3f}\n", bw / 1e9);
    std::fclose(out);
    return 0;
  }
  int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const char* precision_name = argc > 3 ? argv[3] : "f32";
  int precision = -1;
  if (std::strcmp(precision_name, "f32") == 0) precision = PTK_CPU_X_F32;
  if (std::strcmp(precision_name, "bf16") == 0) precision = PTK_CPU_X_BF16;
  if (threads < 1 || precision < 0 || argc > 4) {
    std::fprintf(stderr, "usage: matmul_bench [threads [result.json [f32|bf16]]] (threads >= 1)\n");
    return 2;
  }
  FILE* json = argc > 2 ? std::fopen(argv[2], "w") : nullptr;
  if (argc > 2 && json == nullptr) {
    std::perror(argv[2]);
    return 1;
  }
  int isa = 0;
  if (ptk_cpu_isa(&isa) != PTK_OK) {
    std::fprintf(stderr, "%s\n", ptk_last_error());
    return 1;
  }
  double bw = read_bandwidth(threads);
  double peak = peak_flops(isa, threads);
  std::printf("path %s, x %s, %d threads, read bandwidth %.2f GB/s, multiply-add peak %.0f GFLOP/s (measured)\n",
              ptk_cpu_isa_name(isa), precision_name, threads, bw / 1e9, peak / 1e9);
  std::printf("%-8s %6s %6s %4s %10s %10s %9s %9s\n", "shape", "n", "k", "m", "ms", "floor ms", "x floor", "of peak");
  if (json != nullptr) {
    std::fprintf(json,
                 "{\"path\": \"%s\", \"x\": \"%s\", \"threads\": %d, \"read_bandwidth_gb_s\": %.3f, "
                 "\"peak_gflops\": %.1f, \"matmuls\": [",
                 ptk_cpu_isa_name(isa), precision_name, threads, bw / 1e9, peak / 1e9);
  }
  const char* separator = "";
  struct Shape {
    const char* name;
    int n, k;
  };
  const Shape shapes[] = {{"gate_up", 17920, 1536}, {"down", 1536, 8960}, {"qkv", 2048, 1536}};
  for (const Shape& s : shapes) {
    // Copies of the weights, taken in turn, enough to fill the last-level cache several times over:
    // each timed run reads its weights from memory as a decode step does (one layer's matmul reads
    // weights that the other layers have pushed out of the cache), not from where the run before
    // left them.
    const size_t count = size_t(s.n) * s.k;
    const int copies = int(std::max<size_t>(2, (size_t(kColdBytes) + 2 * count - 1) / (2 * count)));
    std::vector<std::vector<uint16_t>> ws(copies, std::vector<uint16_t>(count));
    for (auto& w : ws)
      for (size_t i = 0; i < count; ++i) w[i] = uint16_t(0x3C00 + (i * 2654435761u >> 20) % 512);  // ~ +-0.01
    int turn = 0;
    for (int m : {1, 8, 16, 64, 512}) {
      std::vector<float> x(size_t(m) * s.k, 0.5f), y(size_t(m) * s.n);
      int reps = m == 512 ? 3 : 10;
      double t = best_time(threads, reps, [&](int i) {
        const uint16_t* w = ws[turn % copies].data();
        // 16-row pieces, taken in turn: the Java pool hands out contiguous pieces the same way.
        int per = (s.n / 16 + threads - 1) / threads * 16;
        int r0 = i * per, r1 = std::min(s.n, r0 + per);
        // Each thread prepares its own x, as ptk_cpu_matmul_bf16 does.
        thread_local ptk_cpu_x* px = nullptr;
        if (r0 < r1 && ((px == nullptr && ptk_cpu_x_create(&px) != PTK_OK) ||
                        ptk_cpu_x_prepare_as(px, x.data(), m, s.k, precision) != PTK_OK ||
                        ptk_cpu_matmul_prepared(px, w + size_t(r0) * s.k, r1 - r0, nullptr, y.data() + r0, s.n) !=
                            PTK_OK)) {
          std::fprintf(stderr, "%s\n", ptk_last_error());
          std::exit(1);
        }
      }, [&] { ++turn; });
      double floor = double(count) * 2 / bw;
      double flops = 2.0 * m * s.n * s.k;
      std::printf("%-8s %6d %6d %4d %10.3f %10.3f %9.2f %8.1f%%\n", s.name, s.n, s.k, m, t * 1e3, floor * 1e3,
                  t / floor, peak > 0 ? 100 * flops / t / peak : 0.0);
      if (json != nullptr) {
        std::fprintf(json,
                     "%s\n  {\"shape\": \"%s\", \"n\": %d, \"k\": %d, \"m\": %d, \"ms\": %.4f, \"floor_ms\": %.4f, "
                     "\"fraction_of_peak\": %.4f}",
                     separator, s.name, s.n, s.k, m, t * 1e3, floor * 1e3, peak > 0 ? flops / t / peak : 0.0);
        separator = ",";
      }
    }
  }
  if (json != nullptr) {
    std::fprintf(json, "\n]}\n");
    std::fclose(json);
  }
  return 0;
}
