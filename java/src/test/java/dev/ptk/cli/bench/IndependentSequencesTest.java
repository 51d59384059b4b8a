package dev.ptk.cli.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.backend.SamplingParams;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.engine.ProgressListener;
import dev.ptk.engine.ScoreInput;
import dev.ptk.engine.Scorer;
import dev.ptk.engine.SummaryPosition;
import dev.ptk.model.ParaThinkerPrompt;
import dev.ptk.model.RopeScaling;
import dev.ptk.model.Tokenizer;
import dev.ptk.testing.TestVectors;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The baseline of independent sequences on the tiny checkpoint: greedy sequences are the argmax of
 * the teacher-forced logits of a plain continuation (scored in one forward by {@link Scorer}), and
 * nothing is left held.
 */
class IndependentSequencesTest {
  private static final int TOKENS = 24;

  /** What a test runs with: the tiny checkpoint with a pool of {@code pages}, and an engine prompt. */
  private interface Body {
    void run(CpuBackend backend, int[] prompt);
  }

  private static void withBackend(int pages, Body body) {
    try (Tokenizer tokenizer = Tokenizer.load(TestVectors.tinyModel());
        CpuBackend backend = TestVectors.tinyBackend(RopeScaling.NONE, pages)) {
      body.run(backend, ParaThinkerPrompt.engineIds(tokenizer, "What is 7 times 6?", backend.pageSize()));
    }
  }

  @Test
  void greedySequencesFollowTheArgmaxOfTheirOwnLogits() {
    withBackend(64, (backend, prompt) -> {
      IndependentResult r = IndependentSequences.run(backend, prompt, 3, TOKENS, SamplingParams.greedy(), ProgressListener.NONE);
      assertEquals(3, r.tokens().length);
      assertEquals(3 * TOKENS, r.timings().pathTokens());
      for (int[] s : r.tokens()) assertArrayEquals(r.tokens()[0], s, "greedy copies of one prompt agree");

      // Prompt then the sequence's tokens at positions Lp.., segment 0, seeing the prompt: the
      // score layout's summary with no paths, placed by the training rule (base Lp + 0).
      int[] seq = r.tokens()[0];
      float[][] logits = new Scorer(backend).score(
          new ScoreInput(prompt, List.of(), Arrays.copyOf(seq, TOKENS - 1), SummaryPosition.TRAINING), SummaryPosition.TRAINING);
      for (int k = 0; k < TOKENS; k++) {
        assertEquals(argmax(logits[prompt.length - 1 + k]), seq[k], "token " + k);
      }
    });
  }

  @Test
  void sampledSequencesDifferAndReplayFromTheSeed() {
    withBackend(64, (backend, prompt) -> {
      SamplingParams hot = new SamplingParams(1.0, 1.0, 0, 42);
      int[][] a = IndependentSequences.run(backend, prompt, 4, TOKENS, hot, ProgressListener.NONE).tokens();
      int[][] b = IndependentSequences.run(backend, prompt, 4, TOKENS, hot, ProgressListener.NONE).tokens();
      assertTrue(Arrays.deepEquals(a, b), "the same seed replays every sequence");
      assertNotEquals(Arrays.toString(a[0]), Arrays.toString(a[1]), "sequences draw with their own keys");
    });
  }

  @Test
  void requestsThatCannotFitAreRefusedByName() {
    withBackend(8, (backend, prompt) -> {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> IndependentSequences.run(backend, prompt, 8, TOKENS, SamplingParams.greedy(), ProgressListener.NONE));
      assertTrue(e.getMessage().contains("KV pages, the pool has 8"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> IndependentSequences.run(backend, prompt, 0, TOKENS, SamplingParams.greedy(), ProgressListener.NONE));
      assertEquals("sequences must be at least 1, got 0", e.getMessage());
    });
  }

  private static int argmax(float[] row) {
    int best = 0;
    for (int i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    return best;
  }
}
