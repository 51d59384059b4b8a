package dev.ptk.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Full prompt pages by content, so that requests with the same prompt prefix share its K/V (the
 * paths of one request already share its prompt). A page is keyed by its tokens and the page before
 * it: the K/V of a page depend on every token before it, and a page id is unique while the page is
 * held, so equal keys mean equal K/V. A page is registered when its request is admitted, pending
 * until that request's prefill has written it; a request that shares a pending page waits for it,
 * or writes it itself when its writer leaves first. Entries live as long as their page is held.
 */
final class PrefixCache {
  private record Key(int previousPage, int[] tokens) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && k.previousPage == previousPage && Arrays.equals(k.tokens, tokens);
    }

    @Override
    public int hashCode() {
      return 31 * previousPage + Arrays.hashCode(tokens);
    }
  }

  private static final class Entry {
    final Key key;
    boolean ready;
    Object writer;

    Entry(Key key, Object writer) {
      this.key = key;
      this.writer = writer;
    }
  }

  private final int pageSize;
  private final Map<Key, Integer> pageOf = new HashMap<>();
  private final Map<Integer, Entry> entries = new HashMap<>();

  PrefixCache(int pageSize) {
    this.pageSize = pageSize;
  }

  /** The pages holding the longest cached run of {@code prompt}'s leading full pages (not retained). */
  int[] lookup(int[] prompt) {
    List<Integer> found = new ArrayList<>();
    int previous = -1;
    for (int p = 0; (p + 1) * pageSize <= prompt.length; p++) {
      Integer page = pageOf.get(key(prompt, p, previous));
      if (page == null) break;
      found.add(page);
      previous = page;
    }
    return found.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Registers {@code pages[from..]} as holding {@code prompt}'s pages {@code from..}, to be written by {@code writer}. */
  void register(int[] prompt, int[] pages, int from, Object writer) {
    for (int p = from; p < pages.length; p++) {
      if ((p + 1) * pageSize > prompt.length) break;  // a partial page is never shared
      Key key = key(prompt, p, p == 0 ? -1 : pages[p - 1]);
      pageOf.putIfAbsent(key, pages[p]);
      entries.putIfAbsent(pages[p], new Entry(key, writer));
    }
  }

  boolean isReady(int page) {
    Entry e = entries.get(page);
    return e != null && e.ready;
  }

  /** Whether {@code who} may write {@code page} now: it is its writer, or the writer left and {@code who} takes over. */
  boolean claim(int page, Object who) {
    Entry e = entries.get(page);
    if (e == null || e.ready) return false;
    if (e.writer == null) e.writer = who;
    return e.writer == who;
  }

  void markReady(int page) {
    Entry e = entries.get(page);
    if (e != null) {
      e.ready = true;
      e.writer = null;
    }
  }

  /** {@code writer} leaves: the pages it was to write wait for another holder to write them. */
  void writerGone(Object writer) {
    for (Entry e : entries.values()) if (e.writer == writer) e.writer = null;
  }

  /** The page was freed. */
  void forget(int page) {
    Entry e = entries.remove(page);
    if (e != null) pageOf.remove(e.key, page);
  }

  int size() {
    return entries.size();
  }

  private Key key(int[] prompt, int page, int previousPage) {
    return new Key(previousPage, Arrays.copyOfRange(prompt, page * pageSize, (page + 1) * pageSize));
  }
}
