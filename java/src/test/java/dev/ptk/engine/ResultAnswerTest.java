package dev.ptk.engine;

import static dev.ptk.engine.EngineStateMachineTest.CONTROL;
import static dev.ptk.engine.EngineStateMachineTest.END_SUMMARY;
import static dev.ptk.engine.EngineStateMachineTest.END_THINK;
import static dev.ptk.engine.EngineStateMachineTest.LP;
import static dev.ptk.engine.EngineStateMachineTest.PROMPT;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ptk.backend.SamplingParams;
import org.junit.jupiter.api.Test;

/**
 * A result's answer follows the one answer rule: the summary's last box, else the paths' vote (not
 * the last box of the whole text, which would be the last path's).
 */
class ResultAnswerTest {
  private static final int SEVEN = 60, NINE = 61, THREE = 62;

  /** Three paths boxing 7, 7 and 9, each stopping at once (n = 4), then a summary sampling {@code summary}. */
  private static GenerationResult run(int... summary) {
    int[][] paths = {{SEVEN, END_THINK}, {SEVEN, END_THINK}, {NINE, END_THINK}};
    ScriptedBackend backend = new ScriptedBackend(4, 64, 32, EngineStateMachineTest.script(paths, summary, 2 * LP + 4));
    ParaThinkerEngine engine = new ParaThinkerEngine(backend, CONTROL, ResultAnswerTest::text);
    return engine.generate(PROMPT, new GenerationOptions(3, 16, SamplingParams.greedy(), Termination.ALL,
        SummaryPosition.ENGINE, 16), ProgressListener.NONE);
  }

  private static String text(int[] ids) {
    StringBuilder sb = new StringBuilder();
    for (int id : ids) {
      sb.append(switch (id) {
        case SEVEN -> "\\boxed{7}";
        case NINE -> "\\boxed{9}";
        case THREE -> "\\boxed{3}";
        default -> " ";
      });
    }
    return sb.toString();
  }

  @Test
  void withoutABoxInTheSummaryThePathsVote() {
    GenerationResult r = run(45, END_SUMMARY);
    assertEquals(4, r.pathLength());
    assertEquals("7", r.answer());
  }

  @Test
  void theSummarysBoxComesFirst() {
    assertEquals("3", run(THREE, END_SUMMARY).answer());
  }
}
