// The sim device's CUDA runtime API: device memory (host memory with a capacity, poisoned on
// allocation), pinned host memory, in-order streams whose work runs at synchronization points,
// events, stream capture into graphs and their replay, function attributes and errors. The rules
// the real runtime enforces are enforced here too: a launch's configuration and shared memory, the
// calls forbidden during capture (which fail with the real error and invalidate the capture),
// copies that must stay inside their allocations, and sticky errors after a kernel fault.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "simt.h"

namespace ptk_sim {
namespace {

using Clock = std::chrono::steady_clock;

struct Op {
  std::string what;
  std::function<std::string()> run;  // "" on success, else the fault
};

struct Graph {
  std::vector<Op> ops;
};

struct Stream {
  std::deque<Op> queue;
  bool capturing = false;
  bool invalidated = false;
  cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
  std::thread::id capture_thread;
  Graph* graph = nullptr;
};

struct Event {
  Stream* stream = nullptr;
  bool recorded = false;
  bool completed = false;
  Clock::time_point at;
};

std::recursive_mutex g_mutex;
thread_local cudaError_t g_last_error = cudaSuccess;
cudaError_t g_sticky = cudaSuccess;
std::string g_fault;  // the first kernel fault, kept for cudaGetErrorString
std::map<uintptr_t, size_t> g_device;  // allocation start -> bytes
std::map<uintptr_t, size_t> g_pinned;
size_t g_device_used = 0;
std::set<Stream*> g_streams;
std::set<Event*> g_events;
std::set<Graph*> g_graphs;
std::map<const void*, int> g_max_dynamic_smem;  // cudaFuncAttributeMaxDynamicSharedMemorySize
uint64_t g_launches = 0;
constexpr size_t kPoisonUpTo = size_t(256) << 20;  // larger allocations are left as the host gave them

Stream& default_stream() {
  static Stream s;
  return s;
}

size_t parse_bytes(const char* s, size_t fallback) {
  if (s == nullptr || *s == '\0') return fallback;
  char* end = nullptr;
  double v = std::strtod(s, &end);
  if (end != nullptr && (*end == 'G' || *end == 'g')) v *= double(1u << 30);
  if (end != nullptr && (*end == 'M' || *end == 'm')) v *= double(1u << 20);
  return v > 0 ? size_t(v) : fallback;
}

uint64_t seed() {
  static const uint64_t s = [] {
    const char* e = std::getenv("PTK_SIM_SEED");
    return e ? std::strtoull(e, nullptr, 0) : 1ull;
  }();
  return s;
}

cudaError_t ret(cudaError_t e) {
  if (e != cudaSuccess) g_last_error = e;
  return e;
}

const std::pair<const uintptr_t, size_t>* find(const std::map<uintptr_t, size_t>& m, const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  auto it = m.upper_bound(a);
  if (it == m.begin()) return nullptr;
  --it;
  return a < it->first + it->second ? &*it : nullptr;
}

bool inside(const std::map<uintptr_t, size_t>& m, const void* p, size_t bytes) {
  const auto* e = find(m, p);
  return e != nullptr && reinterpret_cast<uintptr_t>(p) + bytes <= e->first + e->second;
}

Stream* stream_of(cudaStream_t s) {
  if (s == nullptr) return &default_stream();
  auto* st = reinterpret_cast<Stream*>(s);
  return g_streams.count(st) ? st : nullptr;
}

// Whether a capture that forbids unsafe calls on this thread is in progress; such a call fails
// with cudaErrorStreamCaptureUnsupported and invalidates the capture, as on a GPU.
bool unsafe_during_capture() {
  bool found = false;
  for (Stream* s : g_streams) {
    if (!s->capturing || s->mode == cudaStreamCaptureModeRelaxed) continue;
    if (s->mode == cudaStreamCaptureModeThreadLocal && s->capture_thread != std::this_thread::get_id()) continue;
    s->invalidated = true;
    found = true;
  }
  return found;
}

// Runs a stream's queued work in order; a fault makes the error sticky and drops what follows.
cudaError_t flush(Stream* s) {
  while (!s->queue.empty()) {
    Op op = std::move(s->queue.front());
    s->queue.pop_front();
    if (g_sticky != cudaSuccess) continue;
    std::string fault = op.run();
    if (!fault.empty()) {
      g_sticky = cudaErrorLaunchFailure;
      if (g_fault.empty()) g_fault = "unspecified launch failure: ptk sim: " + fault;
      std::fprintf(stderr, "ptk sim: %s\n", fault.c_str());
      if (std::getenv("PTK_SIM_ABORT_ON_FAULT")) std::abort();
    }
  }
  return g_sticky;
}

cudaError_t flush_all() {
  flush(&default_stream());
  for (Stream* s : g_streams) flush(s);
  return g_sticky;
}

cudaError_t enqueue(Stream* s, Op op) {
  if (s->capturing) {
    if (!s->invalidated) s->graph->ops.push_back(std::move(op));
    return s->invalidated ? cudaErrorStreamCaptureInvalidated : cudaSuccess;
  }
  s->queue.push_back(std::move(op));
  return cudaSuccess;
}

enum class Side { kDevice, kPinned, kPageable };

Side side_of(const void* p, size_t bytes, bool* fits) {
  if (find(g_device, p)) {
    *fits = inside(g_device, p, bytes);
    return Side::kDevice;
  }
  *fits = true;
  return find(g_pinned, p) ? Side::kPinned : Side::kPageable;
}

cudaError_t copy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, Stream* s, bool async) {
  if (bytes == 0) return cudaSuccess;
  if (dst == nullptr || src == nullptr) return cudaErrorInvalidValue;
  bool dst_fits = true, src_fits = true;
  const Side ds = side_of(dst, bytes, &dst_fits), ss = side_of(src, bytes, &src_fits);
  if (!dst_fits || !src_fits) return cudaErrorInvalidValue;  // past the end of a device allocation
  const bool dst_dev = ds == Side::kDevice, src_dev = ss == Side::kDevice;
  switch (kind) {
    case cudaMemcpyHostToDevice: if (!dst_dev || src_dev) return cudaErrorInvalidValue; break;
    case cudaMemcpyDeviceToHost: if (dst_dev || !src_dev) return cudaErrorInvalidValue; break;
    case cudaMemcpyDeviceToDevice: if (!dst_dev || !src_dev) return cudaErrorInvalidValue; break;
    case cudaMemcpyHostToHost: if (dst_dev || src_dev) return cudaErrorInvalidValue; break;
    case cudaMemcpyDefault: break;
    default: return cudaErrorInvalidMemcpyDirection;
  }
  const bool pageable = ds == Side::kPageable || ss == Side::kPageable;
  if (!async || (pageable && ds == Side::kPageable)) {
    // A synchronous copy, or one into pageable memory (complete when the call returns): the
    // stream's earlier work first. Neither may happen during capture.
    if (s->capturing || (!async && unsafe_during_capture())) {
      s->invalidated = s->invalidated || s->capturing;
      return cudaErrorStreamCaptureUnsupported;
    }
    if ((async ? flush(s) : flush_all()) != cudaSuccess) return g_sticky;
    std::memmove(dst, src, bytes);
    return cudaSuccess;
  }
  if (ss == Side::kPageable) {
    // From pageable memory the runtime stages the bytes before returning: the caller may reuse
    // them at once. A graph cannot replay such a copy.
    if (s->capturing) {
      s->invalidated = true;
      return cudaErrorStreamCaptureUnsupported;
    }
    auto staged = std::make_shared<std::vector<unsigned char>>(static_cast<const unsigned char*>(src),
                                                               static_cast<const unsigned char*>(src) + bytes);
    return enqueue(s, Op{"cudaMemcpyAsync", [dst, staged] {
                           std::memcpy(dst, staged->data(), staged->size());
                           return std::string();
                         }});
  }
  // Device and pinned memory are read when the stream reaches the copy.
  return enqueue(s, Op{"cudaMemcpyAsync", [dst, src, bytes] {
                         std::memmove(dst, src, bytes);
                         return std::string();
                       }});
}

cudaError_t check_launch(const LaunchConfig& c) {
  const DeviceConfig& d = device_config();
  const size_t threads = size_t(c.block.x) * c.block.y * c.block.z;
  if (threads == 0 || threads > 1024 || c.block.x > 1024 || c.block.y > 1024 || c.block.z > 64)
    return cudaErrorInvalidConfiguration;
  if (c.grid.x == 0 || c.grid.y == 0 || c.grid.z == 0 || c.grid.x > 0x7FFFFFFFu || c.grid.y > 65535 || c.grid.z > 65535)
    return cudaErrorInvalidConfiguration;
  auto it = g_max_dynamic_smem.find(c.kernel);
  const size_t allowed = it != g_max_dynamic_smem.end() ? size_t(it->second) : d.shared_per_block;
  if (c.dynamic_smem > allowed) return cudaErrorInvalidValue;  // cudaFuncSetAttribute first, as on a GPU
  return cudaSuccess;
}

}  // namespace

const DeviceConfig& device_config() {
  static const DeviceConfig config = [] {
    const char* which = std::getenv("PTK_SIM_DEVICE");
    const size_t memory = parse_bytes(std::getenv("PTK_SIM_MEMORY"), size_t(4) << 30);
    // H100 SXM: 132 SMs, 227 KiB of shared memory per block with opt-in (228 per SM), 64K
    // registers per SM, 50 MiB of L2, a 5120-bit bus.
    DeviceConfig h100{"ptk sim device (H100 SXM configuration, simulated)", 132, 48 << 10, 232448, 233472, 65536,
                      50 << 20, 5120, memory};
    if (which != nullptr && std::strcmp(which, "small") == 0) {
      h100.name = "ptk sim device (4-SM configuration, simulated)";
      h100.multiprocessors = 4;
    } else if (which != nullptr && *which != '\0' && std::strcmp(which, "h100") != 0) {
      std::fprintf(stderr, "ptk sim: PTK_SIM_DEVICE=%s is not a configuration (h100, small); using h100\n", which);
    }
    return h100;
  }();
  return config;
}

bool is_device_range(const void* p, size_t bytes) {
  std::lock_guard<std::recursive_mutex> lock(g_mutex);
  return inside(g_device, p, bytes);
}

cudaError_t launch(const LaunchConfig& config, std::function<void()> thread_body) {
  std::lock_guard<std::recursive_mutex> lock(g_mutex);
  if (g_sticky != cudaSuccess) return ret(g_sticky);
  Stream* s = stream_of(config.stream);
  if (s == nullptr) return ret(cudaErrorInvalidResourceHandle);
  const cudaError_t e = check_launch(config);
  if (e != cudaSuccess) return ret(e);
  // The name as the launch helper's signature spells it: "... [with auto Kernel = NAME; ...]".
  std::string name = config.name;
  const size_t at = name.find("Kernel = ");
  if (at != std::string::npos) {
    size_t end = name.find_first_of(";]", at);
    name = name.substr(at + 9, end == std::string::npos ? std::string::npos : end - at - 9);
  }
  LaunchConfig c = config;
  auto body = std::make_shared<std::function<void()>>(std::move(thread_body));
  auto stored_name = std::make_shared<std::string>(name);
  return ret(enqueue(s, Op{name, [c, body, stored_name]() mutable {
                             c.name = stored_name->c_str();
                             Rng rng{seed() ^ (0xA24BAED4963EE407ull * ++g_launches)};
                             return run_grid(c, *body, rng);
                           }}));
}

cudaError_t enqueue_host(cudaStream_t stream, const char* what, std::function<std::string()> work) {
  std::lock_guard<std::recursive_mutex> lock(g_mutex);
  if (g_sticky != cudaSuccess) return ret(g_sticky);
  Stream* s = stream_of(stream);
  if (s == nullptr) return ret(cudaErrorInvalidResourceHandle);
  return ret(enqueue(s, Op{what, std::move(work)}));
}

}  // namespace ptk_sim

using namespace ptk_sim;

#define PTK_SIM_LOCK std::lock_guard<std::recursive_mutex> lock(g_mutex)
#define PTK_SIM_STICKY \
  if (g_sticky != cudaSuccess) return ret(g_sticky)

extern "C" {

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
#define PTK_SIM_NAME(x) \
  case x: return #x;
    PTK_SIM_NAME(cudaSuccess)
    PTK_SIM_NAME(cudaErrorInvalidValue)
    PTK_SIM_NAME(cudaErrorMemoryAllocation)
    PTK_SIM_NAME(cudaErrorInitializationError)
    PTK_SIM_NAME(cudaErrorInvalidConfiguration)
    PTK_SIM_NAME(cudaErrorInvalidMemcpyDirection)
    PTK_SIM_NAME(cudaErrorInsufficientDriver)
    PTK_SIM_NAME(cudaErrorInvalidDeviceFunction)
    PTK_SIM_NAME(cudaErrorNoDevice)
    PTK_SIM_NAME(cudaErrorInvalidDevice)
    PTK_SIM_NAME(cudaErrorInvalidResourceHandle)
    PTK_SIM_NAME(cudaErrorIllegalState)
    PTK_SIM_NAME(cudaErrorNotReady)
    PTK_SIM_NAME(cudaErrorIllegalAddress)
    PTK_SIM_NAME(cudaErrorLaunchOutOfResources)
    PTK_SIM_NAME(cudaErrorLaunchFailure)
    PTK_SIM_NAME(cudaErrorNotSupported)
    PTK_SIM_NAME(cudaErrorStreamCaptureUnsupported)
    PTK_SIM_NAME(cudaErrorStreamCaptureInvalidated)
    PTK_SIM_NAME(cudaErrorStreamCaptureUnmatched)
    PTK_SIM_NAME(cudaErrorStreamCaptureImplicit)
    PTK_SIM_NAME(cudaErrorStreamCaptureWrongThread)
    PTK_SIM_NAME(cudaErrorUnknown)
#undef PTK_SIM_NAME
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInitializationError: return "initialization error";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorInvalidDeviceFunction: return "invalid device function";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorIllegalState: return "the operation cannot be performed in the present state";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorLaunchFailure: {
      PTK_SIM_LOCK;
      return g_fault.empty() ? "unspecified launch failure" : g_fault.c_str();
    }
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureUnmatched: return "the capture was not initiated in this stream";
    case cudaErrorStreamCaptureImplicit: return "operation would make the legacy stream depend on a capturing blocking stream";
    case cudaErrorStreamCaptureWrongThread: return "attempt to terminate a thread-local capture sequence from another thread";
    case cudaErrorUnknown: break;
  }
  return "unknown error";
}

cudaError_t cudaGetLastError(void) {
  PTK_SIM_LOCK;
  if (g_sticky != cudaSuccess) return g_sticky;
  const cudaError_t e = g_last_error;
  g_last_error = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError(void) {
  PTK_SIM_LOCK;
  return g_sticky != cudaSuccess ? g_sticky : g_last_error;
}

cudaError_t cudaRuntimeGetVersion(int* v) {
  if (!v) return ret(cudaErrorInvalidValue);
  *v = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* v) {
  if (!v) return ret(cudaErrorInvalidValue);
  *v = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return ret(cudaErrorInvalidValue);
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  if (!device) return ret(cudaErrorInvalidValue);
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : ret(cudaErrorInvalidDevice); }

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (!p) return ret(cudaErrorInvalidValue);
  if (device != 0) return ret(cudaErrorInvalidDevice);
  const DeviceConfig& d = device_config();
  std::memset(p, 0, sizeof *p);
  std::snprintf(p->name, sizeof p->name, "%s", d.name);
  p->totalGlobalMem = d.memory_bytes;
  p->sharedMemPerBlock = d.shared_per_block;
  p->regsPerBlock = 65536;
  p->warpSize = 32;
  p->maxThreadsPerBlock = 1024;
  p->maxThreadsDim[0] = 1024;
  p->maxThreadsDim[1] = 1024;
  p->maxThreadsDim[2] = 64;
  p->maxGridSize[0] = 0x7FFFFFFF;
  p->maxGridSize[1] = 65535;
  p->maxGridSize[2] = 65535;
  p->major = 9;
  p->minor = 0;
  p->multiProcessorCount = d.multiprocessors;
  p->l2CacheSize = d.l2_bytes;
  p->memoryBusWidth = d.bus_width_bits;
  p->maxThreadsPerMultiProcessor = 2048;
  p->sharedMemPerMultiprocessor = d.shared_per_multiprocessor;
  p->regsPerMultiprocessor = d.registers_per_multiprocessor;
  p->sharedMemPerBlockOptin = d.shared_per_block_optin;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (!value) return ret(cudaErrorInvalidValue);
  if (device != 0) return ret(cudaErrorInvalidDevice);
  const DeviceConfig& d = device_config();
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = 1024; return cudaSuccess;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = int(d.shared_per_block); return cudaSuccess;
    case cudaDevAttrWarpSize: *value = 32; return cudaSuccess;
    case cudaDevAttrMultiProcessorCount: *value = d.multiprocessors; return cudaSuccess;
    case cudaDevAttrComputeCapabilityMajor: *value = 9; return cudaSuccess;
    case cudaDevAttrComputeCapabilityMinor: *value = 0; return cudaSuccess;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor: *value = int(d.shared_per_multiprocessor); return cudaSuccess;
    case cudaDevAttrMaxRegistersPerMultiprocessor: *value = d.registers_per_multiprocessor; return cudaSuccess;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = int(d.shared_per_block_optin); return cudaSuccess;
  }
  return ret(cudaErrorInvalidValue);
}

cudaError_t cudaDeviceSynchronize(void) {
  PTK_SIM_LOCK;
  if (unsafe_during_capture()) return ret(cudaErrorStreamCaptureUnsupported);
  return ret(flush_all());
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  PTK_SIM_LOCK;
  if (!free_bytes || !total_bytes) return ret(cudaErrorInvalidValue);
  PTK_SIM_STICKY;
  *total_bytes = device_config().memory_bytes;
  *free_bytes = *total_bytes - g_device_used;
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  PTK_SIM_LOCK;
  if (!ptr) return ret(cudaErrorInvalidValue);
  *ptr = nullptr;
  PTK_SIM_STICKY;
  if (unsafe_during_capture()) return ret(cudaErrorStreamCaptureUnsupported);
  if (bytes == 0) return cudaSuccess;
  const size_t rounded = (bytes + 255) / 256 * 256;  // what a GPU allocator would count
  if (rounded > device_config().memory_bytes - g_device_used) return ret(cudaErrorMemoryAllocation);
  void* p = nullptr;
  if (posix_memalign(&p, 256, bytes) != 0) return ret(cudaErrorMemoryAllocation);
  if (bytes <= kPoisonUpTo) std::memset(p, 0xFF, bytes);  // fresh device memory is garbage, not zeros
  g_device[reinterpret_cast<uintptr_t>(p)] = bytes;
  g_device_used += rounded;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  PTK_SIM_LOCK;
  if (ptr == nullptr) return cudaSuccess;
  if (unsafe_during_capture()) return ret(cudaErrorStreamCaptureUnsupported);
  flush_all();  // cudaFree waits for the device, as on a GPU
  auto it = g_device.find(reinterpret_cast<uintptr_t>(ptr));
  if (it == g_device.end()) return ret(cudaErrorInvalidValue);
  g_device_used -= (it->second + 255) / 256 * 256;
  g_device.erase(it);
  std::free(ptr);
  return g_sticky != cudaSuccess ? ret(g_sticky) : cudaSuccess;
}

cudaError_t cudaMallocHost(void** ptr, size_t bytes) {
  PTK_SIM_LOCK;
  if (!ptr) return ret(cudaErrorInvalidValue);
  *ptr = nullptr;
  PTK_SIM_STICKY;
  if (unsafe_during_capture()) return ret(cudaErrorStreamCaptureUnsupported);
  void* p = nullptr;
  if (posix_memalign(&p, 4096, bytes ? bytes : 1) != 0) return ret(cudaErrorMemoryAllocation);
  g_pinned[reinterpret_cast<uintptr_t>(p)] = bytes ? bytes : 1;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFreeHost(void* ptr) {
  PTK_SIM_LOCK;
  if (ptr == nullptr) return cudaSuccess;
  if (unsafe_during_capture()) return ret(cudaErrorStreamCaptureUnsupported);
  flush_all();
  auto it = g_pinned.find(reinterpret_cast<uintptr_t>(ptr));
  if (it == g_pinned.end()) return ret(cudaErrorInvalidValue);
  g_pinned.erase(it);
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  PTK_SIM_LOCK;
  PTK_SIM_STICKY;
  return ret(copy(dst, src, bytes, kind, &default_stream(), false));
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
  PTK_SIM_LOCK;
  PTK_SIM_STICKY;
  Stream* s = stream_of(stream);
  if (s == nullptr) return ret(cudaErrorInvalidResourceHandle);
  return ret(copy(dst, src, bytes, kind, s, true));
}

static cudaError_t memset_on(void* dst, int value, size_t bytes, Stream* s, bool async) {
  if (bytes == 0) return cudaSuccess;
  if (!inside(g_device, dst, bytes)) return cudaErrorInvalidValue;
  if (!async) {
    if (unsafe_during_capture()) return cudaErrorStreamCaptureUnsupported;
    if (flush_all() != cudaSuccess) return g_sticky;
    std::memset(dst, value, bytes);
    return cudaSuccess;
  }
  return enqueue(s, Op{"cudaMemsetAsync", [dst, value, bytes] {
                         std::memset(dst, value, bytes);
                         return std::string();
                       }});
}

cudaError_t cudaMemset(void* dst, int value, size_t bytes) {
  PTK_SIM_LOCK;
  PTK_SIM_STICKY;
  return ret(memset_on(dst, value, bytes, &default_stream(), false));
}

cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream) {
  PTK_SIM_LOCK;
  PTK_SIM_STICKY;
  Stream* s = stream_of(stream);
  if (s == nullptr) return ret(cudaErrorInvalidResourceHandle);
  return ret(memset_on(dst, value, bytes, s, true));
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  PTK_SIM_LOCK;
  if (!stream) return ret(cudaErrorInvalidValue);
  PTK_SIM_STICKY;
  auto* s = new Stream();
  g_streams.insert(s);
  *stream = reinterpret_cast<cudaStream_t>(s);
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  PTK_SIM_LOCK;
  Stream* s = stream_of(stream);
  if (s == nullptr || stream == nullptr) return ret(cudaErrorInvalidResourceHandle);
  if (s->capturing) return ret(cudaErrorStreamCaptureUnsupported);
  flush(s);  // work already queued still runs
  g_streams.erase(s);
  delete s;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  PTK_SIM_LOCK;
  Stream* s = stream_of(stream);
  if (s == nullptr) return ret(cudaErrorInvalidResourceHandle);
  if (s->capturing) {
    s->invalidated = true;
    return ret(cudaErrorStreamCaptureUnsupported);
  }
  return ret(flush(s));
}

cudaError_t cudaStreamQuery(cudaStream_t stream) {
  PTK_SIM_LOCK;
  Stream* s = stream_of(stream);
  if (s == nullptr) return ret(cudaErrorInvalidResourceHandle);
  PTK_SIM_STICKY;
  return s->queue.empty() ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaLaunchHostFunc(cudaStream_t stream, cudaHostFn_t fn, void* user_data) {
  if (!fn) return ret(cudaErrorInvalidValue);
  return enqueue_host(stream, "cudaLaunchHostFunc", [fn, user_data] {
    fn(user_data);
    return std::string();
  });
}

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  PTK_SIM_LOCK;
  if (!event) return ret(cudaErrorInvalidValue);
  PTK_SIM_STICKY;
  auto* e = new Event();
  g_events.insert(e);
  *event = reinterpret_cast<cudaEvent_t>(e);
  return cudaSuccess;
}

static Event* event_of(cudaEvent_t e) {
  auto* ev = reinterpret_cast<Event*>(e);
  return g_events.count(ev) ? ev : nullptr;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  PTK_SIM_LOCK;
  Event* e = event_of(event);
  if (e == nullptr) return ret(cudaErrorInvalidResourceHandle);
  g_events.erase(e);
  delete e;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  PTK_SIM_LOCK;
  PTK_SIM_STICKY;
  Event* e = event_of(event);
  Stream* s = stream_of(stream);
  if (e == nullptr || s == nullptr) return ret(cudaErrorInvalidResourceHandle);
  e->stream = s;
  e->recorded = true;
  e->completed = false;
  return ret(enqueue(s, Op{"cudaEventRecord", [event] {
                           if (Event* ev = event_of(event)) {
                             ev->completed = true;
                             ev->at = Clock::now();
                           }
                           return std::string();
                         }}));
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  PTK_SIM_LOCK;
  Event* e = event_of(event);
  if (e == nullptr) return ret(cudaErrorInvalidResourceHandle);
  if (e->recorded && !e->completed && g_streams.count(e->stream) + (e->stream == &default_stream()) > 0) {
    if (e->stream->capturing) return ret(cudaErrorStreamCaptureUnsupported);
    flush(e->stream);
  }
  return ret(g_sticky);
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  PTK_SIM_LOCK;
  Event* e = event_of(event);
  if (e == nullptr) return ret(cudaErrorInvalidResourceHandle);
  PTK_SIM_STICKY;
  return !e->recorded || e->completed ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  PTK_SIM_LOCK;
  if (!ms) return ret(cudaErrorInvalidValue);
  Event* a = event_of(start);
  Event* b = event_of(end);
  if (a == nullptr || b == nullptr || !a->recorded || !b->recorded) return ret(cudaErrorInvalidResourceHandle);
  PTK_SIM_STICKY;
  if (!a->completed || !b->completed) return ret(cudaErrorNotReady);
  *ms = std::chrono::duration<float, std::milli>(b->at - a->at).count();
  return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode) {
  PTK_SIM_LOCK;
  PTK_SIM_STICKY;
  if (stream == nullptr) return ret(cudaErrorStreamCaptureUnsupported);  // the legacy stream cannot capture
  Stream* s = stream_of(stream);
  if (s == nullptr) return ret(cudaErrorInvalidResourceHandle);
  if (s->capturing) return ret(cudaErrorIllegalState);
  s->capturing = true;
  s->invalidated = false;
  s->mode = mode;
  s->capture_thread = std::this_thread::get_id();
  s->graph = new Graph();
  g_graphs.insert(s->graph);
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  PTK_SIM_LOCK;
  if (!graph) return ret(cudaErrorInvalidValue);
  *graph = nullptr;
  Stream* s = stream_of(stream);
  if (s == nullptr || stream == nullptr) return ret(cudaErrorInvalidResourceHandle);
  if (!s->capturing) return ret(cudaErrorIllegalState);
  if (s->mode != cudaStreamCaptureModeRelaxed && s->capture_thread != std::this_thread::get_id())
    return ret(cudaErrorStreamCaptureWrongThread);
  s->capturing = false;
  Graph* g = s->graph;
  s->graph = nullptr;
  if (s->invalidated) {
    g_graphs.erase(g);
    delete g;
    s->invalidated = false;
    return ret(cudaErrorStreamCaptureInvalidated);
  }
  *graph = reinterpret_cast<cudaGraph_t>(g);
  return cudaSuccess;
}

cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status) {
  PTK_SIM_LOCK;
  if (!status) return ret(cudaErrorInvalidValue);
  Stream* s = stream_of(stream);
  if (s == nullptr) return ret(cudaErrorInvalidResourceHandle);
  *status = !s->capturing ? cudaStreamCaptureStatusNone
                          : (s->invalidated ? cudaStreamCaptureStatusInvalidated : cudaStreamCaptureStatusActive);
  return cudaSuccess;
}

// Nodes are the recorded operations, in order; a node handle is its index + 1 (never dereferenced).
cudaError_t cudaGraphGetNodes(cudaGraph_t graph, cudaGraphNode_t* nodes, size_t* numNodes) {
  PTK_SIM_LOCK;
  auto* g = reinterpret_cast<Graph*>(graph);
  if (!numNodes || !g_graphs.count(g)) return ret(cudaErrorInvalidValue);
  if (nodes)
    for (size_t i = 0; i < std::min(*numNodes, g->ops.size()); ++i) nodes[i] = reinterpret_cast<cudaGraphNode_t>(i + 1);
  *numNodes = g->ops.size();
  return cudaSuccess;
}

// An instantiated graph: a copy of the recorded operations, independent of its graph.
struct ptk_sim_graph_exec {
  std::vector<Op> ops;
};
static std::set<ptk_sim_graph_exec*> g_execs;

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  PTK_SIM_LOCK;
  if (!exec) return ret(cudaErrorInvalidValue);
  *exec = nullptr;
  PTK_SIM_STICKY;
  auto* g = reinterpret_cast<Graph*>(graph);
  if (!g_graphs.count(g)) return ret(cudaErrorInvalidValue);
  auto* e = new ptk_sim_graph_exec{g->ops};
  g_execs.insert(e);
  *exec = e;
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  PTK_SIM_LOCK;
  PTK_SIM_STICKY;
  if (!g_execs.count(exec)) return ret(cudaErrorInvalidValue);
  Stream* s = stream_of(stream);
  if (s == nullptr) return ret(cudaErrorInvalidResourceHandle);
  if (s->capturing) {  // a graph launched into a capture: not something ptk does
    s->invalidated = true;
    return ret(cudaErrorStreamCaptureUnsupported);
  }
  for (const Op& op : exec->ops) s->queue.push_back(op);
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  PTK_SIM_LOCK;
  if (!g_execs.count(exec)) return ret(cudaErrorInvalidValue);
  g_execs.erase(exec);
  delete exec;
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  PTK_SIM_LOCK;
  auto* g = reinterpret_cast<Graph*>(graph);
  if (!g_graphs.count(g)) return ret(cudaErrorInvalidValue);
  g_graphs.erase(g);
  delete g;
  return cudaSuccess;
}

}  // extern "C"

cudaError_t ptk_sim_func_set_attribute(const void* kernel, cudaFuncAttribute attr, int value) {
  PTK_SIM_LOCK;
  PTK_SIM_STICKY;
  if (kernel == nullptr) return ret(cudaErrorInvalidDeviceFunction);
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || size_t(value) > device_config().shared_per_block_optin) return ret(cudaErrorInvalidValue);
    g_max_dynamic_smem[kernel] = value;
    return cudaSuccess;
  }
  return attr == cudaFuncAttributePreferredSharedMemoryCarveout ? cudaSuccess : ret(cudaErrorInvalidValue);
}
