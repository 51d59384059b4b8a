package dev.ptk.engine;

import dev.ptk.backend.KvSegment;
import java.util.Arrays;

/**
 * The KV pages of one run of tokens (the prompt, one path, the summary) and how many tokens they
 * hold. Grows a page at a time from the pool.
 */
final class PagedSequence {
  private final PagePool pool;
  private int[] pages = new int[0];
  private int length;

  PagedSequence(PagePool pool) {
    this.pool = pool;
  }

  int length() {
    return length;
  }

  int pageCount() {
    return pages.length;
  }

  /** Appends {@code count} tokens, taking new pages when the last one is full; returns their slots. */
  int[] append(int count) {
    int needed = pool.pagesFor(length + count) - pages.length;
    if (needed > 0) {
      int[] fresh = pool.allocate(needed);
      int old = pages.length;
      pages = Arrays.copyOf(pages, old + needed);
      System.arraycopy(fresh, 0, pages, old, needed);
    }
    int[] slots = new int[count];
    int size = pool.pageSize();
    for (int i = 0; i < count; i++, length++) slots[i] = pages[length / size] * size + length % size;
    return slots;
  }

  /** The tokens so far as a segment (a snapshot: later appends do not change it). */
  KvSegment segment() {
    return new KvSegment(pages.clone(), length);
  }

  /** Gives up this holder's reference to its pages. */
  void release() {
    pool.release(pages);
    pages = new int[0];
    length = 0;
  }
}
