package dev.ptk.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ptk.backend.BatchBuilder.Logits;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What each add puts into the batch and the sampling request, and which inputs it refuses. */
class BatchBuilderTest {
  private static final KvSegment PROMPT = new KvSegment(new int[] {7, 3}, 6);
  private static final KvSegment PATH1 = new KvSegment(new int[] {5}, 3);
  private static final KvSegment PATH2 = new KvSegment(new int[] {9}, 1);

  @Test
  void groupsLieBackToBackWithConsecutivePositionsAndTheirSegmentId() {
    BatchBuilder b = new BatchBuilder()
        .add(List.of(), PROMPT, 0, 0, new int[] {1, 2, 3, 4, 5, 6}, new int[] {28, 29, 30, 31, 12, 13}, Logits.NONE)
        .add(List.of(PROMPT), PATH1, 1, 6, new int[] {7, 8, 9}, new int[] {20, 21, 22}, Logits.NONE);
    ForwardBatch batch = b.batch();
    assertEquals(9, b.size());
    assertArrayEquals(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, batch.tokens());
    assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8}, batch.positions());
    assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0, 1, 1, 1}, batch.segmentIds());
    assertArrayEquals(new int[] {28, 29, 30, 31, 12, 13, 20, 21, 22}, batch.slots());
    assertEquals(List.of(new AttentionGroup(0, 6, List.of(), PROMPT), new AttentionGroup(6, 3, List.of(PROMPT), PATH1)),
        batch.groups());
    assertArrayEquals(new int[0], batch.logitRows());
  }

  @Test
  void logitsOfNoneTheLastOrAllOfAGroup() {
    ForwardBatch batch = new BatchBuilder()
        .add(List.of(), PROMPT, 0, 0, new int[] {1, 2}, new int[] {0, 1}, Logits.ALL)
        .add(List.of(PROMPT), PATH1, 1, 6, new int[] {3, 4, 5}, new int[] {2, 3, 4}, Logits.NONE)
        .add(List.of(PROMPT), PATH2, 2, 6, new int[] {6, 7}, new int[] {5, 6}, Logits.LAST)
        .batch();
    assertArrayEquals(new int[] {0, 1, 6}, batch.logitRows());
  }

  @Test
  void samplingLinesUpWithTheLogitRowsAndEachRowsParameters() {
    SamplingParams warm = new SamplingParams(0.7, 0.9, 20, 11);
    SamplingParams greedy = SamplingParams.greedy();
    BatchBuilder b = new BatchBuilder()
        .add(List.of(PROMPT), PATH1, 1, 6, new int[] {3, 4}, new int[] {2, 3}, Logits.NONE)
        .addSampled(List.of(PROMPT), PATH1, 1, 8, 5, 4, warm, 1, 3)
        .addSampled(List.of(PROMPT), PATH2, 2, 7, new int[] {6, 7}, new int[] {5, 6}, greedy, 2, 2);
    ForwardBatch batch = b.batch();
    assertEquals(2, b.logitRows());
    assertArrayEquals(new int[] {2, 4}, batch.logitRows());
    assertArrayEquals(new int[] {6, 7, 8, 7, 8}, batch.positions());
    SamplingRequest s = b.sampling();
    s.requireRowsOf(batch);
    assertSame(warm, s.params()[0]);
    assertSame(greedy, s.params()[1]);
    assertArrayEquals(new int[] {1, 2}, s.pathIds());
    assertArrayEquals(new int[] {3, 2}, s.steps());
  }

  @Test
  void samplingRefusesALogitRowWithoutADrawKey() {
    BatchBuilder b = new BatchBuilder()
        .add(List.of(), PROMPT, 0, 0, new int[] {1, 2}, new int[] {0, 1}, Logits.LAST)
        .addSampled(List.of(PROMPT), PATH1, 1, 6, 3, 2, SamplingParams.greedy(), 1, 0);
    IllegalStateException e = assertThrows(IllegalStateException.class, b::sampling);
    assertEquals("every logit row needs a draw key: a group was added with logits but not sampled", e.getMessage());
    IllegalStateException last = assertThrows(IllegalStateException.class,
        () -> new BatchBuilder().add(List.of(), PROMPT, 0, 0, new int[] {1}, new int[] {0}, Logits.LAST).sampling());
    assertEquals(e.getMessage(), last.getMessage());
  }

  @Test
  void refusesAGroupWhoseSlotsAndIdsDiffer() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new BatchBuilder().add(List.of(), PROMPT, 0, 0, new int[] {1, 2, 3}, new int[] {0, 1}, Logits.ALL));
    assertEquals("3 token ids but 2 slots", e.getMessage());
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
        () -> new BatchBuilder().add(List.of(), PROMPT, 0, 0, new int[0], new int[0], Logits.ALL));
    assertEquals("a group needs at least one token", empty.getMessage());
  }

  @Test
  void manyTokensGrowTheBatch() {
    BatchBuilder b = new BatchBuilder();
    for (int i = 0; i < 40; i++) {
      b.addSampled(List.of(PROMPT), new KvSegment(new int[] {i}, 1), i % 3, 6, 100 + i, 4 * i, SamplingParams.greedy(), i, 0);
    }
    ForwardBatch batch = b.batch();
    assertEquals(40, batch.size());
    assertEquals(139, batch.tokens()[39]);
    assertEquals(156, batch.slots()[39]);
    assertEquals(39, batch.logitRows()[39]);
    assertEquals(39, b.sampling().pathIds()[39]);
  }
}
