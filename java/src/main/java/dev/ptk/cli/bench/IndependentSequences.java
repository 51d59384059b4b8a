package dev.ptk.cli.bench;

import dev.ptk.backend.Backend;
import dev.ptk.backend.BatchBuilder;
import dev.ptk.backend.KvSegment;
import dev.ptk.backend.SamplingParams;
import dev.ptk.engine.PagePool;
import dev.ptk.engine.ProgressListener;
import dev.ptk.engine.ProgressListener.Phase;
import dev.ptk.engine.ProgressListener.Progress;
import dev.ptk.engine.Timings;
import java.util.Arrays;
import java.util.List;

/**
 * The baseline a ParaThinker request's speed is measured against: S sequences of one prompt
 * decoded as an engine without prefix sharing would. Each prefills its own copy of the prompt into
 * its own pages, then all decode in lockstep, one batch per step, each reading its own prompt and
 * tokens. A fixed number of tokens each, stop tokens included. Sequence i's draws are keyed as path
 * i + 1.
 *
 * <p>It takes the backend's KV pages for the run, so no request may hold any meanwhile (an idle
 * engine holds none).
 */
public final class IndependentSequences {
  private IndependentSequences() {}

  public static IndependentResult run(Backend backend, int[] prompt, int sequences, int tokensEach,
      SamplingParams sampling, ProgressListener listener) {
    int lp = prompt.length, pageSize = backend.pageSize();
    int context = backend.config().maxPositionEmbeddings();
    if (lp == 0) throw new IllegalArgumentException("prompt: no tokens");
    if (sequences < 1) throw new IllegalArgumentException("sequences must be at least 1, got " + sequences);
    if (tokensEach < 1 || lp + tokensEach > context) {
      throw new IllegalArgumentException("tokensEach must be in [1, " + (context - lp)
          + "] (the model's context less the prompt), got " + tokensEach);
    }
    int each = KvSegment.pagesFor(lp + tokensEach, pageSize);
    long pages = (long) sequences * each;
    if (pages > backend.numPages()) {
      throw new IllegalArgumentException(sequences + " sequences of " + lp + " + " + tokensEach + " tokens need "
          + pages + " KV pages, the pool has " + backend.numPages());
    }
    PagePool pool = new PagePool(backend.numPages(), pageSize);
    int[][] own = new int[sequences][];
    for (int i = 0; i < sequences; i++) own[i] = pool.allocate(each);

    int[][] out = new int[sequences][tokensEach];
    long t0 = System.nanoTime();
    BatchBuilder prefill = new BatchBuilder();
    for (int i = 0; i < sequences; i++) {
      prefill.addSampled(List.of(), segment(own[i], lp, pageSize), 0, 0, prompt, slots(own[i], 0, lp, pageSize),
          sampling, i + 1, 0);
    }
    int[] first = backend.sample(prefill.batch(), prefill.sampling());
    for (int i = 0; i < sequences; i++) out[i][0] = first[i];
    long t1 = System.nanoTime();
    for (int step = 1; step < tokensEach; step++) {
      int at = lp + step - 1;  // the position and slot index of the token fed in
      BatchBuilder b = new BatchBuilder();
      for (int i = 0; i < sequences; i++) {
        b.addSampled(List.of(), segment(own[i], at + 1, pageSize), 0, at, out[i][step - 1],
            slots(own[i], at, 1, pageSize)[0], sampling, i + 1, step);
      }
      int[] next = backend.sample(b.batch(), b.sampling());
      for (int i = 0; i < sequences; i++) out[i][step] = next[i];
      int[] counts = new int[sequences];
      Arrays.fill(counts, step + 1);
      double rate = Timings.perSecond((long) sequences * (step + 1), System.nanoTime() - t1);
      listener.onStep(new Progress(Phase.THINKING, step, counts, 0, rate));
    }
    long t2 = System.nanoTime();
    return new IndependentResult(out, new Timings(t1 - t0, t2 - t1, 0, lp, sequences * tokensEach, 0));
  }

  /** The first {@code length} tokens of a sequence held in {@code pages}. */
  private static KvSegment segment(int[] pages, int length, int pageSize) {
    return new KvSegment(Arrays.copyOf(pages, KvSegment.pagesFor(length, pageSize)), length);
  }

  /** The cache slots of tokens {@code first .. first + count - 1} of a sequence held in {@code pages}. */
  private static int[] slots(int[] pages, int first, int count, int pageSize) {
    int[] slots = new int[count];
    for (int i = 0; i < count; i++) {
      int t = first + i;
      slots[i] = pages[t / pageSize] * pageSize + t % pageSize;
    }
    return slots;
  }
}
