package dev.ptk.backend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Splits a {@link ForwardBatch} into consecutive batches of at most {@code maxTokens} tokens that,
 * run in order, compute what the whole batch computes (chunked prefill). A group cut by a chunk
 * boundary keeps its visible segments and sees its own segment only up to the chunk's last token:
 * the K/V of earlier chunks are already in the cache when a later chunk runs. Visible segments are
 * read as they are, so they must be complete before the tokens that see them (as the engine's
 * are). Sampling keys belong to rows, not batches: drawing per chunk draws the same tokens.
 */
public final class BatchChunks {
  /** A part of the batch; its logit row {@code i} is row {@code rows[i]} of the whole batch. */
  public record Chunk(ForwardBatch batch, int[] rows) {
    /** The sampling keys of this chunk's rows. */
    public SamplingRequest select(SamplingRequest whole) {
      return whole.select(rows);
    }
  }

  private BatchChunks() {}

  /** The chunks, in the order they must run; one chunk (the batch itself) when it fits. */
  public static List<Chunk> split(ForwardBatch b, int maxTokens, int pageSize) {
    if (maxTokens < 1) throw new IllegalArgumentException("maxTokens must be >= 1, got " + maxTokens);
    int n = b.size();
    if (n <= maxTokens) {
      int[] all = new int[b.logitRows().length];
      Arrays.setAll(all, i -> i);
      return List.of(new Chunk(b, all));
    }
    List<Chunk> chunks = new ArrayList<>();
    for (int start = 0; start < n; start += maxTokens) {
      int end = Math.min(n, start + maxTokens);
      List<AttentionGroup> groups = new ArrayList<>();
      for (AttentionGroup g : b.groups()) {
        int from = Math.max(g.firstToken(), start);
        int to = Math.min(g.firstToken() + g.numTokens(), end);
        if (from >= to) continue;
        int later = g.firstToken() + g.numTokens() - to;  // the group's tokens after this chunk
        groups.add(new AttentionGroup(from - start, to - from, g.visible(), truncate(g.own(), g.own().length() - later, pageSize)));
      }
      int rowCount = 0;
      for (int r : b.logitRows()) if (r >= start && r < end) rowCount++;
      int[] local = new int[rowCount];
      int[] rows = new int[rowCount];
      for (int i = 0, k = 0; i < b.logitRows().length; i++) {
        int r = b.logitRows()[i];
        if (r >= start && r < end) {
          local[k] = r - start;
          rows[k++] = i;
        }
      }
      chunks.add(new Chunk(new ForwardBatch(Arrays.copyOfRange(b.tokens(), start, end),
          Arrays.copyOfRange(b.positions(), start, end), Arrays.copyOfRange(b.segmentIds(), start, end),
          Arrays.copyOfRange(b.slots(), start, end), List.copyOf(groups), local), rows));
    }
    return chunks;
  }

  /** The first {@code length} tokens of a segment, on the pages that hold them. */
  private static KvSegment truncate(KvSegment s, int length, int pageSize) {
    if (length == s.length()) return s;
    return new KvSegment(Arrays.copyOf(s.pages(), KvSegment.pagesFor(length, pageSize)), length);
  }
}
