// Times ptk_cpu_matmul_bf16 on the ParaThinker-1.5B projection shapes, n split across T threads
// as the Java WorkerPool splits it, beside this machine's read bandwidth (the decode floor) and
// the FMA peak of the ISA path in use (the prefill ceiling). Usage: matmul_bench [threads] [GHz].
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

// Best of `reps` runs of f on `threads` threads, each given its index.
template <class F>
double best_time(int threads, int reps, F f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    double t0 = now();
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back(f, i);
    f(0);
    for (auto& t : pool) t.join();
    best = std::min(best, now() - t0);
  }
  return best;
}

// Read bandwidth (the program is built with -mavx2): every thread sums its share of a 1 GiB buffer with 256-bit loads.
double read_bandwidth(int threads) {
  size_t bytes = size_t(1) << 30;
  std::vector<uint8_t> buf(bytes, 1);
  volatile int sink = 0;
  double t = best_time(threads, 5, [&](int i) {
    size_t per = bytes / threads;
    const __m256i* p = reinterpret_cast<const __m256i*>(buf.data() + per * i);
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    for (size_t j = 0; j + 4 <= per / 32; j += 4) {
      a = _mm256_add_epi32(a, _mm256_loadu_si256(p + j));
      b = _mm256_add_epi32(b, _mm256_loadu_si256(p + j + 1));
      c = _mm256_add_epi32(c, _mm256_loadu_si256(p + j + 2));
      d = _mm256_add_epi32(d, _mm256_loadu_si256(p + j + 3));
    }
    sink = sink + _mm256_extract_epi32(_mm256_add_epi32(_mm256_add_epi32(a, b), _mm256_add_epi32(c, d)), 0);
  });
  return bytes / t;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  double ghz = argc > 2 ? std::atof(argv[2]) : 0;
  int isa = 0;
  if (ptk_cpu_isa(&isa) != PTK_OK) {
    std::fprintf(stderr, "%s\n", ptk_last_error());
    return 1;
  }
  int lanes = isa == PTK_CPU_ISA_AVX512F ? 16 : isa == PTK_CPU_ISA_AVX2 ? 8 : 1;
  double bw = read_bandwidth(threads);
  // Two FMA pipes per core (Zen 2-4, Skylake-SP and later): 2 * lanes * 2 flops per cycle.
  double peak = ghz > 0 ? threads * ghz * 1e9 * 2 * lanes * 2 : 0;
  std::printf("path %s, %d threads, read bandwidth %.2f GB/s, FMA peak %.0f GFLOP/s (%.2f GHz given)\n",
              ptk_cpu_isa_name(isa), threads, bw / 1e9, peak / 1e9, ghz);
  std::printf("%-8s %6s %6s %4s %10s %10s %9s %9s\n", "shape", "n", "k", "m", "ms", "floor ms", "x floor", "of peak");
  struct Shape {
    const char* name;
    int n, k;
  };
  const Shape shapes[] = {{"gate_up", 17920, 1536}, {"down", 1536, 8960}, {"qkv", 2048, 1536}};
  for (const Shape& s : shapes) {
    std::vector<uint16_t> w(size_t(s.n) * s.k);
    for (size_t i = 0; i < w.size(); ++i) w[i] = uint16_t(0x3C00 + (i * 2654435761u >> 20) % 512);  // ~ +-0.01
    for (int m : {1, 8, 512}) {
      std::vector<float> x(size_t(m) * s.k, 0.5f), y(size_t(m) * s.n);
      int reps = m == 512 ? 2 : 10;
      double t = best_time(threads, reps, [&](int i) {
        // 16-row pieces, taken in turn: the Java pool hands out contiguous pieces the same way.
        int per = (s.n / 16 + threads - 1) / threads * 16;
        int r0 = i * per, r1 = std::min(s.n, r0 + per);
        if (r0 < r1 && ptk_cpu_matmul_bf16(x.data(), m, s.k, w.data() + size_t(r0) * s.k, r1 - r0, nullptr,
                                           y.data() + r0, s.n) != PTK_OK) {
          std::fprintf(stderr, "%s\n", ptk_last_error());
          std::exit(1);
        }
      });
      double floor = double(w.size()) * 2 / bw;
      double flops = 2.0 * m * s.n * s.k;
      std::printf("%-8s %6d %6d %4d %10.3f %10.3f %9.2f %8.1f%%\n", s.name, s.n, s.k, m, t * 1e3, floor * 1e3,
                  t / floor, peak > 0 ? 100 * flops / t / peak : 0.0);
    }
  }
  return 0;
}
