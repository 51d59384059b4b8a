package dev.ptk.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class PagePoolTest {
  @Test
  void sharedPagesAreFreedByTheirLastHolder() {
    PagePool pool = new PagePool(4, 16);
    int[] prompt = pool.allocate(2);
    assertArrayEquals(new int[] {0, 1}, prompt);
    pool.retain(prompt);
    pool.retain(prompt);
    assertEquals(3, pool.refCount(0));
    pool.release(prompt);
    pool.release(prompt);
    assertEquals(2, pool.freePages());
    pool.release(prompt);
    assertEquals(4, pool.freePages());
    assertEquals(0, pool.refCount(1));
  }

  @Test
  void pagesForRoundsUp() {
    PagePool pool = new PagePool(4, 16);
    assertEquals(0, pool.pagesFor(0));
    assertEquals(1, pool.pagesFor(16));
    assertEquals(2, pool.pagesFor(17));
  }

  @Test
  void exhaustionAndMisuseAreClearErrors() {
    PagePool pool = new PagePool(3, 16);
    pool.allocate(2);
    KvPoolExhaustedException e = assertThrows(KvPoolExhaustedException.class, () -> pool.allocate(2));
    assertEquals("KV cache pool exhausted: 2 pages needed, 1 free of 3 (16 tokens per page)", e.getMessage());
    assertThrows(IllegalStateException.class, () -> pool.release(new int[] {2}));
    assertThrows(IllegalArgumentException.class, () -> pool.retain(new int[] {3}));
  }

  @Test
  void sequenceSlotsFollowItsPages() {
    PagePool pool = new PagePool(4, 4);
    pool.allocate(1); // page 0 taken by someone else
    PagedSequence s = new PagedSequence(pool);
    assertArrayEquals(new int[] {4, 5, 6}, s.append(3));
    assertArrayEquals(new int[] {7, 8, 9}, s.append(3));
    assertArrayEquals(new int[] {1, 2}, s.segment().pages());
    assertEquals(6, s.segment().length());
    s.release();
    assertEquals(3, pool.freePages());
  }
}
