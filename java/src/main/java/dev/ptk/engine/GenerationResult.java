package dev.ptk.engine;

import java.util.List;

/**
 * A finished request.
 *
 * @param promptTokens the engine prompt (double BOS, template, {@code <vllm_pad>} to a page boundary)
 * @param pathLength n, the path output length the summary position is based on (the longest path)
 * @param summaryTokens {@code <summary>}, the template, the free part and {@code </summary>} if it stopped
 * @param text all path tokens then the summary, decoded (the released example's output text)
 * @param answer the last balanced {@code \boxed{...}} of {@code text} (so the summary's when it has
 *     one, else the last path's that has one); null when there is none
 * @param seed the sampling seed, which replays the request
 */
public record GenerationResult(
    int[] promptTokens,
    List<PathOutput> paths,
    int pathLength,
    int[] summaryTokens,
    String summaryText,
    FinishReason summaryFinish,
    String text,
    String answer,
    Timings timings,
    long seed) {

  public int promptLength() {
    return promptTokens.length;
  }
}
