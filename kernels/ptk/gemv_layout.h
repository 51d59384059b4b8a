// How the decode-shape matmul (gemv.cuh) splits a weight of n rows and k columns into blocks, and
// the handoffs that follow from it: the split workspace, and the residual's sums of squares in
// parts, one per group of output columns. Plain C++ (no CUDA headers), so that the C ABI's host
// code sizes them as the kernels do.
#pragma once
#include <stddef.h>

#include "ptk/common.h"

namespace ptk {

// A block owns a group of kGemvRows weight rows and reads each of them once for all (up to
// kGemvMaxRows) input rows, which it stages from L2 once per k slice of kGemvSlice values.
constexpr int kGemvRows = 32, kGemvMaxRows = 16, kGemvSlice = 256;
// Blocks a gemv should give the chip: two waves on kPlannedMultiprocessors.
constexpr int kGemvMinBlocks = 2 * kPlannedMultiprocessors;

PTK_HD int gemv_groups(int n) { return (n + kGemvRows - 1) / kGemvRows; }
PTK_HD int gemv_slices(int k) { return (k + kGemvSlice - 1) / kGemvSlice; }

// Split-K: a weight with fewer groups than kGemvMinBlocks (the small projections: n = 1536 is 48
// groups) has its k slices split among several blocks per group, so the chip fills without
// narrower groups (which would stage the input rows once per fewer weight rows: at 8 rows and
// 16 inputs that is twice the weight's own bytes from L2). A function of n and k alone, so the
// layout (and so every sum's order) is the same for every m: batch invariance.
PTK_HD int gemv_splits(int n, int k) {
  const int groups = gemv_groups(n), slices = gemv_slices(k);
  const int want = (kGemvMinBlocks + groups - 1) / groups;
  return want < slices ? want : slices;
}
// Split s of `splits` takes slices [gemv_split_begin(s), gemv_split_begin(s + 1)): contiguous,
// sizes differing by at most one.
PTK_HD int gemv_split_begin(int s, int splits, int slices) { return int((long long)s * slices / splits); }

// The workspace of a split gemv (0 bytes when it does not split): an arrival counter (int) per
// group, zero between launches, then each group's room of splits * kGemvRows * kGemvMaxRows
// f32, where a launch of m rows packs its blocks' sums [split][kGemvRows][m]. The last block of
// a group to arrive adds the splits' sums in split order and writes the outputs (arrival.cuh).
// The counters come first, in room for every group a split gemv can have (fewer than
// kGemvMinBlocks), so that a workspace of the largest size serves every gemv: no gemv's sums
// land on another's counters.
constexpr size_t kGemvCounterBytes = kGemvMinBlocks * sizeof(int);
static_assert(kGemvCounterBytes % 16 == 0, "the sums start 16-byte aligned");
PTK_HD size_t gemv_workspace_bytes(int n, int k) {
  if (gemv_splits(n, k) <= 1) return 0;
  return kGemvCounterBytes + size_t(gemv_groups(n)) * gemv_splits(n, k) * kGemvRows * kGemvMaxRows * sizeof(float);
}

// Where the products run (gemv.cuh): tensor cores (mma.sync) or CUDA cores (FMA). The same
// layout and the same sums up to their order, so a choice for a whole process (ptk_gemv's header).
enum class GemvMath { kMma, kFma };

// A residual row of `hidden` columns is summed in parts of kGemvRows columns: the columns one
// group of a gemv that adds into the residual (n = hidden) owns, so the block that writes a
// group's outputs writes its part and no block waits for another. The parts per row:
PTK_HD int norm_parts(int hidden) { return gemv_groups(hidden); }

}  // namespace ptk
