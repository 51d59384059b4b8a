package dev.ptk.eval;

import java.util.concurrent.CompletableFuture;

/** Generates answers to problems: the engine in {@code ptk eval}, a scripted solver in tests. */
@FunctionalInterface
public interface Solver {
  /** Decodes {@code paths} paths of at most {@code maxTokensPerPath} tokens each, then the summary. */
  Generation generate(String problem, int paths, int maxTokensPerPath, long seed);

  /**
   * Starts the same generation and returns at once when the solver decodes many at a time (the
   * engine's batch); the default generates before returning.
   */
  default CompletableFuture<Generation> submit(String problem, int paths, int maxTokensPerPath, long seed) {
    return CompletableFuture.completedFuture(generate(problem, paths, maxTokensPerPath, seed));
  }
}
