package dev.ptk.engine;

import java.util.List;

/**
 * A finished request.
 *
 * @param promptTokens the engine prompt (double BOS, template, {@code <vllm_pad>} to a page boundary)
 * @param pathLength n, the path output length the summary position is based on (the longest path)
 * @param summaryTokens {@code <summary>}, the template, the free part and {@code </summary>} if it stopped
 * @param text all path tokens then the summary, decoded (the released example's output text)
 * @param answer the final answer by {@link dev.ptk.answer.AnswerExtractor}'s rule: the summary's
 *     last box, else the paths' vote; null when nothing is boxed
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
