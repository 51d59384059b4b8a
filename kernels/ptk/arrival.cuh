// Hand-off between the blocks of one launch: of the `count` blocks that each write a share of a
// result, the one that finishes last learns so and may read every share (the decode kernel's
// merge of a row's partial states). No block waits on another, so any order of blocks, and any
// number resident at once, completes.
#pragma once
#include <cuda_runtime.h>

namespace ptk {

// Called by every thread of the block after its writes of the share; `flag_s` is a shared int.
// The release: each thread fences its own writes before thread 0 takes a ticket. The acquire: the
// last block fences again before it reads. The last block also puts the counter back to 0, ready
// for the next launch (every block of this result has taken its ticket by then).
__device__ inline bool arrive_last(int* counter, int count, int* flag_s) {
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) {
    const bool last = atomicAdd(counter, 1) == count - 1;
    if (last) *counter = 0;
    *flag_s = last;
  }
  __syncthreads();
  const bool last = *flag_s != 0;
  if (last) __threadfence();
  return last;
}

}  // namespace ptk
