package dev.ptk.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

/** Segments compare by the keys they name; pages round up. */
class KvSegmentTest {
  @Test
  void segmentsOfTheSamePagesAndLengthAreEqual() {
    KvSegment a = new KvSegment(new int[] {7, 3}, 6);
    KvSegment b = new KvSegment(new int[] {7, 3}, 6);
    assertEquals(a, b);
    assertEquals(a.hashCode(), b.hashCode());
    assertNotEquals(a, new KvSegment(new int[] {7, 3}, 5));
    assertNotEquals(a, new KvSegment(new int[] {3, 7}, 6));
    assertEquals("KvSegment[7, 3][6]", a.toString());
  }

  @Test
  void pagesForRoundsUp() {
    assertEquals(0, KvSegment.pagesFor(0, 16));
    assertEquals(1, KvSegment.pagesFor(1, 16));
    assertEquals(1, KvSegment.pagesFor(16, 16));
    assertEquals(2, KvSegment.pagesFor(17, 16));
  }
}
