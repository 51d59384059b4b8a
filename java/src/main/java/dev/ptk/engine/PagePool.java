package dev.ptk.engine;

import dev.ptk.backend.KvSegment;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.IntConsumer;

/**
 * Host-side allocator of the backend's KV page ids {@code 0 .. numPages-1} with reference counts.
 * The paths hold the prompt's pages by reference (no copy) and the summary holds every path's
 * pages the same way; a page returns to the free list when its last holder releases it.
 */
public final class PagePool {
  private final int pageSize;
  private final int[] refCount;
  private final Deque<Integer> free = new ArrayDeque<>();
  private IntConsumer onFree = page -> {};

  public PagePool(int numPages, int pageSize) {
    if (numPages < 1 || pageSize < 1) {
      throw new IllegalArgumentException("numPages and pageSize must be positive, got " + numPages + ", " + pageSize);
    }
    this.pageSize = pageSize;
    this.refCount = new int[numPages];
    for (int p = 0; p < numPages; p++) free.addLast(p);
  }

  /** Told of every page that becomes free (the prefix cache forgets what it held). */
  void onFree(IntConsumer listener) {
    this.onFree = listener;
  }

  public int pageSize() {
    return pageSize;
  }

  public int numPages() {
    return refCount.length;
  }

  public int freePages() {
    return free.size();
  }

  /** Pages needed to hold {@code tokens} tokens. */
  public int pagesFor(long tokens) {
    return KvSegment.pagesFor(tokens, pageSize);
  }


  /** Takes {@code count} free pages, each with reference count 1. */
  public int[] allocate(int count) {
    if (count > free.size()) {
      throw new KvPoolExhaustedException(count, free.size(), refCount.length, pageSize);
    }
    int[] pages = new int[count];
    for (int i = 0; i < count; i++) {
      pages[i] = free.removeFirst();
      refCount[pages[i]] = 1;
    }
    return pages;
  }

  /** One more holder for each page. */
  public void retain(int[] pages) {
    for (int p : pages) {
      check(p);
      refCount[p]++;
    }
  }

  /** One holder fewer for each page; pages nobody holds become free. */
  public void release(int[] pages) {
    for (int p : pages) {
      check(p);
      if (--refCount[p] == 0) {
        free.addLast(p);
        onFree.accept(p);
      }
    }
  }

  public int refCount(int page) {
    if (page < 0 || page >= refCount.length) throw new IllegalArgumentException("page " + page + " outside the pool");
    return refCount[page];
  }

  private void check(int page) {
    if (refCount(page) == 0) throw new IllegalStateException("page " + page + " is not allocated");
  }
}
