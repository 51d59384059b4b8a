// Attention states and their exact merge by log-sum-exp. A state over a set of keys is
// (o, lse): o the softmax-weighted mean of the values, lse = ln(sum_j exp(s_j)) in natural log;
// no keys is (0, -inf). Inside a kernel the running form is (m, d) in base 2: scores are
// pre-multiplied by log2(e) so that exp2 (one instruction) replaces exp.
#pragma once
#include <math.h>

#include "ptk/common.h"

namespace ptk {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// Running softmax state of one query row in base 2: m = max score, d = sum exp2(s - m).
struct SoftmaxState {
  float m;
  float d;
};

PTK_HD SoftmaxState softmax_empty() { return SoftmaxState{-INFINITY, 0.f}; }

// Factor that rescales terms accumulated under max `old_m` to a new max `new_m` >= old_m.
// An empty state (old_m = -inf) contributes nothing; guard -inf - -inf = NaN.
PTK_HD float softmax_rescale(float old_m, float new_m) {
  return old_m == -INFINITY ? 0.f : exp2f(old_m - new_m);
}

// Natural-log lse of a finished base-2 state; -inf when no key was seen.
PTK_HD float softmax_lse(SoftmaxState s) {
  return s.d > 0.f ? (s.m + log2f(s.d)) * kLn2 : -INFINITY;
}

// Weights (w_a, w_b) and merged lse of two natural-log states: o = w_a o_a + w_b o_b.
struct MergeWeights {
  float w_a;
  float w_b;
  float lse;
};

PTK_HD MergeWeights merge_weights(float lse_a, float lse_b) {
  float m = fmaxf(lse_a, lse_b);
  if (m == -INFINITY) return MergeWeights{0.f, 0.f, -INFINITY};
  float ea = expf(lse_a - m), eb = expf(lse_b - m);  // exp(-inf) = 0 for an empty side
  float sum = ea + eb;
  return MergeWeights{ea / sum, eb / sum, m + logf(sum)};
}

}  // namespace ptk
