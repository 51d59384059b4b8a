package dev.ptk.backend.cpu;

import dev.ptk.model.RopeScaling;

/**
 * Rotary position embedding, neox (rotate-half) style over the full head: pairs {@code (d, d + D/2)}
 * turn by {@code p · w_d}. With YaRN the frequencies are blended by a linear ramp between
 * interpolated and original, and cos and sin carry {@code mscale}.
 */
final class Rotary {
  private final int half;
  private final double[] freq;
  private final double mscale;

  Rotary(int headDim, double theta, RopeScaling scaling) {
    half = headDim / 2;
    freq = new double[half];
    for (int d = 0; d < half; d++) freq[d] = Math.pow(theta, -2.0 * d / headDim);
    if (!scaling.isYarn()) {
      mscale = 1.0;
      return;
    }
    double low = Math.max(Math.floor(correction(headDim, theta, scaling.originalMaxPositions(), scaling.betaFast())), 0);
    double high = Math.min(Math.ceil(correction(headDim, theta, scaling.originalMaxPositions(), scaling.betaSlow())), headDim - 1);
    if (high == low) high += 0.001;
    for (int d = 0; d < half; d++) {
      double r = Math.min(Math.max((d - low) / (high - low), 0.0), 1.0);
      freq[d] = freq[d] / scaling.factor() * r + freq[d] * (1 - r);
    }
    mscale = scaling.mscale();
  }

  /** The dimension index at which a frequency makes {@code rotations} turns over {@code originalMax} positions. */
  private static double correction(int headDim, double theta, int originalMax, double rotations) {
    return headDim * Math.log(originalMax / (2 * Math.PI * rotations)) / (2 * Math.log(theta));
  }

  int half() {
    return half;
  }

  /** cos and sin (times mscale) of every frequency at {@code position}, into {@code [off, off + D/2)}. */
  void angles(int position, float[] cos, float[] sin, int off) {
    for (int d = 0; d < half; d++) {
      double a = position * freq[d];
      cos[off + d] = (float) (Math.cos(a) * mscale);
      sin[off + d] = (float) (Math.sin(a) * mscale);
    }
  }

  /** Rotates one head {@code x[off, off + D)} by the angles at {@code cs}. */
  void rotate(float[] x, int off, float[] cos, float[] sin, int cs) {
    for (int d = 0; d < half; d++) {
      float a = x[off + d], b = x[off + half + d];
      float c = cos[cs + d], s = sin[cs + d];
      x[off + d] = a * c - b * s;
      x[off + half + d] = b * c + a * s;
    }
  }
}
