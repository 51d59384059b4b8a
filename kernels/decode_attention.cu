// Instantiates the decode-attention kernel for head dims 64 and 128 and query-head groups of up
// to 8 (rows rounded up to 1, 2, 4, 6 or 8: the row loops are unrolled at compile time), each
// writing o in f32 or bf16 (the merge is fused).
#include "ptk/decode_attention.cuh"
#include "ptk/launch.h"
#include "ptk/launch_kernel.cuh"

namespace ptk {
namespace {

template <int D, int ROWS>
cudaError_t launch_rows(const AttentionLaunch& a, cudaStream_t stream) {
  using C = DecodeConfig<D, ROWS>;
  const MergePartialsParams m = merge_params(a);
  if (a.o_is_f32)
    return launch_kernel<decode_attention_kernel<C, float>>(a.grid, C::kThreads, 0, stream, attention_params(a), m,
                                                            static_cast<float*>(a.o), a.arrivals);
  return launch_kernel<decode_attention_kernel<C, uint16_t>>(a.grid, C::kThreads, 0, stream, attention_params(a), m,
                                                             static_cast<uint16_t*>(a.o), a.arrivals);
}

template <int D>
cudaError_t launch_for_dim(const AttentionLaunch& a, cudaStream_t stream) {
  const int group = a.num_q_heads / a.num_kv_heads;
  if (group <= 1) return launch_rows<D, 1>(a, stream);
  if (group <= 2) return launch_rows<D, 2>(a, stream);
  if (group <= 4) return launch_rows<D, 4>(a, stream);
  if (group <= 6) return launch_rows<D, 6>(a, stream);
  if (group <= kMaxGroup) return launch_rows<D, kMaxGroup>(a, stream);
  return cudaErrorInvalidValue;
}

}  // namespace

int decode_attention_launch(const AttentionLaunch& a, void* stream) {
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  if (a.head_dim == 64) return int(launch_for_dim<64>(a, s));
  if (a.head_dim == 128) return int(launch_for_dim<128>(a, s));
  return int(cudaErrorInvalidValue);
}

}  // namespace ptk
