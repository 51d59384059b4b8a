package dev.ptk.engine;

import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.Backend;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.KvSegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Teacher-forced logits of a whole ParaThinker sequence, laid out by the engine's rules: prompt at
 * positions 0..Lp-1 with segment 0; path i at Lp+k with segment i, seeing the prompt and itself;
 * the summary at base+t with segment 0, seeing everything (base = 2·Lp+n or Lp+n, n = the longest
 * path). Three forward passes (prompt, all paths as one batch, summary) over a fresh page layout.
 */
public final class Scorer {
  private final Backend backend;

  public Scorer(Backend backend) {
    this.backend = backend;
  }

  /** One float32 logit row per token, in the order prompt, path 1..P, summary. */
  public float[][] score(ScoreInput in, SummaryPosition position) {
    validate(in);
    PagePool pool = new PagePool(backend.numPages(), backend.pageSize());
    List<PagedSequence> held = new ArrayList<>();
    List<float[]> out = new ArrayList<>(in.length());
    try {
      int lp = in.prompt().length;
      PagedSequence prompt = sequence(pool, held);
      int[] slots = prompt.append(lp);
      KvSegment promptSegment = prompt.segment();
      out.addAll(List.of(backend.forward(batch(in.prompt(), 0, 0, slots, List.of(new AttentionGroup(0, lp, List.of(), promptSegment))))));

      List<KvSegment> all = new ArrayList<>(List.of(promptSegment));
      int total = 0;
      for (int[] p : in.paths()) total += p.length;
      if (total > 0) {
        int[] ids = new int[total];
        int[] positions = new int[total];
        int[] segments = new int[total];
        int[] pathSlots = new int[total];
        List<AttentionGroup> groups = new ArrayList<>();
        List<KvSegment> promptOnly = List.of(promptSegment);
        int at = 0;
        for (int i = 0; i < in.paths().size(); i++) {
          int[] p = in.paths().get(i);
          PagedSequence kv = sequence(pool, held);
          System.arraycopy(kv.append(p.length), 0, pathSlots, at, p.length);
          System.arraycopy(p, 0, ids, at, p.length);
          for (int k = 0; k < p.length; k++) {
            positions[at + k] = lp + k;
            segments[at + k] = i + 1;
          }
          KvSegment own = kv.segment();
          groups.add(new AttentionGroup(at, p.length, promptOnly, own));
          all.add(own);
          at += p.length;
        }
        out.addAll(List.of(backend.forward(new ForwardBatch(ids, positions, segments, pathSlots, groups, range(total)))));
      }

      int[] summary = in.summary();
      if (summary.length > 0) {
        PagedSequence kv = sequence(pool, held);
        int[] summarySlots = kv.append(summary.length);
        int base = position.base(lp, in.pathLength());
        out.addAll(List.of(backend.forward(batch(summary, base, 0, summarySlots,
            List.of(new AttentionGroup(0, summary.length, List.copyOf(all), kv.segment()))))));
      }
    } finally {
      for (PagedSequence s : held) s.release();
    }
    return out.toArray(new float[0][]);
  }

  private void validate(ScoreInput in) {
    int maxPaths = GenerationOptions.maxPaths(backend.config());
    if (in.paths().size() > maxPaths) {
      throw new IllegalArgumentException("paths: " + in.paths().size() + " paths, the model allows at most " + maxPaths
          + " (max_segments - 1)");
    }
    int vocab = backend.config().vocabSize();
    checkIds(in.prompt(), "prompt", vocab);
    for (int i = 0; i < in.paths().size(); i++) checkIds(in.paths().get(i), "paths[" + i + "]", vocab);
    checkIds(in.summary(), "summary", vocab);
    int pages = in.pagesNeeded(backend.pageSize());
    if (pages > backend.numPages()) {
      throw new IllegalArgumentException("the sequence needs " + pages + " KV pages, the pool has " + backend.numPages());
    }
  }

  private static void checkIds(int[] ids, String field, int vocab) {
    for (int id : ids) {
      if (id < 0 || id >= vocab) throw new IllegalArgumentException(field + ": token id " + id + " outside the vocabulary [0, " + vocab + ")");
    }
  }

  private static PagedSequence sequence(PagePool pool, List<PagedSequence> held) {
    PagedSequence s = new PagedSequence(pool);
    held.add(s);
    return s;
  }

  /** Consecutive positions from {@code first}, one segment id, every row's logits. */
  private static ForwardBatch batch(int[] ids, int first, int segment, int[] slots, List<AttentionGroup> groups) {
    int[] positions = new int[ids.length];
    int[] segments = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      positions[i] = first + i;
      segments[i] = segment;
    }
    return new ForwardBatch(ids.clone(), positions, segments, slots, groups, range(ids.length));
  }

  private static int[] range(int n) {
    int[] r = new int[n];
    for (int i = 0; i < n; i++) r[i] = i;
    return r;
  }
}
