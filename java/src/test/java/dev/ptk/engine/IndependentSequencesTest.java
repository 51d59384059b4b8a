package dev.ptk.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.backend.SamplingParams;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.model.ParaThinkerPrompt;
import dev.ptk.model.RopeScaling;
import dev.ptk.model.Tokenizer;
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

  /** What a test runs with: an engine on the tiny checkpoint with a pool of {@code pages}, and an engine prompt. */
  private interface Body {
    void run(ParaThinkerEngine engine, CpuBackend backend, int[] prompt);
  }

  private static void withEngine(int pages, Body body) {
    try (Tokenizer tokenizer = Tokenizer.load(TinyVectors.file("tiny-model"));
        CpuBackend backend = TinyVectors.backend(RopeScaling.NONE, pages)) {
      body.run(ParaThinkerEngine.of(backend, tokenizer), backend,
          ParaThinkerPrompt.engineIds(tokenizer, "What is 7 times 6?", backend.pageSize()));
    }
  }

  @Test
  void greedySequencesFollowTheArgmaxOfTheirOwnLogits() {
    withEngine(64, (engine, backend, prompt) -> {
      IndependentResult r = engine.generateIndependent(prompt, 3, TOKENS, SamplingParams.greedy(), ProgressListener.NONE);
      assertEquals(3, r.tokens().length);
      assertEquals(3 * TOKENS, r.timings().pathTokens());
      for (int[] s : r.tokens()) assertArrayEquals(r.tokens()[0], s, "greedy copies of one prompt agree");
      assertEquals(backend.numPages(), engine.pool().freePages(), "every page is free afterwards");

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
    withEngine(64, (engine, backend, prompt) -> {
      SamplingParams hot = new SamplingParams(1.0, 1.0, 0, 42);
      int[][] a = engine.generateIndependent(prompt, 4, TOKENS, hot, ProgressListener.NONE).tokens();
      int[][] b = engine.generateIndependent(prompt, 4, TOKENS, hot, ProgressListener.NONE).tokens();
      assertTrue(Arrays.deepEquals(a, b), "the same seed replays every sequence");
      assertNotEquals(Arrays.toString(a[0]), Arrays.toString(a[1]), "sequences draw with their own keys");
    });
  }

  @Test
  void requestsThatCannotFitAreRefusedByName() {
    withEngine(8, (engine, backend, prompt) -> {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> engine.generateIndependent(prompt, 8, TOKENS, SamplingParams.greedy(), ProgressListener.NONE));
      assertTrue(e.getMessage().contains("KV pages, the pool has 8"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> engine.generateIndependent(prompt, 0, TOKENS, SamplingParams.greedy(), ProgressListener.NONE));
      assertEquals("sequences must be at least 1, got 0", e.getMessage());
      assertEquals(8, engine.pool().freePages());
    });
  }

  private static int argmax(float[] row) {
    int best = 0;
    for (int i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    return best;
  }
}
