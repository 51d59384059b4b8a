package dev.ptk.engine;

/** Wall-clock time of each phase and the tokens it produced (path tokens summed over paths). */
public record Timings(long prefillNanos, long thinkingNanos, long summaryNanos, int promptTokens, int pathTokens, int summaryTokens) {

  public double prefillTokensPerSecond() {
    return perSecond(promptTokens, prefillNanos);
  }

  public double thinkingTokensPerSecond() {
    return perSecond(pathTokens, thinkingNanos);
  }

  public double summaryTokensPerSecond() {
    return perSecond(summaryTokens, summaryNanos);
  }

  public long totalNanos() {
    return prefillNanos + thinkingNanos + summaryNanos;
  }

  /** {@code tokens} per second over {@code nanos}; 0 before any time has passed. */
  public static double perSecond(long tokens, long nanos) {
    return nanos <= 0 ? 0 : tokens * 1e9 / nanos;
  }
}
