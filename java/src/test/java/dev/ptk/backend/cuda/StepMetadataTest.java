package dev.ptk.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.BatchBuilder;
import dev.ptk.backend.BatchBuilder.Logits;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.KvSegment;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Shapes and packed metadata of the three step kinds, on pages of 4 tokens. */
class StepMetadataTest {
  private static final int PAGE = 4;
  private static final KvSegment PROMPT = new KvSegment(new int[] {7, 3}, 6);
  private static final KvSegment PATH1 = new KvSegment(new int[] {5}, 2);
  private static final KvSegment PATH2 = new KvSegment(new int[] {9, 10}, 5);

  private static int[] slice(StepMetadata m, int at, int n) {
    return Arrays.copyOfRange(m.data(), at, at + n);
  }

  @Test
  void phaseOneStepIsADecodePrefillOverTheSharedPrompt() {
    List<KvSegment> prompt = List.of(PROMPT);
    ForwardBatch b = new BatchBuilder()
        .add(prompt, PATH1, 1, 7, new int[] {11}, new int[] {21}, Logits.LAST)
        .add(prompt, PATH2, 2, 10, new int[] {12}, new int[] {40}, Logits.LAST)
        .batch();
    StepShape shape = StepShape.of(b);
    assertEquals(new StepShape(StepShape.Kind.PREFILL, 2, 2, true), shape);
    StepMetadata m = StepMetadata.pack(b, shape, PAGE);
    assertEquals(4, m.deviceInts());
    assertArrayEquals(new int[] {11, 12}, slice(m, m.tokensAt(), 2));
    assertArrayEquals(new int[] {0, 1}, slice(m, m.logitRowsAt(), 2));
    assertArrayEquals(new int[] {7, 10}, slice(m, m.positionsAt(), 2));
    assertArrayEquals(new int[] {1, 2}, slice(m, m.segmentIdsAt(), 2));
    assertArrayEquals(new int[] {21, 40}, slice(m, m.slotsAt(), 2));
    assertArrayEquals(new int[] {0, 1, 2}, slice(m, m.qoIndptrAt(), 3));
    assertEquals(6, m.prefixLen());
    assertArrayEquals(new int[] {7, 3}, slice(m, m.prefixAt(), 2));
    assertEquals(2, m.numTables());
    assertArrayEquals(new int[] {0, 1, 3}, slice(m, m.indptrAt(), 3));
    assertArrayEquals(new int[] {5, 9, 10}, slice(m, m.indicesAt(), 3));
    assertArrayEquals(new int[] {2, 1}, slice(m, m.lastPageLenAt(), 2));
    assertEquals(3, m.numIndices());
  }

  @Test
  void summaryStepListsEverySegmentThenItsOwn() {
    KvSegment summary = new KvSegment(new int[] {12, 13}, 3);  // page 13 holds no token yet
    ForwardBatch b = new BatchBuilder()
        .add(List.of(PROMPT, PATH1, PATH2), summary, 0, 20, new int[] {99}, new int[] {50}, Logits.LAST)
        .batch();
    StepShape shape = StepShape.of(b);
    assertEquals(new StepShape(StepShape.Kind.SUMMARY, 1, 1, true), shape);
    StepMetadata m = StepMetadata.pack(b, shape, PAGE);
    assertEquals(4, m.numTables());
    assertArrayEquals(new int[] {0, 2, 3, 5, 6}, slice(m, m.indptrAt(), 5));
    assertArrayEquals(new int[] {7, 3, 5, 9, 10, 12}, slice(m, m.indicesAt(), 6));
    assertArrayEquals(new int[] {2, 2, 1, 3}, slice(m, m.lastPageLenAt(), 4));
    assertEquals(0, m.prefixLen());
  }

  @Test
  void promptPrefillHasNoPrefixAndIsNotADecodeStep() {
    ForwardBatch b = new BatchBuilder()
        .add(List.of(), PROMPT, 0, 0, new int[] {1, 2, 3, 4, 5, 6}, new int[] {28, 29, 30, 31, 12, 13}, Logits.NONE)
        .batch();
    StepShape shape = StepShape.of(b);
    assertEquals(new StepShape(StepShape.Kind.PREFILL, 6, 0, false), shape);
    StepMetadata m = StepMetadata.pack(b, shape, PAGE);
    assertEquals(6, m.deviceInts());
    assertArrayEquals(new int[] {0, 6}, slice(m, m.qoIndptrAt(), 2));
    assertArrayEquals(new int[] {0, 2}, slice(m, m.indptrAt(), 2));
    assertArrayEquals(new int[] {7, 3}, slice(m, m.indicesAt(), 2));
    assertArrayEquals(new int[] {2}, slice(m, m.lastPageLenAt(), 1));
  }

  @Test
  void seventeenPathsAreNotADecodeShape() {
    BatchBuilder b17 = new BatchBuilder();
    for (int i = 0; i < 17; i++) {
      b17.add(List.of(PROMPT), new KvSegment(new int[] {20 + i}, 1), i + 1, 6, new int[] {i}, new int[] {4 * (20 + i)}, Logits.NONE);
    }
    ForwardBatch b = b17.batch();
    assertEquals(new StepShape(StepShape.Kind.PREFILL, 17, 0, false), StepShape.of(b));
  }

  @Test
  void independentSequencesOverTheirOwnPagesAreADecodeShape() {
    // P sequences, each with its own prompt in its own pages: no shared prefix, one token per group;
    // the logit rows in reverse order, which BatchBuilder does not build.
    ForwardBatch b = new ForwardBatch(new int[] {11, 12}, new int[] {6, 5}, new int[2], new int[] {29, 40},
        List.of(new AttentionGroup(0, 1, List.of(), new KvSegment(new int[] {7, 3}, 7)), new AttentionGroup(1, 1, List.of(), PATH2)),
        new int[] {1, 0});
    StepShape shape = StepShape.of(b);
    assertEquals(new StepShape(StepShape.Kind.PREFILL, 2, 2, true), shape);
    StepMetadata m = StepMetadata.pack(b, shape, PAGE);
    assertEquals(0, m.prefixLen());
    assertArrayEquals(new int[] {1, 0}, slice(m, m.logitRowsAt(), 2));
    assertArrayEquals(new int[] {0, 2, 4}, slice(m, m.indptrAt(), 3));
    assertArrayEquals(new int[] {7, 3, 9, 10}, slice(m, m.indicesAt(), 4));
    assertArrayEquals(new int[] {3, 1}, slice(m, m.lastPageLenAt(), 2));
  }

  @Test
  void unsupportedGroupLayoutsAreRefusedByName() {
    // Malformed on purpose: groups out of token order, which BatchBuilder cannot build.
    ForwardBatch outOfOrder = new ForwardBatch(new int[2], new int[2], new int[2], new int[2],
        List.of(new AttentionGroup(1, 1, List.of(), PATH1), new AttentionGroup(0, 1, List.of(), PATH2)), new int[0]);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StepShape.of(outOfOrder));
    assertTrue(e.getMessage().startsWith("groups[0] starts at token 1"), e.getMessage());
    ForwardBatch mixed = new ForwardBatch(new int[2], new int[2], new int[2], new int[2],
        List.of(new AttentionGroup(0, 1, List.of(PROMPT), PATH1), new AttentionGroup(1, 1, List.of(PROMPT, PATH1), PATH2)),
        new int[0]);
    e = assertThrows(IllegalArgumentException.class, () -> StepShape.of(mixed));
    assertTrue(e.getMessage().startsWith("groups: 2 groups with different visible segments"), e.getMessage());
  }
}
