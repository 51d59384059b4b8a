// Device discovery. "No GPU" and "no driver" are normal conditions, reported as zero devices.
#include <cstdio>
#include <cstring>

#include "error.h"

#ifdef PTK_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

extern "C" {

ptk_status ptk_cuda_versions(int* runtime_version, int* driver_version) {
  PTK_REQUIRE_NOT_NULL(runtime_version);
  PTK_REQUIRE_NOT_NULL(driver_version);
  *runtime_version = 0;
  *driver_version = 0;
#ifdef PTK_WITH_CUDA
  if (cudaRuntimeGetVersion(runtime_version) != cudaSuccess) *runtime_version = 0;
  if (cudaDriverGetVersion(driver_version) != cudaSuccess) *driver_version = 0;
  cudaGetLastError();
#endif
  return ptk::ok();
}

ptk_status ptk_device_count(int* count) {
  PTK_REQUIRE_NOT_NULL(count);
  *count = 0;
#ifdef PTK_WITH_CUDA
  cudaError_t err = cudaGetDeviceCount(count);
  cudaGetLastError();  // do not leave a sticky "no device" for the next caller
  if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver ||
      err == cudaErrorInitializationError) {
    *count = 0;
  } else if (err != cudaSuccess) {
    *count = 0;
    return ptk::fail(PTK_ERR_CUDA, "cudaGetDeviceCount: %s", cudaGetErrorString(err));
  }
#endif
  return ptk::ok();
}

ptk_status ptk_device_get_info(int device, ptk_device_info* info) {
  PTK_REQUIRE_NOT_NULL(info);
  std::memset(info, 0, sizeof *info);
#ifdef PTK_WITH_CUDA
  int count = 0;
  ptk_status status = ptk_device_count(&count);
  if (status != PTK_OK) return status;
  if (count == 0) return ptk::fail(PTK_ERR_NO_DEVICE, "no CUDA device is available");
  PTK_REQUIRE(device >= 0 && device < count, "device %d is out of range [0, %d)", device, count);
  cudaDeviceProp prop;
  cudaError_t err = cudaGetDeviceProperties(&prop, device);
  if (err != cudaSuccess) return ptk::fail(PTK_ERR_CUDA, "cudaGetDeviceProperties(%d): %s", device, cudaGetErrorString(err));
  std::snprintf(info->name, sizeof info->name, "%s", prop.name);
  info->compute_major = prop.major;
  info->compute_minor = prop.minor;
  info->multiprocessors = prop.multiProcessorCount;
  info->max_shared_memory_per_block = static_cast<int>(prop.sharedMemPerBlockOptin);
  info->l2_cache_bytes = prop.l2CacheSize;
  info->memory_bus_width_bits = prop.memoryBusWidth;
  info->total_memory_bytes = prop.totalGlobalMem;
#ifdef PTK_SIM
  info->simulated = 1;
#endif
  int previous = 0;
  if (cudaGetDevice(&previous) == cudaSuccess && cudaSetDevice(device) == cudaSuccess) {
    size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) info->free_memory_bytes = free_bytes;
    cudaSetDevice(previous);
  }
  cudaGetLastError();
  return ptk::ok();
#else
  (void)device;
  return ptk::fail(PTK_ERR_NO_CUDA, "this ptk library was built without CUDA");
#endif
}

}  // extern "C"
