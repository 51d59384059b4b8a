package dev.ptk.answer;

import java.util.ArrayList;
import java.util.List;

/**
 * The final answer of one ParaThinker generation: the last boxed answer of the summary. When the
 * summary has none (cut off, or it only restates the paths), the paths vote: each path's last
 * boxed answer is one vote, equivalent answers count together, and a tie goes to the lowest path
 * index ({@link MajorityVote}). The one rule for a generation's answer: the engine's result and
 * the evaluation both use it.
 */
public final class AnswerExtractor {
  /** Where an answer came from. */
  public enum Source { SUMMARY, PATHS, NONE }

  /** An extracted answer (null with {@link Source#NONE}). */
  public record Extraction(String answer, Source source) {}

  private AnswerExtractor() {}

  public static Extraction extract(String summary, List<String> paths) {
    String answer = Boxed.last(summary);
    if (answer != null && !answer.isEmpty()) return new Extraction(answer, Source.SUMMARY);
    List<String> votes = new ArrayList<>();
    for (String path : paths) votes.add(Boxed.last(path));
    answer = MajorityVote.winner(votes);
    return answer == null ? new Extraction(null, Source.NONE) : new Extraction(answer, Source.PATHS);
  }
}
