package dev.ptk.engine;

import dev.ptk.backend.KvSegment;

/**
 * The most KV pages a request can hold at once, the one rule for it: its prompt, every path at its
 * longest and the summary at its cap. A path holds the K/V of every token it was fed: at most
 * {@code maxTokens}, and no more than the context leaves after the prompt (a path ends once prompt +
 * path exceed the context, having been fed one token past it). The summary is fed at most its cap.
 * The scheduler reserves this much on admission, so a running request never finds the pool empty.
 */
public record KvBudget(int promptPages, int paths, int pagesPerPath, int summaryPages) {
  public static KvBudget of(int promptLength, GenerationOptions options, int pageSize, int maxModelLength) {
    int longestPath = Math.min(options.maxTokens(), Math.max(1, maxModelLength - promptLength + 1));
    return new KvBudget(KvSegment.pagesFor(promptLength, pageSize), options.paths(),
        KvSegment.pagesFor(longestPath, pageSize), KvSegment.pagesFor(options.summaryMaxTokens(), pageSize));
  }

  public int total() {
    return promptPages + paths * pagesPerPath + summaryPages;
  }

  /** Pages past the prompt: what the request takes fresh once its prompt is in the cache. */
  public int afterPrompt() {
    return total() - promptPages;
  }

  @Override
  public String toString() {
    return total() + " KV pages (prompt " + promptPages + " + " + paths + " paths x " + pagesPerPath + " + summary "
        + summaryPages + ")";
  }
}
