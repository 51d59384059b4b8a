// Device memory, copies, streams, graphs and events for the Java decoder, as ptk statuses.
#include "device_memory.h"
#include "ptk/runtime.h"

#ifdef PTK_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

extern "C" {

#ifdef PTK_WITH_CUDA

namespace {
cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

// What a ptk graph handle points to: the instantiated graph and the node count of its capture
// (an executable graph cannot be asked).
struct CapturedGraph {
  cudaGraphExec_t exec;
  int nodes;
};
}  // namespace

ptk_status ptk_set_device(int device) { return ptk::cuda_status(cudaSetDevice(device), "cudaSetDevice"); }

ptk_status ptk_mem_info(size_t* free_bytes, size_t* total_bytes) {
  PTK_REQUIRE_NOT_NULL(free_bytes);
  PTK_REQUIRE_NOT_NULL(total_bytes);
  return ptk::cuda_status(cudaMemGetInfo(free_bytes, total_bytes), "cudaMemGetInfo");
}

ptk_status ptk_malloc(void** ptr, size_t bytes) {
  PTK_REQUIRE_NOT_NULL(ptr);
  *ptr = nullptr;
  PTK_REQUIRE(bytes > 0, "bytes must be positive");
  const cudaError_t err = cudaMalloc(ptr, bytes);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    return ptk::fail(PTK_ERR_OUT_OF_MEMORY, "cudaMalloc of %zu bytes (%.2f GiB): out of device memory", bytes,
                     double(bytes) / (1u << 30));
  }
  return ptk::cuda_status(err, "cudaMalloc");
}

ptk_status ptk_free(void* ptr) {
  if (ptr == nullptr) return ptk::ok();  // cudaFree(null) would create a context
  return ptk::cuda_status(cudaFree(ptr), "cudaFree");
}

ptk_status ptk_malloc_host(void** ptr, size_t bytes) {
  PTK_REQUIRE_NOT_NULL(ptr);
  *ptr = nullptr;
  PTK_REQUIRE(bytes > 0, "bytes must be positive");
  return ptk::cuda_status(cudaMallocHost(ptr, bytes), "cudaMallocHost");
}

ptk_status ptk_free_host(void* ptr) {
  if (ptr == nullptr) return ptk::ok();
  return ptk::cuda_status(cudaFreeHost(ptr), "cudaFreeHost");
}

ptk_status ptk_copy_to_device(void* dst, const void* src, size_t bytes, void* stream) {
  if (bytes == 0) return ptk::ok();
  PTK_REQUIRE_NOT_NULL(dst);
  PTK_REQUIRE_NOT_NULL(src);
  return ptk::cuda_status(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, as_stream(stream)),
                          "cudaMemcpyAsync to device");
}

ptk_status ptk_copy_to_host(void* dst, const void* src, size_t bytes, void* stream) {
  if (bytes == 0) return ptk::ok();
  PTK_REQUIRE_NOT_NULL(dst);
  PTK_REQUIRE_NOT_NULL(src);
  return ptk::cuda_status(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, as_stream(stream)),
                          "cudaMemcpyAsync to host");
}

ptk_status ptk_memset_zero(void* dst, size_t bytes, void* stream) {
  if (bytes == 0) return ptk::ok();
  PTK_REQUIRE_NOT_NULL(dst);
  return ptk::cuda_status(cudaMemsetAsync(dst, 0, bytes, as_stream(stream)), "cudaMemsetAsync");
}

ptk_status ptk_stream_create(void** stream) {
  PTK_REQUIRE_NOT_NULL(stream);
  cudaStream_t s = nullptr;
  const ptk_status status = ptk::cuda_status(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
  *stream = s;
  return status;
}

ptk_status ptk_stream_synchronize(void* stream) {
  return ptk::cuda_status(cudaStreamSynchronize(as_stream(stream)), "cudaStreamSynchronize");
}

ptk_status ptk_stream_destroy(void* stream) {
  if (stream == nullptr) return ptk::ok();
  return ptk::cuda_status(cudaStreamDestroy(as_stream(stream)), "cudaStreamDestroy");
}

ptk_status ptk_graph_begin_capture(void* stream) {
  PTK_REQUIRE_NOT_NULL(stream);
  return ptk::cuda_status(cudaStreamBeginCapture(as_stream(stream), cudaStreamCaptureModeThreadLocal),
                          "cudaStreamBeginCapture");
}

ptk_status ptk_graph_end_capture(void* stream, void** graph) {
  PTK_REQUIRE_NOT_NULL(stream);
  PTK_REQUIRE_NOT_NULL(graph);
  *graph = nullptr;
  cudaGraph_t g = nullptr;
  ptk_status s = ptk::cuda_status(cudaStreamEndCapture(as_stream(stream), &g), "cudaStreamEndCapture");
  if (s != PTK_OK) return s;
  size_t nodes = 0;
  s = ptk::cuda_status(cudaGraphGetNodes(g, nullptr, &nodes), "cudaGraphGetNodes");
  cudaGraphExec_t exec = nullptr;
  if (s == PTK_OK) s = ptk::cuda_status(cudaGraphInstantiate(&exec, g, 0), "cudaGraphInstantiate");
  cudaGraphDestroy(g);
  if (s == PTK_OK) *graph = new CapturedGraph{exec, static_cast<int>(nodes)};
  return s;
}

ptk_status ptk_graph_launch(void* graph, void* stream) {
  PTK_REQUIRE_NOT_NULL(graph);
  return ptk::cuda_status(cudaGraphLaunch(static_cast<CapturedGraph*>(graph)->exec, as_stream(stream)), "cudaGraphLaunch");
}

ptk_status ptk_graph_destroy(void* graph) {
  if (graph == nullptr) return ptk::ok();
  auto* g = static_cast<CapturedGraph*>(graph);
  const ptk_status s = ptk::cuda_status(cudaGraphExecDestroy(g->exec), "cudaGraphExecDestroy");
  delete g;
  return s;
}

ptk_status ptk_graph_node_count(const void* graph, int* nodes) {
  PTK_REQUIRE_NOT_NULL(graph);
  PTK_REQUIRE_NOT_NULL(nodes);
  *nodes = static_cast<const CapturedGraph*>(graph)->nodes;
  return ptk::ok();
}

ptk_status ptk_event_create(void** event) {
  PTK_REQUIRE_NOT_NULL(event);
  cudaEvent_t e = nullptr;
  const ptk_status status = ptk::cuda_status(cudaEventCreate(&e), "cudaEventCreate");
  *event = e;
  return status;
}

ptk_status ptk_event_record(void* event, void* stream) {
  PTK_REQUIRE_NOT_NULL(event);
  return ptk::cuda_status(cudaEventRecord(static_cast<cudaEvent_t>(event), as_stream(stream)), "cudaEventRecord");
}

ptk_status ptk_event_elapsed_ms(void* start, void* end, float* ms) {
  PTK_REQUIRE_NOT_NULL(start);
  PTK_REQUIRE_NOT_NULL(end);
  PTK_REQUIRE_NOT_NULL(ms);
  *ms = 0.f;
  const ptk_status s = ptk::cuda_status(cudaEventSynchronize(static_cast<cudaEvent_t>(end)), "cudaEventSynchronize");
  if (s != PTK_OK) return s;
  return ptk::cuda_status(cudaEventElapsedTime(ms, static_cast<cudaEvent_t>(start), static_cast<cudaEvent_t>(end)),
                          "cudaEventElapsedTime");
}

ptk_status ptk_event_destroy(void* event) {
  if (event == nullptr) return ptk::ok();
  return ptk::cuda_status(cudaEventDestroy(static_cast<cudaEvent_t>(event)), "cudaEventDestroy");
}

#else

namespace {
ptk_status no_cuda(const char* what) {
  return ptk::fail(PTK_ERR_NO_CUDA, "%s: this ptk library was built without CUDA", what);
}
}  // namespace

ptk_status ptk_set_device(int) { return no_cuda("ptk_set_device"); }
ptk_status ptk_mem_info(size_t*, size_t*) { return no_cuda("ptk_mem_info"); }
ptk_status ptk_malloc(void** ptr, size_t) {
  if (ptr) *ptr = nullptr;
  return no_cuda("ptk_malloc");
}
ptk_status ptk_free(void* ptr) { return ptr ? no_cuda("ptk_free") : ptk::ok(); }
ptk_status ptk_malloc_host(void** ptr, size_t) {
  if (ptr) *ptr = nullptr;
  return no_cuda("ptk_malloc_host");
}
ptk_status ptk_free_host(void* ptr) { return ptr ? no_cuda("ptk_free_host") : ptk::ok(); }
ptk_status ptk_copy_to_device(void*, const void*, size_t, void*) { return no_cuda("ptk_copy_to_device"); }
ptk_status ptk_copy_to_host(void*, const void*, size_t, void*) { return no_cuda("ptk_copy_to_host"); }
ptk_status ptk_memset_zero(void*, size_t, void*) { return no_cuda("ptk_memset_zero"); }
ptk_status ptk_stream_create(void** stream) {
  if (stream) *stream = nullptr;
  return no_cuda("ptk_stream_create");
}
ptk_status ptk_stream_synchronize(void*) { return no_cuda("ptk_stream_synchronize"); }
ptk_status ptk_stream_destroy(void* stream) { return stream ? no_cuda("ptk_stream_destroy") : ptk::ok(); }
ptk_status ptk_graph_begin_capture(void*) { return no_cuda("ptk_graph_begin_capture"); }
ptk_status ptk_graph_end_capture(void*, void** graph) {
  if (graph) *graph = nullptr;
  return no_cuda("ptk_graph_end_capture");
}
ptk_status ptk_graph_launch(void*, void*) { return no_cuda("ptk_graph_launch"); }
ptk_status ptk_graph_destroy(void* graph) { return graph ? no_cuda("ptk_graph_destroy") : ptk::ok(); }
ptk_status ptk_graph_node_count(const void*, int* nodes) {
  if (nodes) *nodes = 0;
  return no_cuda("ptk_graph_node_count");
}
ptk_status ptk_event_create(void** event) {
  if (event) *event = nullptr;
  return no_cuda("ptk_event_create");
}
ptk_status ptk_event_record(void*, void*) { return no_cuda("ptk_event_record"); }
ptk_status ptk_event_elapsed_ms(void*, void*, float* ms) {
  if (ms) *ms = 0.f;
  return no_cuda("ptk_event_elapsed_ms");
}
ptk_status ptk_event_destroy(void* event) { return event ? no_cuda("ptk_event_destroy") : ptk::ok(); }

#endif

}  // extern "C"
