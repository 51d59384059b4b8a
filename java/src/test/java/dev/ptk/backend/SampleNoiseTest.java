package dev.ptk.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ptk.nativelib.global.ptk;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The Java port of the counter-based noise against libptk's, which the device kernel shares. */
class SampleNoiseTest {

  @Test
  void mixIsSplitMix64sFinalizer() {
    // The first two outputs of splitmix64 seeded with 0: the finalizer of 1 and 2 golden-ratio increments.
    assertEquals(0xE220A8397B1DCDAFL, SampleNoise.mix64(0x9E3779B97F4A7C15L));
    assertEquals(0x6E789E6AA1B965F4L, SampleNoise.mix64(2 * 0x9E3779B97F4A7C15L));
  }

  @Test
  void equalsTheNativeExponentialBitForBit() {
    long[] seeds = {0, 1, -1, Long.MIN_VALUE, Long.MAX_VALUE, 42, 0x9E3779B97F4A7C15L};
    int[] edges = {0, 1, 2, 7, 8, 151935, Integer.MAX_VALUE, Integer.MIN_VALUE, -1};
    for (long seed : seeds) {
      for (int path : edges) for (int step : edges) for (int token : edges) assertSame(seed, path, step, token);
    }
    SplittableRandom r = new SplittableRandom(2024);
    for (int i = 0; i < 200_000; i++) {
      assertSame(r.nextLong(), r.nextInt(64), r.nextInt(1 << 15), r.nextInt(152_064));
      assertSame(r.nextLong(), r.nextInt(), r.nextInt(), r.nextInt());
    }
  }

  private static void assertSame(long seed, int path, int step, int token) {
    float expected = ptk.ptk_sample_exponential(seed, path, step, token);
    float actual = SampleNoise.exponential(seed, path, step, token);
    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual),
        "seed " + seed + " path " + path + " step " + step + " token " + token + ": " + expected + " vs " + actual);
  }

  @Test
  void drawsAreExponentialWithMeanAndVarianceOne() {
    int n = 200_000;
    double sum = 0, squares = 0;
    for (int token = 0; token < n; token++) {
      double q = SampleNoise.exponential(7, 1, 0, token);
      sum += q;
      squares += q * q;
    }
    double mean = sum / n;
    // Standard errors: 1/sqrt(n) = 0.0022 for the mean, about 2/sqrt(n) = 0.0045 for E[q^2] = 2.
    assertEquals(1, mean, 0.012);
    assertEquals(1, squares / n - mean * mean, 0.03);
  }
}
