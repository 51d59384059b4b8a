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
// Thresholds instead of a sort (only when top-k or top-p is on): the k-th largest logit and the
// top-p cut are found by a radix select over an order-preserving key (float_key), 8 bits a pass,
// over the same slices. Each pass's blocks add their slices' weights (counts for top-k, fixed-point
// masses for top-p: integers, exact in any order) into the row's histogram, and the last to arrive
// picks the digit and leaves the histogram zero. Ties at a threshold are all kept (top-k) or all
// removed (top-p), where a sort would split them by position.
#pragma once
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "ptk/arrival.cuh"
#include "ptk/block_reduce.cuh"
#include "ptk/decoder_launch.h"
#include "ptk/reduce_add.cuh"
#include "ptk/sampling_math.h"
#include "ptk/shared.cuh"

namespace ptk {

constexpr int kSampleThreads = 1024;
static_assert(kSampleThreads % 32 == 0 && kSampleThreads >= kSampleRadixBins,
              "whole warps, and a thread for each bin of the select's scan");

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

// One row's workspace: each split's maximum and draw, the select's histogram and state, and the
// thresholds. The maximum pass zeroes the histogram and the arrivals; each select pass leaves them
// zero again.
struct SampleRowWork {
  ArgMax max[kSampleMaxSplits];
  ArgMax draw[kSampleMaxSplits];
  unsigned long long bins[kSampleRadixBins];  // this pass's weights by digit
  unsigned long long rank;                    // the weight of the prefix's keys still to pass over
  uint32_t prefix;                            // the digits chosen so far, in place
  int selecting;                              // 0 when top-p's select found no mass: nothing to choose
  uint32_t lo, cut;  // keys < lo (top-k) and, with top-p, keys <= cut are removed
  int arrivals, pad;
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
  SampleRowWork& w = row_work(p, row);
  if (threadIdx.x == 0) w.max[split] = a;
  if (split == 0) {  // ready for the selects that follow in the stream
    for (int b = threadIdx.x; b < kSampleRadixBins; b += blockDim.x) w.bins[b] = 0;
    if (threadIdx.x == 0) w.arrivals = 0;
  }
}

// Passes 2-5 (top-k on) and 6-9 (top-p on), grid rows x splits, one digit of one threshold each:
// the smallest key t whose weight over the keys <= t exceeds a rank. Top-k weighs every logit 1
// with rank vocab - k: t is the k-th largest key. Top-p weighs what top-k kept by its fixed-point
// mass with rank top_p_removable: the keys below t are the ones it removes.
template <bool TopP>
__global__ void __launch_bounds__(kSampleThreads) sample_select_kernel(const SampleParams p, const int level) {
  PTK_SHARED_ARRAY(unsigned long long, bins, kSampleRadixBins);
  PTK_SHARED_ARRAY(unsigned long long, scratch, 32);
  PTK_SHARED_ARRAY(int, last, 1);
  const int row = blockIdx.x / p.splits, split = blockIdx.x % p.splits;
  SampleRowWork& w = row_work(p, row);
  if (level > 0 && w.selecting == 0) return;  // the whole block, as every block of the row
  const uint32_t prefix = level > 0 ? w.prefix : 0u;
  const unsigned long long carried = level > 0 ? w.rank : 0ull;  // read before the last block rewrites it
  const uint32_t lo = top_k_on(p.top_k, p.vocab) ? w.lo : 0u;  // top-p weighs only what top-k kept
  const float* z = p.logits + size_t(row) * p.vocab;
  const float zmax = best_of(w.max, p.splits).value;
  const float s = p.inv_temperature;  // scaling by 1/T > 0 keeps the order: keys work on raw logits
  for (int b = threadIdx.x; b < kSampleRadixBins; b += blockDim.x) bins[b] = 0;
  __syncthreads();
  int begin, end;
  split_range(p, split, &begin, &end);
  for (int i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const uint32_t key = float_key(z[i]);
    if ((TopP && key < lo) || !radix_in_prefix(key, prefix, level)) continue;
    const unsigned long long weight = TopP ? mass_fixed(__expf(s * (z[i] - zmax))) : 1ull;
    if (weight != 0) red_add(&bins[radix_digit(key, level)], weight);
  }
  __syncthreads();
  for (int b = threadIdx.x; b < kSampleRadixBins; b += blockDim.x)
    if (bins[b] != 0) red_add(&w.bins[b], bins[b]);
  if (!arrive_last(&w.arrivals, p.splits, last)) return;

  // The last block: the row's histogram, one bin a thread, scanned in digit order.
  const int d = threadIdx.x;
  const unsigned long long bin = d < kSampleRadixBins ? __ldcg(&w.bins[d]) : 0ull;
  if (d < kSampleRadixBins) w.bins[d] = 0;
  unsigned long long total;
  const unsigned long long through = block_inclusive_scan(bin, scratch, &total);
  const unsigned long long rank =
      level > 0 ? carried : TopP ? top_p_removable(p.top_p, total) : (unsigned long long)(p.vocab - p.top_k);
  const uint32_t top = float_key(zmax);
  if (total <= rank) {  // no key's weight exceeds the rank: top-p over no mass (level 0 only)
    if (d == 0) {
      w.selecting = 0;
      if (TopP) w.cut = top_p_cut(0xFFFFFFFFu, top);  // remove all but the largest
    }
    return;
  }
  const unsigned long long before = through - bin;
  if (before <= rank && rank < through) {  // one thread: the digit where the weight passes the rank
    const uint32_t chosen = prefix | (uint32_t(d) << radix_shift(level));
    if (level + 1 < kSampleRadixLevels) {
      w.prefix = chosen;
      w.rank = rank - before;
      w.selecting = 1;
    } else if (TopP) {
      w.cut = top_p_cut(chosen == 0 ? 0u : chosen - 1, top);  // every key below the chosen one
    } else {
      w.lo = chosen;
    }
  }
}

// The draw (temperature > 0), grid rows x splits: each split's best draw, argmax over its kept tokens
// of s (z - zmax) - ln q, i.e. of p / q, with the thresholds of the selects that ran.
__global__ void __launch_bounds__(kSampleThreads) sample_draw_kernel(const SampleParams p) {
  PTK_SHARED_ARRAY(ArgMax, best, 32);
  const int row = blockIdx.x / p.splits, split = blockIdx.x % p.splits;
  SampleRowWork& w = row_work(p, row);
  const float* z = p.logits + size_t(row) * p.vocab;
  const float zmax = best_of(w.max, p.splits).value;
  const float s = p.inv_temperature;
  const uint32_t lo = top_k_on(p.top_k, p.vocab) ? w.lo : 0u;
  const bool has_cut = top_p_on(p.top_p);
  const uint32_t cut = has_cut ? w.cut : 0u;
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
