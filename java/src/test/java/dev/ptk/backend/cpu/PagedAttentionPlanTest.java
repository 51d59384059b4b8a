package dev.ptk.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.KvSegment;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A prompt that two groups see as equal segments (distinct objects) is read in one pass for both. */
class PagedAttentionPlanTest {
  @Test
  void equalVisibleSegmentsShareOnePass() {
    KvSegment promptA = new KvSegment(new int[] {0, 1}, 8);
    KvSegment promptB = new KvSegment(new int[] {0, 1}, 8);
    List<PagedAttention.Pass> passes = PagedAttention.plan(List.of(
        new AttentionGroup(0, 1, List.of(promptA), new KvSegment(new int[] {2}, 1)),
        new AttentionGroup(1, 1, List.of(promptB), new KvSegment(new int[] {3}, 1))));
    assertEquals(3, passes.size());
    assertEquals(promptA, passes.get(0).segment());
    assertArrayEquals(new int[] {0, 1}, passes.get(0).rows());
    assertArrayEquals(new int[] {8, 8}, passes.get(0).limits());
    assertArrayEquals(new int[] {1}, passes.get(2).rows());
  }
}
