// ptk_bench: times the ptk kernels through the C ABI with CUDA events and reports bandwidth
// against the card's own device-to-device copy bandwidth, measured in the same run.
//
//   ptk_bench [--dry-run] [--json FILE] [--torch FILE] [--commit SHA] [--date DATE] [--quick] [--gemv-only]
//
// --gemv-only times ptk_gemv alone (the projections of the 1.5B model at 1-16 rows) in the math
// PTK_GEMV_MATH selects (tensor cores unless =fma); gpu-check.sh runs it for fma after the full set.
//
// Each measurement: warm-up, then 7 timings of R back-to-back runs (median of the per-run means);
// the K/V pools rotate through enough copies to exceed 3x L2, so that no run reads from cache.
// Inputs are random bf16 (never zeros). --torch FILE reads "P ctx microseconds" lines of PyTorch
// SDPA decode on contiguous K/V (bench/gpu/sdpa.py) and puts them beside paged decode.
// --dry-run prints the benchmark plan (shapes, bytes, work split) without touching a GPU.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "ptk/decoder.h"
#include "ptk/ptk.h"

namespace {

constexpr int kHq = 12, kHkv = 2, kD = 128, kPage = 16;
constexpr double kKvBytesPerToken = 2.0 * kHkv * kD * 2;  // K and V, bf16, one layer

struct Options {
  bool dry_run = false, quick = false, gemv_only = false;
  std::string json, torch, commit = "unknown", date = "unknown";
};

struct Result {
  std::string kernel, shape;
  double us = 0, bytes = 0, flops = 0, torch_us = NAN;
  std::string note;
};

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

#define ABI(expr)                                                                                    \
  do {                                                                                               \
    ptk_status s_ = (expr);                                                                          \
    if (s_ != PTK_OK && !(g_dry && (s_ == PTK_ERR_NO_DEVICE || s_ == PTK_ERR_NO_CUDA || s_ == PTK_ERR_CUDA))) \
      throw std::runtime_error(std::string(#expr) + ": " + ptk_last_error());                         \
  } while (0)

bool g_dry = false;
size_t g_l2 = 50u << 20;
int g_sms = 132;

__global__ void fill_random_bf16(uint16_t* p, size_t n, uint32_t seed) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    uint32_t h = uint32_t(i) * 2654435761u ^ seed;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    const float x = (h & 0xFFFFFF) / float(0x800000) - 1.f;  // [-1, 1)
    uint32_t bits;
    memcpy(&bits, &x, 4);
    p[i] = uint16_t(bits >> 16);
  }
}

// Device memory that lives for one benchmark; random contents.
struct Buffers {
  std::vector<void*> owned;
  ~Buffers() {
    for (void* p : owned) cudaFree(p);
  }
  uint16_t* bf16(size_t n) {
    if (g_dry) return reinterpret_cast<uint16_t*>(uintptr_t(256));  // aligned stand-in, never dereferenced
    void* p = nullptr;
    check(cudaMalloc(&p, n * 2 + 16), "cudaMalloc");
    owned.push_back(p);
    fill_random_bf16<<<1024, 256>>>(static_cast<uint16_t*>(p), n, uint32_t(owned.size()) * 7919u);
    check(cudaGetLastError(), "fill");
    return static_cast<uint16_t*>(p);
  }
  float* f32(size_t n) { return reinterpret_cast<float*>(bf16(2 * n)); }
  // Device bytes set to zero (a gemv's split workspace); null for none.
  void* zeros(size_t bytes) {
    if (bytes == 0) return nullptr;
    void* p = bf16(bytes / 2 + 8);
    if (!g_dry) check(cudaMemset(p, 0, bytes), "cudaMemset");
    return p;
  }
};

// Copies of a pool needed so that rotating through them exceeds 3x L2.
int rotation_sets(double bytes) { return std::max(1, int(std::ceil(3.0 * g_l2 / bytes))); }

// Median over 7 timings of `reps` runs (run(i) executes repetition i, on `stream`) of the mean
// time per run, in µs.
double time_us(const std::function<void(int)>& run, int reps, cudaStream_t stream = nullptr) {
  if (g_dry) return NAN;
  for (int i = 0; i < 3; ++i) run(i);
  check(cudaDeviceSynchronize(), "warm-up");
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  std::vector<double> t;
  for (int k = 0; k < 7; ++k) {
    cudaEventRecord(a, stream);
    for (int i = 0; i < reps; ++i) run(i);
    cudaEventRecord(b, stream);
    check(cudaEventSynchronize(b), "timing");
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    t.push_back(1000.0 * ms / reps);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Page ids 0..n-1 in random order: tables never walk memory sequentially by accident.
std::vector<int32_t> shuffled_pages(int n, uint32_t seed) {
  std::vector<int32_t> p(n);
  for (int i = 0; i < n; ++i) p[i] = i;
  std::shuffle(p.begin(), p.end(), std::mt19937(seed));
  return p;
}

struct Csr {
  std::vector<int32_t> indptr{0}, indices, last;
  void add(const std::vector<int32_t>& pages, int len) {
    indices.insert(indices.end(), pages.begin(), pages.end());
    indptr.push_back(int32_t(indices.size()));
    last.push_back(pages.empty() ? 0 : len - (int(pages.size()) - 1) * kPage);
  }
};

int pages_for(int tokens) { return (tokens + kPage - 1) / kPage; }

// A paged K/V pool of `pages` pages per set, `sets` copies; run i uses copy i % sets.
struct Pool {
  int pages, sets;
  uint16_t *k, *v;
  size_t set_elems() const { return size_t(pages) * kPage * kHkv * kD; }
  const uint16_t* k_at(int i) const { return k + (i % sets) * set_elems(); }
  const uint16_t* v_at(int i) const { return v + (i % sets) * set_elems(); }
};

Pool make_pool(Buffers& buf, int pages, int min_sets = 1) {
  Pool p{pages, std::max(min_sets, rotation_sets(pages * kPage * kKvBytesPerToken)), nullptr, nullptr};
  p.k = buf.bf16(p.set_elems() * p.sets);
  p.v = buf.bf16(p.set_elems() * p.sets);
  return p;
}

ptk_attention_plan* make_plan(int queries, int sequences, int pages, int pages_in_pool) {
  const ptk_kv_layout layout{kHq, kHkv, kD, kPage, pages_in_pool};
  const ptk_plan_limits limits{queries, sequences, pages, 4096, g_sms};
  ptk_attention_plan* plan = nullptr;
  ABI(ptk_attention_plan_create(&layout, &limits, &plan));
  return plan;
}

std::string plan_note(const ptk_attention_plan* plan) {
  ptk_attention_plan_info info{};
  if (ptk_attention_plan_info_get(plan, &info) != PTK_OK) return "";
  char s[128];
  std::snprintf(s, sizeof s, "%s, %d items x %d kv heads, chunk %d, grid %d", info.variant == PTK_ATTENTION_DECODE ? "decode" : "wide",
                info.num_work_items, kHkv, info.chunk_tokens, info.grid);
  return s;
}

// Times one attention plan over a rotating pool.
double time_attention(const ptk_attention_plan* plan, const Pool& pool, const uint16_t* q, void* o, float* lse) {
  return time_us([&](int i) { ABI(ptk_attention_run(plan, q, pool.k_at(i), pool.v_at(i), 0.f, o, PTK_DTYPE_BF16, lse, nullptr)); },
                 std::max(pool.sets, 20));
}

Result bench_decode(int P, int ctx) {
  Buffers buf;
  const int n = pages_for(ctx);
  Pool pool = make_pool(buf, P * n);
  const std::vector<int32_t> ids = shuffled_pages(P * n, 1);
  Csr t;
  for (int b = 0; b < P; ++b) t.add(std::vector<int32_t>(ids.begin() + b * n, ids.begin() + (b + 1) * n), ctx);
  ptk_attention_plan* plan = make_plan(P, P, P * n, P * n);
  ABI(ptk_attention_plan_decode(plan, P, t.indptr.data(), t.indices.data(), t.last.data(), nullptr));
  Result r{"decode", "P=" + std::to_string(P) + " ctx=" + std::to_string(ctx)};
  r.bytes = double(P) * ctx * kKvBytesPerToken;
  r.note = plan_note(plan);
  r.us = time_attention(plan, pool, buf.bf16(size_t(P) * kHq * kD), buf.bf16(size_t(P) * kHq * kD), buf.f32(P * kHq));
  ptk_attention_plan_destroy(plan);
  return r;
}

// A decode step as the engine runs it: 28 layers (each its own K/V pool) captured in one CUDA
// graph, timed per layer; launch gaps shrink to what the graph leaves.
Result bench_decode_graph(int P, int ctx) {
  constexpr int kLayers = 28;
  Buffers buf;
  const int n = pages_for(ctx);
  Pool pool = make_pool(buf, P * n, kLayers);  // every layer its own K/V, as in the model
  const std::vector<int32_t> ids = shuffled_pages(P * n, 5);
  Csr t;
  for (int b = 0; b < P; ++b) t.add(std::vector<int32_t>(ids.begin() + b * n, ids.begin() + (b + 1) * n), ctx);
  ptk_attention_plan* plan = make_plan(P, P, P * n, P * n);
  ABI(ptk_attention_plan_decode(plan, P, t.indptr.data(), t.indices.data(), t.last.data(), nullptr));
  const uint16_t* q = buf.bf16(size_t(P) * kHq * kD);
  void* o = buf.bf16(size_t(P) * kHq * kD);
  float* lse = buf.f32(P * kHq);
  Result r{"decode-graph", "P=" + std::to_string(P) + " ctx=" + std::to_string(ctx) + " x28 layers"};
  r.bytes = double(P) * ctx * kKvBytesPerToken;
  r.note = plan_note(plan);
  if (!g_dry) {
    cudaStream_t stream;
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "stream");
    check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "capture");
    for (int layer = 0; layer < kLayers; ++layer)
      ABI(ptk_attention_run(plan, q, pool.k_at(layer), pool.v_at(layer), 0.f, o, PTK_DTYPE_BF16, lse, stream));
    check(cudaStreamEndCapture(stream, &graph), "end capture");
    check(cudaGraphInstantiate(&exec, graph, 0), "instantiate");
    r.us = time_us([&](int) { check(cudaGraphLaunch(exec, stream), "graph launch"); }, 5, stream) / kLayers;
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
    cudaStreamDestroy(stream);
  } else {
    r.us = NAN;
  }
  ptk_attention_plan_destroy(plan);
  return r;
}

// Phase 1: P paths over a shared prompt, as one prefill plan (prompt read once) and as per-path
// decode over prompt + path (prompt read P times).
std::vector<Result> bench_phase1(int P, int prompt, int path) {
  Buffers buf;
  const int np = pages_for(prompt), no = pages_for(path), total = np + P * no;
  Pool pool = make_pool(buf, total);
  const std::vector<int32_t> ids = shuffled_pages(total, 2);
  const std::vector<int32_t> prompt_pages(ids.begin(), ids.begin() + np);
  Csr own, whole;
  std::vector<int32_t> qo;
  for (int b = 0; b < P; ++b) {
    std::vector<int32_t> mine(ids.begin() + np + b * no, ids.begin() + np + (b + 1) * no);
    own.add(mine, path);
    mine.insert(mine.begin(), prompt_pages.begin(), prompt_pages.end());
    whole.add(mine, prompt + path);
    qo.push_back(b);
  }
  qo.push_back(P);
  const uint16_t* q = buf.bf16(size_t(P) * kHq * kD);
  void* o = buf.bf16(size_t(P) * kHq * kD);
  float* lse = buf.f32(P * kHq);
  const std::string shape = "P=" + std::to_string(P) + " prompt=" + std::to_string(prompt) + " path=" + std::to_string(path);

  ptk_attention_plan* plan = make_plan(P, P, P * (np + no), total);
  ABI(ptk_attention_plan_prefill(plan, P, qo.data(), prompt_pages.data(), prompt, own.indptr.data(), own.indices.data(),
                                 own.last.data(), nullptr));
  Result shared{"phase1", shape};
  shared.bytes = (double(prompt) + double(P) * path) * kKvBytesPerToken;
  shared.note = plan_note(plan);
  shared.us = time_attention(plan, pool, q, o, lse);
  ABI(ptk_attention_plan_decode(plan, P, whole.indptr.data(), whole.indices.data(), whole.last.data(), nullptr));
  Result per_path{"phase1-as-decode", shape};
  per_path.bytes = double(P) * (prompt + path) * kKvBytesPerToken;
  per_path.note = plan_note(plan);
  per_path.us = time_attention(plan, pool, q, o, lse);
  ptk_attention_plan_destroy(plan);
  char s[64];
  std::snprintf(s, sizeof s, "; %.2fx faster than per-path decode", per_path.us / shared.us);
  if (!g_dry) shared.note += s;
  return {shared, per_path};
}

// Summary: queries over prompt + P paths + the summary so far.
Result bench_summary(int P, int prompt, int path, int summary, int queries) {
  Buffers buf;
  std::vector<int> lens{prompt};
  for (int b = 0; b < P; ++b) lens.push_back(path);
  lens.push_back(summary);
  int total = 0, tokens = 0;
  for (int L : lens) total += pages_for(L), tokens += L;
  Pool pool = make_pool(buf, total);
  const std::vector<int32_t> ids = shuffled_pages(total, 3);
  Csr t;
  int at = 0;
  for (int L : lens) {
    t.add(std::vector<int32_t>(ids.begin() + at, ids.begin() + at + pages_for(L)), L);
    at += pages_for(L);
  }
  ptk_attention_plan* plan = make_plan(queries, int(lens.size()), total, total);
  ABI(ptk_attention_plan_summary(plan, int(lens.size()), t.indptr.data(), t.indices.data(), t.last.data(), queries,
                                 nullptr));
  Result r{"summary", "P=" + std::to_string(P) + "x" + std::to_string(path) + " prompt=" + std::to_string(prompt) +
                          " q=" + std::to_string(queries)};
  r.bytes = double(tokens) * kKvBytesPerToken;
  r.note = plan_note(plan);
  r.us = time_attention(plan, pool, buf.bf16(size_t(queries) * kHq * kD), buf.bf16(size_t(queries) * kHq * kD),
                        buf.f32(queries * kHq));
  ptk_attention_plan_destroy(plan);
  return r;
}

// Causal prefill of one prompt (compute-bound: reported in TFLOP/s).
Result bench_prefill(int len) {
  Buffers buf;
  const int n = pages_for(len);
  Pool pool = make_pool(buf, n);
  Csr t;
  t.add(shuffled_pages(n, 4), len);
  const std::vector<int32_t> qo{0, len};
  ptk_attention_plan* plan = make_plan(len, 1, n, n);
  ABI(ptk_attention_plan_prefill(plan, 1, qo.data(), nullptr, 0, t.indptr.data(), t.indices.data(), t.last.data(),
                                 nullptr));
  Result r{"prefill", "len=" + std::to_string(len)};
  r.bytes = double(len) * kKvBytesPerToken;
  r.flops = 4.0 * kHq * kD * (double(len) * (len + 1) / 2);
  r.note = plan_note(plan);
  r.us = time_attention(plan, pool, buf.bf16(size_t(len) * kHq * kD), buf.bf16(size_t(len) * kHq * kD), buf.f32(len * kHq));
  ptk_attention_plan_destroy(plan);
  return r;
}

Result bench_rope(int T) {
  Buffers buf;
  const int pages = pages_for(T);
  const ptk_kv_layout layout{kHq, kHkv, kD, kPage, pages};
  const ptk_rope_config yarn{10000.0, 2.0, 9280, 32.0, 1.0};
  ptk_rope_plan* plan = nullptr;
  ABI(ptk_rope_plan_create(&layout, &yarn, 32, T, &plan));
  std::vector<int32_t> pos(T), seg(T), slot(T);
  for (int t = 0; t < T; ++t) pos[t] = 4096 + t, seg[t] = t % 9, slot[t] = t;
  ABI(ptk_rope_plan_update(plan, T, pos.data(), seg.data(), slot.data(), nullptr));
  const size_t row = size_t(kHq + 2 * kHkv) * kD;
  const int sets = rotation_sets(double(T) * row * 2);
  const uint16_t* qkv = buf.bf16(size_t(T) * row * sets);
  const uint16_t* table = buf.bf16(32 * kD);
  uint16_t* q_out = buf.bf16(size_t(T) * kHq * kD);
  uint16_t* k = buf.bf16(size_t(pages) * kPage * kHkv * kD);
  uint16_t* v = buf.bf16(size_t(pages) * kPage * kHkv * kD);
  Result r{"rope_append", "T=" + std::to_string(T) + " yarn"};
  r.bytes = double(T) * (row + kHq * kD + 2 * kHkv * kD) * 2;
  r.us = time_us([&](int i) { ABI(ptk_rope_append(plan, qkv + (i % sets) * T * row, table, q_out, k, v, nullptr)); },
                 std::max(sets, 20));
  ptk_rope_plan_destroy(plan);
  return r;
}

// ptk_gemv (bf16 in, f32 out) on one projection of the 1.5B model at m rows, the weight rotated
// through copies past 3x L2. Labelled with the math the process runs (PTK_GEMV_MATH, ptk/decoder.h)
// so that gpu-check.sh can run it once per math and put the two side by side.
Result bench_gemv(const char* name, int n, int k, int m) {
  Buffers buf;
  const double weight_bytes = double(n) * k * 2;
  const int sets = rotation_sets(weight_bytes);
  const uint16_t* w = buf.bf16(size_t(n) * k * sets);
  const uint16_t* x = buf.bf16(size_t(m) * k);
  float* y = buf.f32(size_t(m) * n);
  const size_t ws_bytes = ptk_gemv_workspace_bytes(n, k);
  void* ws = buf.zeros(ws_bytes);
  const char* math = std::getenv("PTK_GEMV_MATH");
  Result r{std::string("gemv ") + (math != nullptr && *math ? math : "mma"),
           std::string(name) + " " + std::to_string(n) + "x" + std::to_string(k) + " m=" + std::to_string(m)};
  r.bytes = weight_bytes + double(m) * (k * 2 + n * 4);
  r.us = time_us(
      [&](int i) {
        ABI(ptk_gemv(x, w + size_t(i % sets) * n * k, nullptr, y, PTK_DTYPE_F32, m, n, k, ws, ws_bytes, nullptr));
      },
      std::max(sets, 20));
  return r;
}

std::vector<Result> bench_gemvs(bool quick) {
  struct Shape {
    const char* name;
    int n, k;
  };
  const Shape shapes[] = {{"qkv", 2048, 1536}, {"o", 1536, 1536}, {"gate_up", 17920, 1536}, {"down", 1536, 8960},
                          {"lm_head", 151936, 1536}};
  std::vector<Result> out;
  const std::vector<int> ms = quick ? std::vector<int>{1, 16} : std::vector<int>{1, 4, 8, 16};
  for (const Shape& s : shapes)
    for (int m : ms) out.push_back(bench_gemv(s.name, s.n, s.k, m));
  return out;
}

// ptk_sample over `rows` rows of the 1.5B model's vocabulary: greedy (2 launches), a temperature (3)
// and top-k + top-p (11: the radix select's 8 passes). The logits stay in L2, as they are just after
// lm_head wrote them; bytes count one read of them.
Result bench_sample(int rows, const char* mode) {
  constexpr int kVocab = 151936;
  Buffers buf;
  const float* logits = buf.f32(size_t(rows) * kVocab);
  const auto* keys = static_cast<const int32_t*>(buf.zeros(size_t(2 * rows) * sizeof(int32_t)));
  int32_t* tokens = reinterpret_cast<int32_t*>(buf.f32(size_t(rows)));
  const size_t ws_bytes = ptk_sample_workspace_bytes(rows);
  void* ws = buf.zeros(ws_bytes);
  const std::string m = mode;
  const ptk_sampling_params params = m == "greedy" ? ptk_sampling_params{0.0f, 0, 1.0f, 1}
                                     : m == "temperature" ? ptk_sampling_params{0.5f, 0, 1.0f, 1}
                                                          : ptk_sampling_params{0.7f, 50, 0.9f, 1};
  Result r{"sample " + m, "rows=" + std::to_string(rows) + " vocab=" + std::to_string(kVocab)};
  r.bytes = double(rows) * kVocab * 4;
  r.us = time_us([&](int) { ABI(ptk_sample(logits, rows, kVocab, &params, keys, keys + rows, tokens, ws, ws_bytes, nullptr)); },
                 20);
  return r;
}

// Device-to-device copy of 1 GiB: bytes read + bytes written over time.
double copy_bandwidth_gbps() {
  if (g_dry) return NAN;
  const size_t bytes = size_t(1) << 30;
  void *a = nullptr, *b = nullptr;
  check(cudaMalloc(&a, bytes), "cudaMalloc");
  check(cudaMalloc(&b, bytes), "cudaMalloc");
  cudaMemset(a, 1, bytes);
  const double us = time_us([&](int i) { cudaMemcpyAsync(i % 2 ? a : b, i % 2 ? b : a, bytes, cudaMemcpyDeviceToDevice); }, 10);
  cudaFree(a);
  cudaFree(b);
  return 2.0 * bytes / us / 1e3;
}

std::map<std::pair<int, int>, double> read_torch(const std::string& path) {
  std::map<std::pair<int, int>, double> m;
  std::ifstream f(path);
  int P, ctx;
  double us;
  while (f >> P >> ctx >> us) m[{P, ctx}] = us;
  return m;
}

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) o += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--dry-run") opt.dry_run = true;
    else if (a == "--quick") opt.quick = true;
    else if (a == "--gemv-only") opt.gemv_only = true;
    else if (a == "--json") opt.json = next();
    else if (a == "--torch") opt.torch = next();
    else if (a == "--commit") opt.commit = next();
    else if (a == "--date") opt.date = next();
    else {
      std::fprintf(stderr, "usage: ptk_bench [--dry-run] [--quick] [--gemv-only] [--json FILE] [--torch FILE] [--commit SHA]"
                           " [--date DATE]\n");
      return 2;
    }
  }
  int devices = 0;
  ptk_device_count(&devices);
  g_dry = opt.dry_run || devices == 0;
  if (!opt.dry_run && devices == 0) {
    std::fprintf(stderr, "ptk_bench: no CUDA device (use --dry-run to print the plan)\n");
    return 1;
  }
  ptk_device_info info{};
  int runtime = 0, driver = 0;
  ptk_cuda_versions(&runtime, &driver);
  if (!g_dry) {
    ptk_device_get_info(0, &info);
    g_l2 = size_t(info.l2_cache_bytes);
    g_sms = info.multiprocessors;
  } else {
    std::snprintf(info.name, sizeof info.name, "dry run (assumed %d SMs, %zu MiB L2)", g_sms, g_l2 >> 20);
  }

  std::vector<Result> results;
  try {
    const double copy = copy_bandwidth_gbps();
    const std::vector<int> paths = opt.quick ? std::vector<int>{1, 8} : std::vector<int>{1, 2, 4, 8, 16};
    const std::vector<int> ctxs = opt.quick ? std::vector<int>{512, 8192} : std::vector<int>{512, 1024, 2048, 4096, 8192, 16384, 32768};
    const auto torch = opt.torch.empty() ? std::map<std::pair<int, int>, double>{} : read_torch(opt.torch);
    for (const Result& r : bench_gemvs(opt.quick)) results.push_back(r);
    for (int P : opt.gemv_only ? std::vector<int>{} : paths)
      for (int ctx : ctxs) {
        results.push_back(bench_decode(P, ctx));
        auto it = torch.find({P, ctx});
        if (it != torch.end()) results.back().torch_us = it->second;
      }
    if (!opt.gemv_only) {
      for (int P : paths) results.push_back(bench_decode_graph(P, 4096));
      for (int P : paths)
        for (const Result& r : bench_phase1(P, 2048, 1024)) results.push_back(r);
      for (int P : paths) results.push_back(bench_summary(P, 2048, 4096, 16, 1));
      results.push_back(bench_summary(8, 2048, 4096, 16, 4));
      results.push_back(bench_prefill(2048));
      for (int T : {1, 8, 16, 2048}) results.push_back(bench_rope(T));
      for (int rows : opt.quick ? std::vector<int>{1, 16} : std::vector<int>{1, 8, 16})
        for (const char* mode : {"greedy", "temperature", "top_k_top_p"}) results.push_back(bench_sample(rows, mode));
    }

    std::printf("%s | driver %d | CUDA runtime %d | commit %s | %s\n", info.name, driver, runtime, opt.commit.c_str(),
                opt.date.c_str());
    std::printf("device-to-device copy: %.0f GB/s (read + write)\n\n", copy);
    std::printf("%-17s %-34s %10s %9s %7s %9s  %s\n", "kernel", "shape", "time us", "GB/s", "% copy", "vs torch", "plan");
    for (const Result& r : results) {
      const double gbps = r.bytes / r.us / 1e3;
      char vs[32] = "-";
      if (!std::isnan(r.torch_us)) std::snprintf(vs, sizeof vs, "%.2fx", r.torch_us / r.us);
      char extra[64] = "";
      if (r.flops > 0 && !g_dry) std::snprintf(extra, sizeof extra, " [%.1f TFLOP/s]", r.flops / r.us / 1e6);
      std::printf("%-17s %-34s %10.2f %9.0f %6.1f%% %9s  %s%s %s\n", r.kernel.c_str(), r.shape.c_str(), r.us, gbps,
                  100.0 * gbps / copy, vs, g_dry ? "" : "", r.note.c_str(), extra);
      if (g_dry) std::printf("%-17s %-34s bytes %.3g\n", "", "", r.bytes);
    }
    if (!opt.json.empty() && !g_dry) {
      std::ofstream j(opt.json);
      j << "{\n  \"card\": \"" << json_escape(info.name) << "\",\n  \"driver\": " << driver << ",\n  \"cuda_runtime\": "
        << runtime << ",\n  \"commit\": \"" << json_escape(opt.commit) << "\",\n  \"date\": \"" << json_escape(opt.date)
        << "\",\n  \"multiprocessors\": " << g_sms << ",\n  \"l2_bytes\": " << g_l2
        << ",\n  \"copy_bandwidth_gbps\": " << copy << ",\n  \"results\": [\n";
      for (size_t i = 0; i < results.size(); ++i) {
        const Result& r = results[i];
        const double gbps = r.bytes / r.us / 1e3;
        j << "    {\"kernel\": \"" << r.kernel << "\", \"shape\": \"" << r.shape << "\", \"time_us\": " << r.us
          << ", \"bytes\": " << r.bytes << ", \"gbps\": " << gbps << ", \"fraction_of_copy\": " << gbps / copy;
        if (r.flops > 0) j << ", \"tflops\": " << r.flops / r.us / 1e6;
        if (!std::isnan(r.torch_us)) j << ", \"torch_sdpa_us\": " << r.torch_us;
        j << ", \"plan\": \"" << json_escape(r.note) << "\"}" << (i + 1 < results.size() ? "," : "") << "\n";
      }
      j << "  ]\n}\n";
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ptk_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
