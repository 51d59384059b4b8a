package dev.ptk.engine;

import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.Backend;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.SamplingParams;
import dev.ptk.backend.SamplingRequest;
import dev.ptk.engine.ProgressListener.Phase;
import dev.ptk.engine.ProgressListener.Progress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * S sequences of one prompt decoded as an engine without prefix sharing would: each prefills its
 * own copy of the prompt into its own pages, then all decode in lockstep, one batch per step, each
 * reading its own prompt and tokens. A fixed number of tokens each, stop tokens included: the
 * throughput baseline a ParaThinker request (prompt once, read once per step) is measured against.
 * Sequence i's draws are keyed as path i.
 */
final class IndependentSequences implements AutoCloseable {
  private final Backend backend;
  private final List<PagedSequence> kv = new ArrayList<>();

  IndependentSequences(Backend backend, PagePool pool, int sequences) {
    this.backend = backend;
    for (int i = 0; i < sequences; i++) kv.add(new PagedSequence(pool));
  }

  IndependentResult run(int[] prompt, int tokensEach, SamplingParams sampling, ProgressListener listener) {
    int s = kv.size(), lp = prompt.length;
    int[][] out = new int[s][tokensEach];
    long t0 = System.nanoTime();
    int[] ids = new int[s * lp], positions = new int[s * lp], slots = new int[s * lp], last = new int[s];
    List<AttentionGroup> groups = new ArrayList<>();
    for (int i = 0; i < s; i++) {
      System.arraycopy(prompt, 0, ids, i * lp, lp);
      System.arraycopy(kv.get(i).append(lp), 0, slots, i * lp, lp);
      for (int k = 0; k < lp; k++) positions[i * lp + k] = k;
      groups.add(new AttentionGroup(i * lp, lp, List.of(), kv.get(i).segment()));
      last[i] = i * lp + lp - 1;
    }
    int[] first = backend.sample(new ForwardBatch(ids, positions, new int[s * lp], slots, groups, last), keys(sampling, s, 0));
    for (int i = 0; i < s; i++) out[i][0] = first[i];
    long t1 = System.nanoTime();
    for (int step = 1; step < tokensEach; step++) {
      int[] tokens = new int[s], pos = new int[s], stepSlots = new int[s], rows = new int[s];
      List<AttentionGroup> stepGroups = new ArrayList<>(s);
      for (int i = 0; i < s; i++) {
        tokens[i] = out[i][step - 1];
        pos[i] = lp + step - 1;
        stepSlots[i] = kv.get(i).append(1)[0];
        rows[i] = i;
        stepGroups.add(new AttentionGroup(i, 1, List.of(), kv.get(i).segment()));
      }
      int[] next = backend.sample(new ForwardBatch(tokens, pos, new int[s], stepSlots, stepGroups, rows), keys(sampling, s, step));
      for (int i = 0; i < s; i++) out[i][step] = next[i];
      int[] counts = new int[s];
      Arrays.fill(counts, step + 1);
      listener.onStep(new Progress(Phase.THINKING, step, counts, 0, Timings.perSecond((long) s * (step + 1), System.nanoTime() - t1)));
    }
    long t2 = System.nanoTime();
    return new IndependentResult(out, new Timings(t1 - t0, t2 - t1, 0, lp, s * tokensEach, 0));
  }

  /** Sequence i drawn as path i + 1 at {@code step}. */
  private static SamplingRequest keys(SamplingParams sampling, int sequences, int step) {
    int[] paths = new int[sequences], steps = new int[sequences];
    for (int i = 0; i < sequences; i++) {
      paths[i] = i + 1;
      steps[i] = step;
    }
    return SamplingRequest.of(sampling, paths, steps);
  }

  @Override
  public void close() {
    for (PagedSequence s : kv) s.release();
  }
}
