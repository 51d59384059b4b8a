package dev.ptk.engine;

/** Hears about a request while it runs (called on the thread that steps the scheduler). */
public interface ProgressListener {
  ProgressListener NONE = new ProgressListener() {
    @Override
    public void onStep(Progress progress) {}
  };

  /** After each decode step of the thinking phase or the summary. */
  void onStep(Progress progress);

  /** The request enters a phase (thinking once its prompt is in the KV cache, then the summary). */
  default void onPhase(Phase phase) {}

  /**
   * A token joins an output: path {@code 1..P}, or 0 for the summary; forced tokens (the start
   * token, the summary template) included, rewritten tokens as written.
   */
  default void onToken(int path, int token) {}

  /** Something the user should know (for example P beyond the trained range). */
  default void onWarning(String message) {}

  enum Phase { THINKING, SUMMARY }

  /**
   * @param step decode steps so far in this phase
   * @param pathTokens tokens of each path so far
   * @param summaryTokens summary tokens so far (0 while thinking)
   * @param tokensPerSecond tokens produced per second in this phase so far
   */
  record Progress(Phase phase, int step, int[] pathTokens, int summaryTokens, double tokensPerSecond) {}
}
