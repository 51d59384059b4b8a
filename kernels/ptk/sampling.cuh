// Token sampling on the device, one block per row of logits, so that only token ids return to the
// host. The order is vLLM's: temperature, then top-k on the scaled logits, then top-p on the
// probabilities of what top-k kept, then the draw argmax(p / q) with q ~ Exp(1) per token.
//
// Thresholds instead of a sort: the k-th largest logit and the top-p cut are found by bisection
// over the 32 bits of an order-preserving key (float_key), one block-wide pass over the row per
// bit; the row (vocab floats) stays in L2. Ties at a threshold are all kept (top-k) or all
// removed (top-p), where a sort would split them by position.
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
  float inv_temperature;  // 0 = greedy
  int top_k;              // 0 = off
  float top_p;            // 1 = off
  uint64_t seed;
  const int32_t* path_ids;
  const int32_t* steps;
  int32_t* tokens;
};

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

__global__ void __launch_bounds__(kSampleThreads) sample_kernel(const SampleParams p) {
  PTK_SHARED_ARRAY(float, scratch, 32);
  PTK_SHARED_ARRAY(ArgMax, best, 32);
  const float* z = p.logits + size_t(blockIdx.x) * p.vocab;

  ArgMax a{-INFINITY, 0x7FFFFFFF};
  for (int i = threadIdx.x; i < p.vocab; i += blockDim.x) a = better(a, ArgMax{z[i], i});
  a = block_argmax(a, best);
  if (p.inv_temperature == 0.0f) {
    if (threadIdx.x == 0) p.tokens[blockIdx.x] = a.index;
    return;
  }
  const float zmax = a.value;
  const float s = p.inv_temperature;  // scaling by 1/T > 0 keeps the order: keys work on raw logits

  // Top-k: the largest key t with at least k logits at or above it (the k-th largest logit).
  uint32_t lo = 0;
  if (p.top_k > 0 && p.top_k < p.vocab) {
    for (int bit = 31; bit >= 0; --bit) {
      const uint32_t cand = lo | (1u << bit);
      if (count_at_least(z, p.vocab, cand, scratch) >= float(p.top_k)) lo = cand;
    }
  }
  // Top-p: remove the smallest probabilities while their mass stays <= 1 - top_p (never the top).
  uint32_t cut = 0;  // keys <= cut removed; 0 removes nothing real (only a NaN key is 0)
  bool has_cut = false;
  if (p.top_p < 1.0f) {
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

  // Draw: argmax over kept tokens of s (z - zmax) - ln q, i.e. of p / q.
  const uint32_t path = uint32_t(p.path_ids[blockIdx.x]), step = uint32_t(p.steps[blockIdx.x]);
  ArgMax d{-INFINITY, 0x7FFFFFFF};
  for (int i = threadIdx.x; i < p.vocab; i += blockDim.x) {
    const uint32_t key = float_key(z[i]);
    if (key < lo || (has_cut && key <= cut)) continue;
    // As the Java Sampler rounds: s (z - zmax) rounded on its own (no FMA contraction with the
    // subtraction), ln q in double then rounded to float (logf is not correctly rounded).
    const float lnq = float(log(double(exponential(p.seed, path, step, uint32_t(i)))));
    const float score = __fmul_rn(s, z[i] - zmax) - lnq;
    d = better(d, ArgMax{score, i});
  }
  d = block_argmax(d, best);
  if (threadIdx.x == 0) p.tokens[blockIdx.x] = d.index < p.vocab ? d.index : a.index;
}

}  // namespace ptk
