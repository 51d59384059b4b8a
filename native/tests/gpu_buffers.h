// Device buffers for the native tests that launch kernels through the C ABI: poisoned at
// allocation (0xFF: NaN in bf16 and f32) with a poisoned guard tail that must survive every run,
// so that nothing written past a buffer's end goes unseen.
#pragma once
#include <cuda_runtime_api.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ptk/common.h"
#include "ptk/ptk.h"

struct Gpu {
  static constexpr size_t kGuard = 256;
  std::vector<std::pair<void*, size_t>> owned;
  Gpu() = default;
  Gpu(const Gpu&) = delete;
  Gpu& operator=(const Gpu&) = delete;
  ~Gpu() {
    for (auto& [p, n] : owned) cudaFree(p);
  }
  void* alloc(size_t bytes) {
    void* p = nullptr;
    if (cudaMalloc(&p, bytes + kGuard) != cudaSuccess) throw std::runtime_error("cudaMalloc failed");
    owned.push_back({p, bytes});
    cudaMemset(p, 0xFF, bytes + kGuard);
    return p;
  }
  void* upload(const void* data, size_t bytes) {
    void* p = alloc(bytes);
    cudaMemcpy(p, data, bytes, cudaMemcpyHostToDevice);
    return p;
  }
  template <class T>
  void* upload(const std::vector<T>& v) {
    return upload(v.data(), v.size() * sizeof(T));
  }
  bool guards_intact() const {
    std::vector<unsigned char> tail(kGuard);
    for (const auto& [p, n] : owned) {
      cudaMemcpy(tail.data(), static_cast<char*>(p) + n, kGuard, cudaMemcpyDeviceToHost);
      for (unsigned char b : tail)
        if (b != 0xFF) return false;
    }
    return true;
  }
  static std::vector<double> download(const void* p, size_t n, bool bf16) {
    std::vector<double> v(n);
    if (bf16) {
      std::vector<uint16_t> h(n);
      cudaMemcpy(h.data(), p, n * 2, cudaMemcpyDeviceToHost);
      for (size_t i = 0; i < n; ++i) v[i] = ptk::bf16_to_float(h[i]);
    } else {
      std::vector<float> h(n);
      cudaMemcpy(h.data(), p, n * 4, cudaMemcpyDeviceToHost);
      for (size_t i = 0; i < n; ++i) v[i] = h[i];
    }
    return v;
  }
};

#define ABI(expr)                                                                                  \
  do {                                                                                             \
    ptk_status s_ = (expr);                                                                        \
    if (s_ != PTK_OK) throw std::runtime_error(std::string(#expr) + ": " + ptk_last_error());       \
  } while (0)

inline void sync() {
  const cudaError_t e = cudaDeviceSynchronize();
  if (e != cudaSuccess) throw std::runtime_error(std::string("CUDA: ") + cudaGetErrorString(e));
}
