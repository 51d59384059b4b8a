package dev.ptk.backend;

/**
 * The random numbers of a draw, counter-based: a pure function of (seed, path, step, token), so
 * every path's tokens are reproducible on their own, whatever the batch, and the host computes
 * bit for bit what {@code ptk_sample} draws on the device (kernels/ptk/sampling_math.h). Path,
 * step and token are read as unsigned 32-bit words.
 */
public final class SampleNoise {
  private SampleNoise() {}

  /** {@code q ~ Exp(1)} for one token of one draw: {@code float(-ln u)}. */
  public static float exponential(long seed, int path, int step, int token) {
    return (float) -StrictMath.log(uniform(seed, path, step, token));
  }

  /** A uniform draw in (0, 1) with 53 random bits, never 0 or 1. */
  static double uniform(long seed, int path, int step, int token) {
    long h = mix64(seed ^ 0x9E3779B97F4A7C15L);
    h = mix64(h ^ ((long) path << 32 | Integer.toUnsignedLong(step)));
    h = mix64(h ^ Integer.toUnsignedLong(token));
    return ((h >>> 11) + 0.5) * 0x1p-53;
  }

  /** splitmix64's finalizer: a bijection of 64-bit words whose outputs pass BigCrush for counters. */
  static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
