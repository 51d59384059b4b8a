// Sampling math shared by the kernels and the host tests: the counter-based random numbers and
// the order-preserving float keys that the top-k / top-p thresholds are searched on.
#pragma once
#include <math.h>
#include <stdint.h>

#include "ptk/common.h"

namespace ptk {

// splitmix64's finalizer: a bijection of 64-bit words whose outputs pass BigCrush for counters.
PTK_HD uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A uniform draw in (0, 1) for (seed, path, step, token): no state, so every path's stream is
// reproducible on its own and independent of how the batch was formed.
PTK_HD double uniform_open(uint64_t seed, uint32_t path, uint32_t step, uint32_t token) {
  uint64_t h = mix64(seed ^ 0x9E3779B97F4A7C15ull);
  h = mix64(h ^ ((uint64_t(path) << 32) | step));
  h = mix64(h ^ token);
  return (double(h >> 11) + 0.5) * (1.0 / 9007199254740992.0);  // 53 bits, never 0 or 1
}

// q ~ Exp(1): the token drawn is argmax(p / q), which picks token i with probability p_i / sum p.
PTK_HD float exponential(uint64_t seed, uint32_t path, uint32_t step, uint32_t token) {
  return float(-log(uniform_open(seed, path, step, token)));
}

// Maps a float to a uint32 with the same order (-inf smallest, +inf largest), so that thresholds
// are found by a radix select over the 32 bits.
PTK_HD uint32_t float_key(float x) {
  union { float f; uint32_t u; } v;
  v.f = x;
  return (v.u & 0x80000000u) ? ~v.u : (v.u | 0x80000000u);
}

// Blocks per row of a draw: enough for two per multiprocessor (kPlannedMultiprocessors) over all rows,
// at most kSampleMaxSplits, and at most one per 1024 logits (rounded up). The draw does not depend on
// it (sampling.cuh), so it is a matter of speed alone.
constexpr int kSampleMaxSplits = 64;
PTK_HD int sample_splits(int rows, int vocab) {
  int s = (2 * kPlannedMultiprocessors + rows - 1) / rows;
  const int by_vocab = (vocab + 1023) / 1024;
  if (s > by_vocab) s = by_vocab;
  if (s > kSampleMaxSplits) s = kSampleMaxSplits;
  return s < 1 ? 1 : s;
}

// The thresholds are found by a radix select over the keys, most significant digit first: one pass
// over the row for each of 4 digits of 8 bits, each pass building a histogram of 256 bins over the
// keys that match the digits chosen so far.
constexpr int kSampleRadixBits = 8;
constexpr int kSampleRadixBins = 1 << kSampleRadixBits;
constexpr int kSampleRadixLevels = 32 / kSampleRadixBits;
// Where level `level`'s digit sits in a key (level 0: the top 8 bits).
PTK_HD int radix_shift(int level) { return 32 - kSampleRadixBits * (level + 1); }
PTK_HD int radix_digit(uint32_t key, int level) { return int((key >> radix_shift(level)) & (kSampleRadixBins - 1)); }
// Whether the key has the digits above level `level` that `prefix` holds (every key at level 0).
PTK_HD bool radix_in_prefix(uint32_t key, uint32_t prefix, int level) {
  return level == 0 || (key >> (32 - kSampleRadixBits * level)) == (prefix >> (32 - kSampleRadixBits * level));
}

// Top-p weighs each logit by its unnormalized probability w = exp(s (z - zmax)) in [0, 1], in fixed
// point of 2^-39 (rounded down), so the sums are integers: exact in any order, and the cut the same
// whatever the split, the batch or the order of adds. A NaN weighs nothing. The sum of
// kSampleMaxVocab weights of at most 2^39 each fits 64 bits.
constexpr int kSampleMaxVocab = 1 << 24;
PTK_HD unsigned long long mass_fixed(float w) { return w > 0.0f ? (unsigned long long)(w * 0x1p39f) : 0ull; }
// The mass top-p may remove, (1 - top_p) of the total, rounded down: the cut is at the smallest
// key whose weight up to and including it exceeds this.
PTK_HD unsigned long long top_p_removable(float top_p, unsigned long long total) {
  return (unsigned long long)(double(1.0f - top_p) * double(total));
}
// The largest logit is never cut: keys <= the returned key are removed.
PTK_HD uint32_t top_p_cut(uint32_t removable_through, uint32_t top) {
  return removable_through < top ? removable_through : top - 1;
}

// A row's workspace (sampling.cuh's SampleRowWork): the splits' maxima and draws (8 bytes each),
// a histogram, and the select's state.
constexpr unsigned kSampleRowWorkBytes = 2 * kSampleMaxSplits * 8 + kSampleRadixBins * 8 + 32;

// Whether top-k and top-p remove anything (0 and k >= vocab: top-k off; 1: top-p off).
PTK_HD bool top_k_on(int k, int vocab) { return k > 0 && k < vocab; }
PTK_HD bool top_p_on(float p) { return p < 1.0f; }

PTK_HD float silu(float x) { return x / (1.0f + expf(-x)); }

}  // namespace ptk
