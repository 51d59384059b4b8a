package dev.ptk.eval;

/** Generates one answer to one problem: the engine in {@code ptk eval}, a scripted solver in tests. */
@FunctionalInterface
public interface Solver {
  /** Decodes {@code paths} paths of at most {@code maxTokensPerPath} tokens each, then the summary. */
  Generation generate(String problem, int paths, int maxTokensPerPath, long seed);
}
