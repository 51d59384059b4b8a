package dev.ptk.backend;

import dev.ptk.model.ModelConfig;

/** Rejects a malformed {@link ForwardBatch} before any work, naming the offending field (every backend). */
public final class BatchCheck {
  private BatchCheck() {}

  public static void check(ForwardBatch b, ModelConfig c, int numPages, int pageSize) {
    if (b.tokens() == null || b.positions() == null || b.segmentIds() == null || b.slots() == null
        || b.groups() == null || b.logitRows() == null) {
      throw new IllegalArgumentException("batch: every field must be non-null");
    }
    int n = b.tokens().length;
    if (n == 0) throw new IllegalArgumentException("tokens: empty batch");
    requireLength("positions", b.positions().length, n);
    requireLength("segmentIds", b.segmentIds().length, n);
    requireLength("slots", b.slots().length, n);
    long slots = (long) numPages * pageSize;
    for (int i = 0; i < n; i++) {
      inRange("tokens", i, b.tokens()[i], c.vocabSize());
      if (b.positions()[i] < 0) throw new IllegalArgumentException("positions[" + i + "] = " + b.positions()[i] + " is negative");
      int seg = b.segmentIds()[i];
      if (seg < 0 || (c.maxSegments() > 0 && seg >= c.maxSegments())) {
        throw new IllegalArgumentException("segmentIds[" + i + "] = " + seg + " not in [0, max_segments " + c.maxSegments() + ")");
      }
      inRange("slots", i, b.slots()[i], slots);
    }
    boolean[] covered = new boolean[n];
    for (int gi = 0; gi < b.groups().size(); gi++) {
      AttentionGroup g = b.groups().get(gi);
      String name = "groups[" + gi + "]";
      if (g == null || g.visible() == null || g.own() == null) throw new IllegalArgumentException(name + ": null field");
      if (g.numTokens() < 1 || g.firstToken() < 0 || (long) g.firstToken() + g.numTokens() > n) {
        throw new IllegalArgumentException(name + ": tokens [" + g.firstToken() + ", +" + g.numTokens() + ") not inside the batch of " + n);
      }
      for (int j = 0; j < g.visible().size(); j++) segment(name + ".visible[" + j + "]", g.visible().get(j), numPages, pageSize);
      KvSegment own = g.own();
      segment(name + ".own", own, numPages, pageSize);
      if (own.length() < g.numTokens()) {
        throw new IllegalArgumentException(name + ".own: length " + own.length() + " < numTokens " + g.numTokens());
      }
      for (int j = 0; j < g.numTokens(); j++) {
        int t = g.firstToken() + j;
        if (covered[t]) throw new IllegalArgumentException(name + ": token " + t + " is in two groups");
        covered[t] = true;
        int at = own.length() - g.numTokens() + j;
        int slot = own.pages()[at / pageSize] * pageSize + at % pageSize;
        if (b.slots()[t] != slot) {
          throw new IllegalArgumentException("slots[" + t + "] = " + b.slots()[t] + " but " + name
              + ".own holds that token at slot " + slot);
        }
      }
    }
    for (int t = 0; t < n; t++) {
      if (!covered[t]) throw new IllegalArgumentException("groups: token " + t + " is in no group");
    }
    boolean[] wanted = new boolean[n];
    for (int i = 0; i < b.logitRows().length; i++) {
      int r = b.logitRows()[i];
      inRange("logitRows", i, r, n);
      if (wanted[r]) throw new IllegalArgumentException("logitRows[" + i + "] = " + r + " is asked for twice");
      wanted[r] = true;
    }
  }

  private static void segment(String name, KvSegment s, int numPages, int pageSize) {
    if (s == null || s.pages() == null) throw new IllegalArgumentException(name + ": null");
    if (s.length() < 0 || (long) s.length() > (long) s.pages().length * pageSize) {
      throw new IllegalArgumentException(name + ": length " + s.length() + " does not fit " + s.pages().length + " pages");
    }
    for (int p = 0; p < s.pages().length; p++) inRange(name + ".pages", p, s.pages()[p], numPages);
  }

  private static void requireLength(String field, int got, int want) {
    if (got != want) throw new IllegalArgumentException(field + ": length " + got + ", expected " + want + " (one per token)");
  }

  private static void inRange(String field, int i, int value, long bound) {
    if (value < 0 || value >= bound) {
      throw new IllegalArgumentException(field + "[" + i + "] = " + value + " not in [0, " + bound + ")");
    }
  }
}
