package dev.ptk.eval;

import java.util.Arrays;

/** Summary statistics of latencies and token counts. */
public final class Stats {
  private Stats() {}

  public static double mean(double[] xs) {
    if (xs.length == 0) throw new IllegalArgumentException("mean of no values");
    double sum = 0;
    for (double x : xs) sum += x;
    return sum / xs.length;
  }

  /**
   * The nearest-rank percentile: the smallest value with at least {@code q} percent of the
   * values at or below it (so the p95 of 20 values is the 19th smallest, of 10 values the 10th).
   */
  public static double percentile(double[] xs, double q) {
    if (xs.length == 0) throw new IllegalArgumentException("percentile of no values");
    if (!(q > 0 && q <= 100)) throw new IllegalArgumentException("percentile must be in (0, 100], got " + q);
    double[] sorted = xs.clone();
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(q * sorted.length / 100);
    return sorted[rank - 1];
  }
}
