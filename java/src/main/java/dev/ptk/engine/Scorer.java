package dev.ptk.engine;

import dev.ptk.backend.Backend;
import dev.ptk.backend.BatchBuilder;
import dev.ptk.backend.BatchBuilder.Logits;
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
      forward(new BatchBuilder().add(List.of(), promptSegment, 0, 0, in.prompt(), slots, Logits.ALL), out);

      List<KvSegment> all = new ArrayList<>(List.of(promptSegment));
      if (!in.paths().isEmpty()) {
        BatchBuilder paths = new BatchBuilder();
        for (int i = 0; i < in.paths().size(); i++) {
          int[] p = in.paths().get(i);
          PagedSequence kv = sequence(pool, held);
          int[] pathSlots = kv.append(p.length);
          KvSegment own = kv.segment();
          paths.add(List.of(promptSegment), own, i + 1, lp, p, pathSlots, Logits.ALL);
          all.add(own);
        }
        forward(paths, out);
      }

      int[] summary = in.summary();
      if (summary.length > 0) {
        PagedSequence kv = sequence(pool, held);
        int[] summarySlots = kv.append(summary.length);
        int base = position.base(lp, in.pathLength());
        forward(new BatchBuilder().add(List.copyOf(all), kv.segment(), 0, base, summary, summarySlots, Logits.ALL), out);
      }
    } finally {
      for (PagedSequence s : held) s.release();
    }
    return out.toArray(new float[0][]);
  }

  private void forward(BatchBuilder batch, List<float[]> out) {
    out.addAll(List.of(backend.forward(batch.batch())));
  }

  private void validate(ScoreInput in) {
    int maxPaths = GenerationOptions.maxPaths(backend.config());
    if (in.paths().size() > maxPaths) {
      throw new IllegalArgumentException("paths: " + in.paths().size() + " paths, the model allows at most " + maxPaths
          + " (max_segments - 1)");
    }
    if (in.prompt().length == 0) throw new IllegalArgumentException("prompt: no tokens");
    for (int i = 0; i < in.paths().size(); i++) {
      if (in.paths().get(i).length == 0) throw new IllegalArgumentException("paths[" + i + "]: no tokens");
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
}
