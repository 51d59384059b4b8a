package dev.ptk.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.model.Checkpoint;
import dev.ptk.testing.TestVectors;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a batch is cut, and that drawing per chunk draws what the whole batch draws. */
class BatchChunksTest {
  private static final int PAGE = 4;
  private static final Checkpoint TINY = Checkpoint.open(TestVectors.tinyModel());
  private static final KvSegment PROMPT = new KvSegment(new int[] {7, 3}, 6);

  /**
   * A 6-token prompt on pages 7, 3 and two 3-token paths after it, each seeing the prompt, with the
   * logit rows in any order (the cases need rows BatchBuilder does not build, so the batch is raw).
   */
  private static ForwardBatch promptThenPaths(int[] logitRows) {
    List<KvSegment> prompt = List.of(PROMPT);
    return new ForwardBatch(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 6, 7, 8},
        new int[] {0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2}, new int[] {28, 29, 30, 31, 12, 13, 20, 21, 22, 36, 37, 38},
        List.of(new AttentionGroup(0, 6, List.of(), PROMPT), new AttentionGroup(6, 3, prompt, new KvSegment(new int[] {5}, 3)),
            new AttentionGroup(9, 3, prompt, new KvSegment(new int[] {9}, 3))),
        logitRows);
  }

  @Test
  void aBatchThatFitsIsOneChunk() {
    ForwardBatch b = promptThenPaths(new int[] {11, 5});
    List<BatchChunks.Chunk> chunks = BatchChunks.split(b, 12, PAGE);
    assertEquals(1, chunks.size());
    assertSame(b, chunks.get(0).batch());
    assertArrayEquals(new int[] {0, 1}, chunks.get(0).rows());
  }

  @Test
  void cutGroupsSeeTheirOwnSegmentUpToTheChunksLastToken() {
    List<BatchChunks.Chunk> chunks = BatchChunks.split(promptThenPaths(new int[] {11, 5, 0, 7}), 5, PAGE);
    assertEquals(3, chunks.size());
    ForwardBatch first = chunks.get(0).batch();
    assertArrayEquals(new int[] {1, 2, 3, 4, 5}, first.tokens());
    KvSegment fiveOfSix = first.groups().get(0).own();
    assertEquals(5, fiveOfSix.length());
    assertArrayEquals(new int[] {7, 3}, fiveOfSix.pages());
    assertArrayEquals(new int[] {0}, first.logitRows());  // batch row 0, the third row asked for
    assertArrayEquals(new int[] {2}, chunks.get(0).rows());

    ForwardBatch second = chunks.get(1).batch();
    assertArrayEquals(new int[] {13, 20, 21, 22, 36}, second.slots());
    assertEquals(3, second.groups().size());
    assertSame(PROMPT, second.groups().get(0).own());  // the prompt's last token: the whole segment
    assertEquals(new AttentionGroup(1, 3, List.of(PROMPT), second.groups().get(1).own()), second.groups().get(1));
    assertEquals(1, second.groups().get(2).own().length());  // path 2's first token of 3
    assertArrayEquals(new int[] {0, 2}, second.logitRows());  // batch rows 5 and 7
    assertArrayEquals(new int[] {1, 3}, chunks.get(1).rows());

    assertArrayEquals(new int[] {1}, chunks.get(2).batch().logitRows());  // batch row 11
    assertArrayEquals(new int[] {0}, chunks.get(2).rows());
    for (BatchChunks.Chunk c : chunks) BatchCheck.check(c.batch(), TINY.config(), 16, PAGE);
  }

  @Test
  void nonPositiveChunkSizeIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BatchChunks.split(promptThenPaths(new int[0]), 0, PAGE));
    assertEquals("maxTokens must be >= 1, got 0", e.getMessage());
  }

  @Test
  void drawingPerChunkDrawsTheSameTokens() {
    try (CpuBackend backend = new CpuBackend(TINY.config(), TINY.weights(), PAGE, 16)) {
      int[] rows = {11, 8, 2, 5};
      ForwardBatch whole = promptThenPaths(rows);
      SamplingRequest keys = SamplingRequest.of(new SamplingParams(0.8, 0.95, 20, 1234), new int[] {2, 1, 0, 0},
          new int[] {3, 3, 1, 2});
      int[] want = backend.sample(whole, keys);
      int[] got = new int[rows.length];
      for (BatchChunks.Chunk c : BatchChunks.split(whole, 5, PAGE)) {
        int[] part = backend.sample(c.batch(), c.select(keys));
        for (int i = 0; i < part.length; i++) got[c.rows()[i]] = part[i];
      }
      assertArrayEquals(want, got);
    }
  }

}
