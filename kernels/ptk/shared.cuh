// Block-shared memory declarations, one spelling for both devices. On a GPU they are __shared__
// arrays; on the sim device (native/sim) each declaration site gets its own region of the running
// block's shared memory, poisoned at block start, and the dynamic area is exactly the launch's size.
#pragma once
#include <cuda_runtime.h>

#if defined(PTK_SIM)
// T name[count], shared by the block.
#define PTK_SHARED_ARRAY(T, name, count) T* const name = ::ptk_sim::shared_array<T>((count), [] {})
// The launch's dynamic shared memory as T name[], 16-byte aligned.
#define PTK_DYNAMIC_SHARED(T, name) T* const name = static_cast<T*>(::ptk_sim::dynamic_shared())
#else
#define PTK_SHARED_ARRAY(T, name, count) __shared__ T name[count]
#define PTK_DYNAMIC_SHARED(T, name) extern __shared__ __align__(16) T name[]
#endif
