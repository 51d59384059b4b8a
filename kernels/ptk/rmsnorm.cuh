// RMSNorm's arithmetic, one owner for every kernel that norms (norm.cuh's row kernels and the
// gemv that norms its input as it stages it): the scale of a row from its sum of squares, then
// each value times the scale and its weight, in that order (the caller rounds to bf16).
#pragma once
#include <cuda_runtime.h>

namespace ptk {

__device__ __forceinline__ float rms_scale(float sum_of_squares, int n, float eps) {
  return rsqrtf(sum_of_squares / n + eps);
}

__device__ __forceinline__ float rms_normed(float x, float scale, float weight) { return x * scale * weight; }

}  // namespace ptk
