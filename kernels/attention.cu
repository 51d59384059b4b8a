// Instantiates the attention and merge kernels for head dims 64 and 128 (the decode variant's
// kernels: decode_attention.cu).
#include "ptk/attention.cuh"
#include "ptk/launch.h"
#include "ptk/launch_kernel.cuh"
#include "ptk/merge.cuh"

namespace ptk {
namespace {

// (o_a, lse_a) + (o_b, lse_b) -> (o, lse) over `rows` rows of head_dim floats.
__global__ void __launch_bounds__(32 * kMergeWarps) merge_states_kernel(const float* o_a, const float* lse_a,
                                                                         const float* o_b, const float* lse_b,
                                                                         float* o, float* lse, int rows, int head_dim) {
  const int lane = threadIdx.x % 32;
  for (int row = blockIdx.x * kMergeWarps + threadIdx.x / 32; row < rows; row += gridDim.x * kMergeWarps) {
    const MergeWeights w = merge_weights(lse_a[row], lse_b[row]);
    for (int c = lane * 4; c < head_dim; c += 128) {
      const size_t i = size_t(row) * head_dim + c;
      const float4 a = *reinterpret_cast<const float4*>(o_a + i);
      const float4 b = *reinterpret_cast<const float4*>(o_b + i);
      // An empty side has weight 0; skip it so that whatever it holds cannot leak in.
      const float4 fa = w.w_a > 0.f ? a : make_float4(0.f, 0.f, 0.f, 0.f);
      const float4 fb = w.w_b > 0.f ? b : make_float4(0.f, 0.f, 0.f, 0.f);
      store4(o + i, w.w_a * fa.x + w.w_b * fb.x, w.w_a * fa.y + w.w_b * fb.y, w.w_a * fa.z + w.w_b * fb.z,
             w.w_a * fa.w + w.w_b * fb.w);
    }
    __syncwarp();  // every lane has read lse_a/lse_b[row] (which lse may alias)
    if (lane == 0) lse[row] = w.lse;
  }
}

template <class C>
cudaError_t launch_attention(const AttentionLaunch& a, cudaStream_t stream) {
  return launch_kernel<attention_kernel<C>>(a.grid, C::kThreads, 0, stream, attention_params(a));
}

template <int D>
cudaError_t launch_for_dim(const AttentionLaunch& a, cudaStream_t stream) {
  if (a.variant == Variant::kDecode) return cudaError_t(decode_attention_launch(a, stream));  // merge fused
  const cudaError_t err = launch_attention<AttentionConfig<D>>(a, stream);
  if (err != cudaSuccess) return err;
  const MergePartialsParams m = merge_params(a);
  if (a.o_is_f32) {
    return launch_kernel<merge_partials_kernel<float>>(a.merge_grid, 32 * kMergeWarps, 0, stream, m,
                                                       static_cast<float*>(a.o));
  }
  return launch_kernel<merge_partials_kernel<uint16_t>>(a.merge_grid, 32 * kMergeWarps, 0, stream, m,
                                                        static_cast<uint16_t*>(a.o));
}

}  // namespace

bool attention_supports_head_dim(int head_dim) { return head_dim == 64 || head_dim == 128; }

int attention_launch(const AttentionLaunch& a, void* stream) {
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  if (a.head_dim == 64) return int(launch_for_dim<64>(a, s));
  if (a.head_dim == 128) return int(launch_for_dim<128>(a, s));
  return int(cudaErrorInvalidValue);
}

int merge_states_launch(const float* o_a, const float* lse_a, const float* o_b, const float* lse_b, float* o,
                        float* lse, int rows, int head_dim, void* stream) {
  const int grid = (rows + kMergeWarps - 1) / kMergeWarps;
  return int(launch_kernel<merge_states_kernel>(grid, 32 * kMergeWarps, 0, static_cast<cudaStream_t>(stream), o_a,
                                                lse_a, o_b, lse_b, o, lse, rows, head_dim));
}

}  // namespace ptk
