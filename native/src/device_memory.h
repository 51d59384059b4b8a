// Device memory for the plans, and CUDA errors as ptk statuses. Without CUDA every operation
// returns PTK_ERR_NO_CUDA.
#pragma once
#include <stddef.h>

#include <initializer_list>

#include "error.h"

namespace ptk {

// PTK_OK for 0, else PTK_ERR_OUT_OF_MEMORY / PTK_ERR_NO_DEVICE / PTK_ERR_CUDA with "what: reason".
ptk_status cuda_status(int cuda_error, const char* what);

// One device allocation, freed with its owner; its address never changes once made.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer();
  ptk_status allocate(size_t bytes);  // once; later calls keep the first allocation
  char* get() const { return static_cast<char*>(ptr_); }
  bool allocated() const { return ptr_ != nullptr; }

 private:
  void* ptr_ = nullptr;
};

// A device buffer with a pinned host mirror of its first bytes, for data written on the host
// every step (plans): the host fills the mirror, then asynchronous copies move it, with no staging
// by the driver. A copy reads the mirror when the stream reaches it, so rewriting the mirror waits
// until the previous copies are done (an event recorded after the last), never longer.
class StagedBuffer {
 public:
  StagedBuffer() = default;
  StagedBuffer(const StagedBuffer&) = delete;
  StagedBuffer& operator=(const StagedBuffer&) = delete;
  ~StagedBuffer();
  // Once; later calls keep the first allocation. The mirror covers [0, mirror_bytes) of the device bytes.
  ptk_status allocate(size_t bytes, size_t mirror_bytes);
  ptk_status wait_for_mirror();  // before writing host(): the previous uploads have read it
  // The mirror's [offset, offset + bytes) ranges to the same places on the device, in stream
  // order, one copy each, then one event after them.
  struct Range {
    size_t offset, bytes;
  };
  ptk_status upload(std::initializer_list<Range> ranges, void* stream);
  char* host() const { return static_cast<char*>(host_); }
  char* device() const { return static_cast<char*>(device_); }
  bool allocated() const { return device_ != nullptr; }

 private:
  void* device_ = nullptr;
  void* host_ = nullptr;
  void* copied_ = nullptr;  // event recorded after the last upload
  bool pending_ = false;
};

// Stream-ordered copy from pageable host memory; `src` may be reused when it returns.
ptk_status copy_to_device(void* dst, const void* src, size_t bytes, void* stream);

// Multiprocessors of the current device, or `fallback` when there is none.
int device_multiprocessors(int fallback);

// Bump allocation of sub-buffers inside one device allocation, 256-byte aligned.
struct Carve {
  size_t offset = 0;
  size_t take(size_t bytes) {
    size_t at = offset;
    offset += (bytes + 255) / 256 * 256;
    return at;
  }
};

}  // namespace ptk
