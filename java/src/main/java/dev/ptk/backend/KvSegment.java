package dev.ptk.backend;

import java.util.Arrays;

/**
 * A run of tokens in the paged KV cache: the pages that hold them in order and how many tokens
 * they hold ({@code length <= pages.length * pageSize}; only the last page may be partial). A page
 * id means the same page in every layer.
 *
 * <p>Two segments are equal when they hold the same pages in the same order and the same length:
 * they name the same keys, so a backend reads them once for every group that sees either.
 */
public record KvSegment(int[] pages, int length) {

  /** Pages needed to hold {@code tokens} tokens: the one page-count rule of the KV cache. */
  public static int pagesFor(long tokens, int pageSize) {
    return Math.toIntExact((tokens + pageSize - 1) / pageSize);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KvSegment s && length == s.length && Arrays.equals(pages, s.pages);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(pages) + length;
  }

  @Override
  public String toString() {
    return "KvSegment" + Arrays.toString(pages) + "[" + length + "]";
  }
}
