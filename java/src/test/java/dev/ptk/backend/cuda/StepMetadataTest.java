package dev.ptk.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.KvSegment;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Shapes and packed ragged tables of steps, on pages of 4 tokens. */
class StepMetadataTest {
  private static final int PAGE = 4;
  private static final KvSegment PROMPT = new KvSegment(new int[] {7, 3}, 6);
  private static final KvSegment PATH1 = new KvSegment(new int[] {5}, 2);
  private static final KvSegment PATH2 = new KvSegment(new int[] {9, 10}, 5);

  private static int[] slice(StepMetadata m, int at, int n) {
    return Arrays.copyOfRange(m.data(), at, at + n);
  }

  @Test
  void phaseOneStepListsTheSharedPromptOnce() {
    List<KvSegment> prompt = List.of(PROMPT);
    ForwardBatch b = new ForwardBatch(new int[] {11, 12}, new int[] {7, 10}, new int[] {1, 2}, new int[] {21, 40},
        List.of(new AttentionGroup(0, 1, prompt, PATH1), new AttentionGroup(1, 1, prompt, PATH2)), new int[] {0, 1});
    assertEquals(new StepShape(2, 2, true, true), StepShape.of(b));
    StepMetadata m = StepMetadata.pack(b, PAGE);
    assertEquals(4, m.deviceInts());
    assertArrayEquals(new int[] {11, 12}, slice(m, m.tokensAt(), 2));
    assertArrayEquals(new int[] {0, 1}, slice(m, m.logitRowsAt(), 2));
    assertArrayEquals(new int[] {7, 10}, slice(m, m.positionsAt(), 2));
    assertArrayEquals(new int[] {1, 2}, slice(m, m.segmentIdsAt(), 2));
    assertArrayEquals(new int[] {21, 40}, slice(m, m.slotsAt(), 2));
    assertEquals(2, m.numGroups());
    assertArrayEquals(new int[] {0, 1, 2}, slice(m, m.qoIndptrAt(), 3));
    assertArrayEquals(new int[] {0, 2, 4}, slice(m, m.groupIndptrAt(), 3));
    assertArrayEquals(new int[] {0, 1, 0, 2}, slice(m, m.groupSegmentsAt(), 4));
    assertEquals(3, m.numSegments());  // prompt, path 1, path 2
    assertArrayEquals(new int[] {0, 2, 3, 5}, slice(m, m.segIndptrAt(), 4));
    assertArrayEquals(new int[] {7, 3, 5, 9, 10}, slice(m, m.indicesAt(), 5));
    assertArrayEquals(new int[] {2, 2, 1}, slice(m, m.lastPageLenAt(), 3));
    assertEquals(5, m.numIndices());
  }

  @Test
  void summaryStepListsEverySegmentThenItsOwn() {
    KvSegment summary = new KvSegment(new int[] {12, 13}, 3);  // page 13 holds no token yet
    ForwardBatch b = new ForwardBatch(new int[] {99}, new int[] {20}, new int[] {0}, new int[] {50},
        List.of(new AttentionGroup(0, 1, List.of(PROMPT, PATH1, PATH2), summary)), new int[] {0});
    assertEquals(new StepShape(1, 1, true, true), StepShape.of(b));
    StepMetadata m = StepMetadata.pack(b, PAGE);
    assertEquals(4, m.numSegments());
    assertArrayEquals(new int[] {0, 4}, slice(m, m.groupIndptrAt(), 2));
    assertArrayEquals(new int[] {0, 1, 2, 3}, slice(m, m.groupSegmentsAt(), 4));
    assertArrayEquals(new int[] {0, 2, 3, 5, 6}, slice(m, m.segIndptrAt(), 5));
    assertArrayEquals(new int[] {7, 3, 5, 9, 10, 12}, slice(m, m.indicesAt(), 6));
    assertArrayEquals(new int[] {2, 2, 1, 3}, slice(m, m.lastPageLenAt(), 4));
  }

  @Test
  void promptPrefillIsOneGroupOverItsOwnSegmentAndNotADecodeStep() {
    ForwardBatch b = new ForwardBatch(new int[] {1, 2, 3, 4, 5, 6}, new int[] {0, 1, 2, 3, 4, 5}, new int[6],
        new int[] {28, 29, 30, 31, 12, 13}, List.of(new AttentionGroup(0, 6, List.of(), PROMPT)), new int[0]);
    assertEquals(new StepShape(6, 0, false, false), StepShape.of(b));
    StepMetadata m = StepMetadata.pack(b, PAGE);
    assertEquals(6, m.deviceInts());
    assertArrayEquals(new int[] {0, 6}, slice(m, m.qoIndptrAt(), 2));
    assertArrayEquals(new int[] {0, 1}, slice(m, m.groupIndptrAt(), 2));
    assertArrayEquals(new int[] {0}, slice(m, m.groupSegmentsAt(), 1));
    assertArrayEquals(new int[] {0, 2}, slice(m, m.segIndptrAt(), 2));
    assertArrayEquals(new int[] {7, 3}, slice(m, m.indicesAt(), 2));
    assertArrayEquals(new int[] {2}, slice(m, m.lastPageLenAt(), 1));
  }

  @Test
  void seventeenPathsAreNotADecodeShape() {
    List<KvSegment> prompt = List.of(PROMPT);
    AttentionGroup[] groups = new AttentionGroup[17];
    for (int i = 0; i < 17; i++) groups[i] = new AttentionGroup(i, 1, prompt, new KvSegment(new int[] {20 + i}, 1));
    ForwardBatch b = new ForwardBatch(new int[17], new int[17], new int[17], new int[17], List.of(groups), new int[0]);
    assertEquals(new StepShape(17, 0, false, false), StepShape.of(b));
  }

  @Test
  void independentSequencesOverTheirOwnPagesAreADecodeShape() {
    // P sequences, each with its own prompt in its own pages: nothing shared, one token per group.
    ForwardBatch b = new ForwardBatch(new int[] {11, 12}, new int[] {6, 5}, new int[2], new int[] {29, 40},
        List.of(new AttentionGroup(0, 1, List.of(), new KvSegment(new int[] {7, 3}, 7)), new AttentionGroup(1, 1, List.of(), PATH2)),
        new int[] {1, 0});
    assertEquals(new StepShape(2, 2, true, false), StepShape.of(b));  // rows asked in another order
    StepMetadata m = StepMetadata.pack(b, PAGE);
    assertArrayEquals(new int[] {1, 0}, slice(m, m.logitRowsAt(), 2));
    assertArrayEquals(new int[] {0, 1, 2}, slice(m, m.groupIndptrAt(), 3));
    assertArrayEquals(new int[] {0, 2, 4}, slice(m, m.segIndptrAt(), 3));
    assertArrayEquals(new int[] {7, 3, 9, 10}, slice(m, m.indicesAt(), 4));
    assertArrayEquals(new int[] {3, 1}, slice(m, m.lastPageLenAt(), 2));
  }

  /**
   * Continuous batching: request C's prompt chunk (3 tokens), A's path over A's prompt, A's
   * summary over A's prompt and path, B's path over B's prompt; one token per group but C's, so
   * not a decode step. Each distinct segment is one row, whichever groups list it.
   */
  @Test
  void mixedRequestsShareOneTableOfTheirSegments() {
    KvSegment promptC = new KvSegment(new int[] {1, 2}, 7), promptB = new KvSegment(new int[] {4}, 3);
    KvSegment pathB = new KvSegment(new int[] {6}, 1), summaryA = new KvSegment(new int[] {8}, 1);
    ForwardBatch b = new ForwardBatch(new int[6], new int[6], new int[6], new int[6],
        List.of(new AttentionGroup(0, 3, List.of(), promptC), new AttentionGroup(3, 1, List.of(PROMPT), PATH1),
            new AttentionGroup(4, 1, List.of(PROMPT, PATH1), summaryA), new AttentionGroup(5, 1, List.of(promptB), pathB)),
        new int[] {2, 3, 4, 5});
    assertEquals(new StepShape(6, 4, false, false), StepShape.of(b));
    StepMetadata m = StepMetadata.pack(b, PAGE);
    assertEquals(4, m.numGroups());
    assertArrayEquals(new int[] {0, 3, 4, 5, 6}, slice(m, m.qoIndptrAt(), 5));
    assertArrayEquals(new int[] {0, 1, 3, 6, 8}, slice(m, m.groupIndptrAt(), 5));
    // rows: 0 C's prompt, 1 A's prompt, 2 A's path, 3 A's summary, 4 B's prompt, 5 B's path
    assertArrayEquals(new int[] {0, 1, 2, 1, 2, 3, 4, 5}, slice(m, m.groupSegmentsAt(), 8));
    assertEquals(6, m.numSegments());
    assertArrayEquals(new int[] {0, 2, 4, 5, 6, 7, 8}, slice(m, m.segIndptrAt(), 7));
    assertArrayEquals(new int[] {1, 2, 7, 3, 5, 8, 4, 6}, slice(m, m.indicesAt(), 8));
    assertArrayEquals(new int[] {3, 2, 2, 1, 3, 1}, slice(m, m.lastPageLenAt(), 6));
  }

  @Test
  void groupsOutOfTokenOrderAreRefusedByName() {
    ForwardBatch outOfOrder = new ForwardBatch(new int[2], new int[2], new int[2], new int[2],
        List.of(new AttentionGroup(1, 1, List.of(), PATH1), new AttentionGroup(0, 1, List.of(), PATH2)), new int[0]);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StepShape.of(outOfOrder));
    assertTrue(e.getMessage().startsWith("groups[0] starts at token 1"), e.getMessage());
  }
}
