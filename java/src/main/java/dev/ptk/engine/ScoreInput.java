package dev.ptk.engine;

import dev.ptk.backend.KvSegment;
import java.util.List;

/**
 * A whole ParaThinker sequence to score: the prompt, each path's tokens and the summary's, and
 * where the summary's positions start (null: the caller's choice).
 */
public record ScoreInput(int[] prompt, List<int[]> paths, int[] summary, SummaryPosition summaryPosition) {

  /** Rows the scorer returns: prompt, every path, summary. */
  public int length() {
    int n = prompt.length + summary.length;
    for (int[] p : paths) n += p.length;
    return n;
  }

  /** KV pages the sequence occupies: prompt, each path and the summary each start on a fresh page. */
  public int pagesNeeded(int pageSize) {
    int pages = KvSegment.pagesFor(prompt.length, pageSize) + KvSegment.pagesFor(summary.length, pageSize);
    for (int[] p : paths) pages += KvSegment.pagesFor(p.length, pageSize);
    return pages;
  }

  /** n, the longest path. */
  public int pathLength() {
    int n = 0;
    for (int[] p : paths) n = Math.max(n, p.length);
    return n;
  }
}
