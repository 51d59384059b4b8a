package dev.ptk.answer;

import java.util.ArrayList;
import java.util.List;

/**
 * Majority vote over answers, counting answers that {@link Grader#equivalent grade as equal}
 * ({@code 1/2} and {@code 0.5}) as one vote. Missing answers (null or blank) do not vote. The
 * largest class wins; on a tie, the class whose first answer comes earliest. The winner is that
 * class's first answer as written.
 */
public final class MajorityVote {
  private MajorityVote() {}

  /** The winning answer, or null when no answer votes. */
  public static String winner(List<String> answers) {
    List<List<String>> classes = new ArrayList<>();
    for (String answer : answers) {
      if (answer == null || answer.isBlank()) continue;
      List<String> home = null;
      for (List<String> c : classes) {
        if (Grader.equivalent(answer, c.get(0))) {
          home = c;
          break;
        }
      }
      if (home == null) classes.add(home = new ArrayList<>());
      home.add(answer);
    }
    List<String> best = null;
    for (List<String> c : classes) {
      if (best == null || c.size() > best.size()) best = c;
    }
    return best == null ? null : best.get(0);
  }
}
