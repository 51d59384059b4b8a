// Token sampling on the device, so that only token ids return to the host. The order is vLLM's:
// temperature, then top-k on the scaled logits, then top-p on the probabilities of what top-k
// kept, then the draw argmax(p / q) with q ~ Exp(1) per token.
//
// Spread over many blocks per row (sample_splits, sampling_math.h): each block takes a slice of
// the row for the maximum, then for the draw, and leaves its (value, index) in the row's
// workspace; a last pass picks the best of them. `better` is a total order (larger value, then
// smaller index; NaN never wins), so the pick is the same whatever the split: bit for bit what one
// pass over the whole row draws.
//
// Thresholds instead of a sort (only when top-k or top-p is on; one block per row): the k-th
// largest logit and the top-p cut are found by bisection over the 32 bits of an order-preserving
// key (float_key), one block-wide pass over the row per bit; the row (vocab floats) stays in L2.
// Ties at a threshold are all kept (top-k) or all removed (top-p), where a sort would split them
// by position.
#pragma once
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "ptk/block_reduce.cuh"
#include "ptk/decoder_launch.h"
#include "ptk/sampling_math.h"
#include "ptk/shared.cuh"

namespace ptk {

constexpr int kSampleThreads = 1024;

struct SampleParams {
  const float* logits;
  int vocab;
  int splits;             // blocks per row (sample_splits)
  float inv_temperature;  // 0 = greedy
  int top_k;              // 0 = off
  float top_p;            // 1 = off
  uint64_t seed;
  const int32_t* path_ids;
  const int32_t* steps;
  int32_t* tokens;
  void* work;             // [rows] SampleRowWork
};

// One row's workspace: each split's maximum and draw, and the thresholds when they are on.
struct SampleRowWork {
  ArgMax max[kSampleMaxSplits];
  ArgMax draw[kSampleMaxSplits];
  uint32_t lo, cut;  // keys < lo (top-k) and, with has_cut, keys <= cut (top-p) are removed
  int has_cut, pad;
};
static_assert(sizeof(SampleRowWork) == kSampleRowWorkBytes, "the host sizes the workspace by kSampleRowWorkBytes");

__device__ __forceinline__ SampleRowWork& row_work(const SampleParams& p, int row) {
  return static_cast<SampleRowWork*>(p.work)[row];
}

// The best of a row's split results, for the whole block (every thread reads them all: few).
__device__ __forceinline__ ArgMax best_of(const ArgMax* parts, int n) {
  ArgMax a = no_argmax();
  for (int b = 0; b < n; ++b) a = better(a, parts[b]);
  return a;
}

// The [begin, end) of the row this block's split covers.
__device__ __forceinline__ void split_range(const SampleParams& p, int split, int* begin, int* end) {
  const int per = (p.vocab + p.splits - 1) / p.splits;
  *begin = min(p.vocab, split * per);
  *end = min(p.vocab, *begin + per);
}

// Number of logits of the row with key >= t.
__device__ float count_at_least(const float* z, int vocab, uint32_t t, float* scratch) {
  float c = 0.0f;
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) c += float_key(z[i]) >= t ? 1.0f : 0.0f;
  return block_sum(c, scratch);
}

// Unnormalized probability mass exp(s (z - zmax)) of kept tokens (key >= lo) with key <= t.
__device__ float mass_at_most(const float* z, int vocab, float s, float zmax, uint32_t lo, uint32_t t,
                              float* scratch) {
  float m = 0.0f;
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
    const uint32_t key = float_key(z[i]);
    if (key >= lo && key <= t) m += __expf(s * (z[i] - zmax));
  }
  return block_sum(m, scratch);
}

// Pass 1, grid rows x splits: each split's maximum logit (the lowest index on ties).
__global__ void __launch_bounds__(kSampleThreads) sample_max_kernel(const SampleParams p) {
  PTK_SHARED_ARRAY(ArgMax, best, 32);
  const int row = blockIdx.x / p.splits, split = blockIdx.x % p.splits;
  const float* z = p.logits + size_t(row) * p.vocab;
  int begin, end;
  split_range(p, split, &begin, &end);
  ArgMax a = no_argmax();
  for (int i = begin + threadIdx.x; i < end; i += blockDim.x) a = better(a, ArgMax{z[i], i});
  a = block_argmax(a, best);
  if (threadIdx.x == 0) row_work(p, row).max[split] = a;
}

// Pass 2 (top-k or top-p on), one block per row: the thresholds, by bisection over the keys.
__global__ void __launch_bounds__(kSampleThreads) sample_threshold_kernel(const SampleParams p) {
  PTK_SHARED_ARRAY(float, scratch, 32);
  const int row = blockIdx.x;
  SampleRowWork& w = row_work(p, row);
  const float* z = p.logits + size_t(row) * p.vocab;
  const float zmax = best_of(w.max, p.splits).value;
  const float s = p.inv_temperature;  // scaling by 1/T > 0 keeps the order: keys work on raw logits

  // Top-k: the largest key t with at least k logits at or above it (the k-th largest logit).
  uint32_t lo = 0;
  if (top_k_on(p.top_k, p.vocab)) {
    for (int bit = 31; bit >= 0; --bit) {
      const uint32_t cand = lo | (1u << bit);
      if (count_at_least(z, p.vocab, cand, scratch) >= float(p.top_k)) lo = cand;
    }
  }
  // Top-p: remove the smallest probabilities while their mass stays <= 1 - top_p (never the top).
  uint32_t cut = 0;  // keys <= cut removed; 0 removes nothing real (only a NaN key is 0)
  bool has_cut = false;
  if (top_p_on(p.top_p)) {
    const float total = mass_at_most(z, p.vocab, s, zmax, lo, 0xFFFFFFFFu, scratch);
    const float limit = (1.0f - p.top_p) * total;
    uint32_t t = 0;
    for (int bit = 31; bit >= 0; --bit) {
      const uint32_t cand = t | (1u << bit);
      if (mass_at_most(z, p.vocab, s, zmax, lo, cand, scratch) <= limit) t = cand;
    }
    const uint32_t top = float_key(zmax);
    cut = t < top ? t : top - 1;
    has_cut = true;
  }
  if (threadIdx.x == 0) {
    w.lo = lo;
    w.cut = cut;
    w.has_cut = has_cut ? 1 : 0;
  }
}

// Pass 3 (temperature > 0), grid rows x splits: each split's best draw, argmax over its kept tokens
// of s (z - zmax) - ln q, i.e. of p / q. `thresholds`: read pass 2's, else nothing is removed.
__global__ void __launch_bounds__(kSampleThreads) sample_draw_kernel(const SampleParams p, bool thresholds) {
  PTK_SHARED_ARRAY(ArgMax, best, 32);
  const int row = blockIdx.x / p.splits, split = blockIdx.x % p.splits;
  SampleRowWork& w = row_work(p, row);
  const float* z = p.logits + size_t(row) * p.vocab;
  const float zmax = best_of(w.max, p.splits).value;
  const float s = p.inv_temperature;
  const uint32_t lo = thresholds ? w.lo : 0u, cut = thresholds ? w.cut : 0u;
  const bool has_cut = thresholds && w.has_cut != 0;
  const uint32_t path = uint32_t(p.path_ids[row]), step = uint32_t(p.steps[row]);
  int begin, end;
  split_range(p, split, &begin, &end);
  ArgMax d = no_argmax();
  for (int i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const uint32_t key = float_key(z[i]);
    if (key < lo || (has_cut && key <= cut)) continue;
    // As the Java Sampler rounds: s (z - zmax) rounded on its own (no FMA contraction with the
    // subtraction), ln q in double then rounded to float (logf is not correctly rounded).
    const float lnq = float(log(double(exponential(p.seed, path, step, uint32_t(i)))));
    const float score = __fmul_rn(s, z[i] - zmax) - lnq;
    d = better(d, ArgMax{score, i});
  }
  d = block_argmax(d, best);
  if (threadIdx.x == 0) w.draw[split] = d;
}

// Last pass, one warp per row: the token, the best draw (greedy: the maximum; a row with nothing
// kept falls back to it too).
__global__ void sample_pick_kernel(const SampleParams p) {
  const int row = blockIdx.x, lane = threadIdx.x;
  const SampleRowWork& w = row_work(p, row);
  ArgMax a = no_argmax(), d = no_argmax();
  for (int b = lane; b < p.splits; b += 32) {
    a = better(a, w.max[b]);
    if (p.inv_temperature != 0.0f) d = better(d, w.draw[b]);
  }
  a = warp_argmax(a);
  d = warp_argmax(d);
  if (lane == 0) p.tokens[row] = p.inv_temperature != 0.0f && d.index < p.vocab ? d.index : a.index;
}

}  // namespace ptk
