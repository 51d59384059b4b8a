// The one way a kernel is launched: on a GPU the <<<grid, block, smem, stream>>> syntax, on the
// sim device (native/sim) the SIMT runtime, which also takes the kernel's name from this
// function's signature for its reports.
#pragma once
#include <cuda_runtime.h>

#include <utility>

namespace ptk {

template <auto Kernel, class... Args>
inline cudaError_t launch_kernel(dim3 grid, dim3 block, size_t smem, cudaStream_t stream, Args&&... args) {
#if defined(PTK_SIM)
  return ::ptk_sim::launch_kernel<Kernel>(__PRETTY_FUNCTION__, grid, block, smem, stream, std::forward<Args>(args)...);
#else
  Kernel<<<grid, block, smem, stream>>>(std::forward<Args>(args)...);
  return cudaGetLastError();
#endif
}

}  // namespace ptk
