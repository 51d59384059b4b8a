package dev.ptk.backend.cpu;

import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.KvSegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Attention of one layer over a batch's groups: per-segment states, merged per token. Every
 * visible segment is attended once for the queries of all groups that list an equal segment (the
 * shared prompt is read once for all paths), then each group's own segment causally.
 */
final class PagedAttention {
  /** One pass: queries {@code rows} over {@code segment}, row i seeing its first {@code limits[i]} keys. */
  record Pass(KvSegment segment, int[] rows, int[] limits) {}

  private final SegmentAttention segment;
  private final int hq;
  private final int d;
  private final float scale;
  private AttentionStates merged;
  private AttentionStates partial;

  PagedAttention(WorkerPool pool, int hq, int hkv, int d, int pageSize) {
    this.segment = new SegmentAttention(pool, hq, hkv, d, pageSize);
    this.hq = hq;
    this.d = d;
    this.scale = (float) (1.0 / Math.sqrt(d));
    merged = new AttentionStates(0, hq, d);
    partial = merged;
  }

  /** The passes of a batch: shared visible segments first, then each group's own part. */
  static List<Pass> plan(List<AttentionGroup> groups) {
    Map<KvSegment, List<AttentionGroup>> viewers = new LinkedHashMap<>();  // in the order first seen
    for (AttentionGroup g : groups) {
      for (KvSegment s : g.visible()) {
        List<AttentionGroup> list = viewers.computeIfAbsent(s, k -> new ArrayList<>());
        if (!list.contains(g)) list.add(g);
      }
    }
    List<Pass> passes = new ArrayList<>();
    for (KvSegment s : viewers.keySet()) {
      int n = 0;
      for (AttentionGroup g : viewers.get(s)) n += g.numTokens();
      int[] rows = new int[n];
      int[] limits = new int[n];
      int i = 0;
      for (AttentionGroup g : viewers.get(s)) {
        for (int j = 0; j < g.numTokens(); j++, i++) {
          rows[i] = g.firstToken() + j;
          limits[i] = s.length();
        }
      }
      passes.add(new Pass(s, rows, limits));
    }
    for (AttentionGroup g : groups) {
      int[] rows = new int[g.numTokens()];
      int[] limits = new int[g.numTokens()];
      for (int j = 0; j < rows.length; j++) {
        rows[j] = g.firstToken() + j;
        limits[j] = g.own().length() - g.numTokens() + j + 1;
      }
      passes.add(new Pass(g.own(), rows, limits));
    }
    return passes;
  }

  /**
   * Runs the passes for {@code tokens} query rows of {@code q} (stride {@code qStride}) against one
   * layer's cache; returns the merged states, whose {@code o} is the attention output {@code [T, hq·d]}.
   */
  AttentionStates run(List<Pass> passes, int tokens, float[] q, int qStride, KvCache cache, int layer) {
    if (merged.lse.length < tokens * hq) {
      merged = new AttentionStates(tokens, hq, d);
      partial = new AttentionStates(tokens, hq, d);
    }
    merged.clear(tokens);
    for (Pass p : passes) {
      KvSegment s = p.segment();
      segment.run(q, qStride, p.rows(), p.limits(), p.rows().length, cache, layer, s.pages(), s.length(), scale, partial);
      for (int row : p.rows()) merged.merge(partial, row);
    }
    return merged;
  }
}
