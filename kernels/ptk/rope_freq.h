// RoPE frequencies, plain and YaRN (ramp between interpolated and extrapolated frequencies,
// mscale on cos/sin), in double so host tests and kernels agree with the float64 reference.
#pragma once
#include <math.h>

#include "ptk/common.h"

namespace ptk {

struct RopeParams {
  double theta;          // base, 10000 for Qwen2
  double yarn_factor;    // f; 1 = plain RoPE
  double original_max;   // L0, YaRN's original context length
  double beta_fast;
  double beta_slow;
};

struct YarnRange {
  double low;
  double high;
};

// Dimension index (of head_dim/2) at which the wavelength makes `rotations` turns over L0.
PTK_HD double yarn_correction_dim(double rotations, int head_dim, const RopeParams& p) {
  return head_dim * log(p.original_max / (rotations * 2.0 * 3.14159265358979323846)) / (2.0 * log(p.theta));
}

PTK_HD YarnRange yarn_range(int head_dim, const RopeParams& p) {
  double low = floor(yarn_correction_dim(p.beta_fast, head_dim, p));
  double high = ceil(yarn_correction_dim(p.beta_slow, head_dim, p));
  low = low < 0 ? 0 : low;
  high = high > head_dim - 1 ? head_dim - 1 : high;
  if (high == low) high += 0.001;  // avoid a zero-width ramp
  return YarnRange{low, high};
}

// Angular frequency of pair i (0 <= i < head_dim/2): theta^(-2i/D), blended toward theta^(-2i/D)/f
// by YaRN's ramp when f > 1.
PTK_HD double rope_inv_freq(int i, int head_dim, const RopeParams& p) {
  double w = pow(p.theta, -2.0 * i / head_dim);
  if (p.yarn_factor <= 1.0) return w;
  YarnRange r = yarn_range(head_dim, p);
  double ramp = (i - r.low) / (r.high - r.low);
  ramp = ramp < 0 ? 0 : (ramp > 1 ? 1 : ramp);
  return (w / p.yarn_factor) * ramp + w * (1.0 - ramp);
}

// Scale applied to cos and sin: 0.1 ln f + 1 for YaRN, 1 otherwise.
PTK_HD double rope_mscale(const RopeParams& p) {
  return p.yarn_factor <= 1.0 ? 1.0 : 0.1 * log(p.yarn_factor) + 1.0;
}

}  // namespace ptk
