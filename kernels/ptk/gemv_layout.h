// How the decode-shape matmul (gemv.cuh) splits a weight of n rows into blocks, and the handoff
// that follows from it: the residual's sums of squares in parts, one per block of output columns.
// Plain C++ (no CUDA headers), so that the C ABI's host code sizes the parts as the kernels do.
#pragma once
#include "ptk/common.h"

namespace ptk {

// Wide blocks (32 rows) once there are at least 2 waves of them on kPlannedMultiprocessors; else 8 rows, so that
// the small projections (n = 1536, 2048) still give 192-256 blocks.
constexpr int kGemvWideRows = 32, kGemvNarrowRows = 8;
constexpr int kGemvWideFrom = kGemvWideRows * kPlannedMultiprocessors * 2;

// Rows per block for a weight of n rows: a function of n alone (batch invariance).
PTK_HD int gemv_rows(int n) { return n >= kGemvWideFrom ? kGemvWideRows : kGemvNarrowRows; }

// Where the products run (gemv.cuh): tensor cores (mma.sync) or CUDA cores (FMA). The same
// layout and the same sums up to their order, so a choice for a whole process (ptk_gemv's header).
enum class GemvMath { kMma, kFma };

// A residual row of `hidden` columns is summed in parts of gemv_rows(hidden) columns: the columns
// one block of a gemv that adds into the residual (n = hidden) owns, so each block writes its own
// part and no block waits for another. The parts per row:
PTK_HD int norm_parts(int hidden) { return (hidden + gemv_rows(hidden) - 1) / gemv_rows(hidden); }

}  // namespace ptk
