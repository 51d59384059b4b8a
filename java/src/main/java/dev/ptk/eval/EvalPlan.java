package dev.ptk.eval;

import java.util.List;

/**
 * What to run: every problem in every mode at every P, {@code samples} times.
 *
 * @param maxTokens tokens per path (sequential mode gives its single path P times this)
 * @param seed base seed; run {@code k} of a problem uses seed + k, and member {@code j} of a
 *     majority vote at P uses seed + k·P + j, so at P = 1 the three modes make the same run
 */
public record EvalPlan(List<Mode> modes, List<Integer> paths, int samples, int maxTokens, long seed) {
  public EvalPlan {
    modes = List.copyOf(modes);
    paths = List.copyOf(paths);
    if (modes.isEmpty()) throw new IllegalArgumentException("no mode to run");
    if (paths.isEmpty()) throw new IllegalArgumentException("no path count to run");
    for (int p : paths) if (p < 1) throw new IllegalArgumentException("path counts must be at least 1, got " + p);
    if (samples < 1) throw new IllegalArgumentException("samples must be at least 1, got " + samples);
    if (maxTokens < 1) throw new IllegalArgumentException("maxTokens must be positive, got " + maxTokens);
  }

  public int runsPerProblem() {
    return modes.size() * paths.size() * samples;
  }
}
