// Instantiates the fused thought-embedding + RoPE + KV-append kernel for head dims 64 and 128.
#include "ptk/launch.h"
#include "ptk/launch_kernel.cuh"
#include "ptk/rope_append.cuh"

namespace ptk {

bool rope_supports_head_dim(int head_dim) { return head_dim == 64 || head_dim == 128; }

int rope_append_launch(const RopeAppendLaunch& a, void* stream) {
  const RopeAppendParams p = rope_append_params(a);
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  if (a.head_dim == 64) return int(launch_kernel<rope_append_kernel<64>>(a.grid, kRopeThreads, 0, s, p));
  if (a.head_dim == 128) return int(launch_kernel<rope_append_kernel<128>>(a.grid, kRopeThreads, 0, s, p));
  return int(cudaErrorInvalidValue);
}

}  // namespace ptk
