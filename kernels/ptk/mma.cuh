// One warp-wide tensor-core product, D += A B for a 16 x 8 tile over 16 of k: bf16 A and B, f32
// C and D (mma.sync m16n8k16, sm_80+). Each lane holds its fragments as the PTX ISA lays them out
// (lane = 4 g + t): a[0..3] = A's bf16 pairs at (row g, columns 2t, 2t+1), (g + 8, 2t..),
// (g, 2t + 8..), (g + 8, 2t + 8..); b[0..1] = B's at (rows 2t, 2t+1, column g), (rows 2t + 8..,
// column g); d[0..3] = D at (g, 2t), (g, 2t + 1), (g + 8, 2t), (g + 8, 2t + 1). The lower half of
// each pair is the lower index. Every lane of the warp must reach it together: on the sim device
// it is a warp rendezvous that faults otherwise, and computes the tile as the header there says.
#pragma once
#include <cuda_runtime.h>
#include <stdint.h>

namespace ptk {

__device__ __forceinline__ void mma_bf16_16x8x16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
#if defined(PTK_SIM)
  ::ptk_sim::mma_m16n8k16_bf16(d, a, b);
#else
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#endif
}

}  // namespace ptk
