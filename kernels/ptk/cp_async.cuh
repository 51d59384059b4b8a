// 16-byte asynchronous global -> shared copies (sm_80+), zero-filling when the source is invalid
// so that masked tokens never expose stale shared memory (0 * NaN would poison a sum). On the sim
// device the copies go to its runtime, which lands them at the wait (or at random before it).
#pragma once
#include <cuda_runtime.h>

namespace ptk {

#if defined(PTK_SIM)
inline void cp_async16(void* smem, const void* gmem, bool valid) { ::ptk_sim::cp_async16(smem, gmem, valid); }
inline void cp_async_commit() { ::ptk_sim::cp_async_commit(); }
template <int N>
inline void cp_async_wait() {
  ::ptk_sim::cp_async_wait(N);
}
#else
__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
  unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  int src_bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(gmem), "r"(src_bytes));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}
#endif

}  // namespace ptk
