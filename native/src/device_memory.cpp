#include "device_memory.h"

#ifdef PTK_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace ptk {

#ifdef PTK_WITH_CUDA

ptk_status cuda_status(int cuda_error, const char* what) {
  const cudaError_t err = static_cast<cudaError_t>(cuda_error);
  if (err == cudaSuccess) return PTK_OK;
  cudaGetLastError();  // clear a non-sticky error for the next caller
  if (err == cudaErrorMemoryAllocation) return fail(PTK_ERR_OUT_OF_MEMORY, "%s: %s", what, cudaGetErrorString(err));
  if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver)
    return fail(PTK_ERR_NO_DEVICE, "%s: %s", what, cudaGetErrorString(err));
  return fail(PTK_ERR_CUDA, "%s: %s", what, cudaGetErrorString(err));
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr_) cudaFree(ptr_);
}

ptk_status DeviceBuffer::allocate(size_t bytes) {
  if (ptr_) return PTK_OK;
  return cuda_status(cudaMalloc(&ptr_, bytes), "cudaMalloc");
}

StagedBuffer::~StagedBuffer() {
  if (copied_) cudaEventDestroy(static_cast<cudaEvent_t>(copied_));
  if (host_) cudaFreeHost(host_);
  if (device_) cudaFree(device_);
}

ptk_status StagedBuffer::allocate(size_t bytes, size_t mirror_bytes) {
  if (device_) return PTK_OK;
  ptk_status s = cuda_status(cudaMallocHost(&host_, mirror_bytes), "cudaMallocHost");
  cudaEvent_t event = nullptr;
  if (s == PTK_OK) s = cuda_status(cudaEventCreate(&event), "cudaEventCreate");
  copied_ = event;
  if (s == PTK_OK) s = cuda_status(cudaMalloc(&device_, bytes), "cudaMalloc");
  return s;
}

ptk_status StagedBuffer::wait_for_mirror() {
  if (!pending_) return PTK_OK;
  pending_ = false;
  return cuda_status(cudaEventSynchronize(static_cast<cudaEvent_t>(copied_)), "cudaEventSynchronize");
}

ptk_status StagedBuffer::upload(std::initializer_list<Range> ranges, void* stream) {
  ptk_status s = PTK_OK;
  for (const Range& r : ranges) {
    if ((s = copy_to_device(device() + r.offset, host() + r.offset, r.bytes, stream)) != PTK_OK) break;
    pending_ = true;  // this copy, until an event after it has passed
  }
  if (!pending_) return s;
  const ptk_status copied = s;
  s = cuda_status(cudaEventRecord(static_cast<cudaEvent_t>(copied_), static_cast<cudaStream_t>(stream)), "cudaEventRecord");
  if (s != PTK_OK) {  // no event after these copies: wait for them here, so the mirror is free again
    const ptk_status synced = cuda_status(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)), "cudaStreamSynchronize");
    pending_ = synced != PTK_OK;
  }
  return copied != PTK_OK ? copied : s;
}

ptk_status copy_to_device(void* dst, const void* src, size_t bytes, void* stream) {
  if (bytes == 0) return PTK_OK;
  return cuda_status(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, static_cast<cudaStream_t>(stream)),
                     "cudaMemcpyAsync");
}

int device_multiprocessors(int fallback) {
  int device = 0, count = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) {
    cudaGetLastError();
    return fallback;
  }
  return count;
}

#else

ptk_status cuda_status(int, const char* what) { return fail(PTK_ERR_NO_CUDA, "%s: built without CUDA", what); }
DeviceBuffer::~DeviceBuffer() = default;
ptk_status DeviceBuffer::allocate(size_t) { return fail(PTK_ERR_NO_CUDA, "this ptk library was built without CUDA"); }
StagedBuffer::~StagedBuffer() = default;
ptk_status StagedBuffer::allocate(size_t, size_t) {
  return fail(PTK_ERR_NO_CUDA, "this ptk library was built without CUDA");
}
ptk_status StagedBuffer::wait_for_mirror() { return PTK_OK; }
ptk_status StagedBuffer::upload(std::initializer_list<Range>, void*) {
  return fail(PTK_ERR_NO_CUDA, "this ptk library was built without CUDA");
}
ptk_status copy_to_device(void*, const void*, size_t, void*) {
  return fail(PTK_ERR_NO_CUDA, "this ptk library was built without CUDA");
}
int device_multiprocessors(int fallback) { return fallback; }

#endif

}  // namespace ptk
