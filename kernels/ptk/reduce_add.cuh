// An atomic add whose old value is not used (PTX red.add.u64), into shared or global memory: the
// histograms of the sampling thresholds. Integer sums are exact in any order, so what the adds
// build does not depend on which block or thread came first. A reduction hands nothing to another
// block; that stays arrival.cuh's job.
#pragma once
#include <cuda_runtime.h>

namespace ptk {

#if defined(PTK_SIM)
inline void red_add(unsigned long long* address, unsigned long long value) { ::ptk_sim::reduce_add(address, value); }
#else
__device__ __forceinline__ void red_add(unsigned long long* address, unsigned long long value) {
  atomicAdd(address, value);  // the result unused: the compiler emits red
}
#endif

}  // namespace ptk
