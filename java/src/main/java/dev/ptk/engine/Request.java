package dev.ptk.engine;

import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.Backend;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.KvSegment;
import dev.ptk.backend.SamplingRequest;
import dev.ptk.engine.ProgressListener.Phase;
import dev.ptk.engine.ProgressListener.Progress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One request's state machine (spec §5.2-5.5). Page ownership follows the released engine: every
 * path holds a reference to the prompt's pages, the summary holds references to the prompt's and
 * every path's pages; closing the request drops whatever is still held. The backend draws the
 * tokens, each keyed by the seed, its path (1..P, the summary 0) and its index in that output, so
 * a seed replays the same request on either backend.
 */
final class Request implements AutoCloseable {
  record Outcome(int[][] paths, FinishReason[] pathFinish, int pathLength, int[] summary, FinishReason summaryFinish,
      Timings timings) {}

  /** One path: its tokens, its own pages and the stop checker's state. */
  private static final class Path {
    final int index;
    final int[] tokens;
    int length;
    final PagedSequence kv;
    boolean padding;
    FinishReason finish;

    Path(int index, int start, int capacity, PagePool pool) {
      this.index = index;
      this.tokens = new int[capacity];
      this.tokens[0] = start;
      this.length = 1;
      this.kv = new PagedSequence(pool);
    }

    int last() {
      return tokens[length - 1];
    }
  }

  /** The summary's path in the key of its random draws (thinking paths are 1..P). */
  private static final int SUMMARY_PATH = 0;

  private final Backend backend;
  private final PagePool pool;
  private final ControlTokens control;
  private final int[] prompt;
  private final GenerationOptions options;
  private final ProgressListener listener;
  private final int pageSize;
  private final int maxModelLength;
  private final List<int[]> held = new ArrayList<>();
  private final PagedSequence promptKv;
  private final List<Path> paths = new ArrayList<>();
  private final PagedSequence summaryKv;
  private FinishReason summaryFinish;

  Request(Backend backend, PagePool pool, ControlTokens control, int[] prompt, GenerationOptions options,
      ProgressListener listener) {
    this.backend = backend;
    this.pool = pool;
    this.control = control;
    this.prompt = prompt;
    this.options = options;
    this.listener = listener;
    this.pageSize = backend.pageSize();
    this.maxModelLength = backend.config().maxPositionEmbeddings();
    this.promptKv = new PagedSequence(pool);
    this.summaryKv = new PagedSequence(pool);
  }

  Outcome run() {
    long t0 = System.nanoTime();
    KvSegment promptSegment = prefill();
    long t1 = System.nanoTime();
    think(promptSegment, t1);
    long t2 = System.nanoTime();
    int n = 0;
    int pathTokens = 0;
    for (Path p : paths) {
      n = Math.max(n, p.length);
      pathTokens += p.length;
    }
    int[] summary = summarize(promptSegment, n, pathTokens, t2);
    long t3 = System.nanoTime();
    int[][] pathIds = new int[paths.size()][];
    FinishReason[] finish = new FinishReason[paths.size()];
    for (int i = 0; i < pathIds.length; i++) {
      Path p = paths.get(i);
      pathIds[i] = Arrays.copyOf(p.tokens, p.length);
      finish[i] = p.finish == null ? FinishReason.CUT : p.finish;
    }
    Timings timings = new Timings(t1 - t0, t2 - t1, t3 - t2, prompt.length, pathTokens, summary.length);
    return new Outcome(pathIds, finish, n, summary, summaryFinish, timings);
  }

  /**
   * §5.2: the prompt once at positions 0..Lp-1, segment 0. The released engine samples a token here
   * and discards it; no logits are asked for.
   */
  private KvSegment prefill() {
    int lp = prompt.length;
    int[] positions = new int[lp];
    for (int i = 0; i < lp; i++) positions[i] = i;
    int[] slots = promptKv.append(lp);
    KvSegment own = promptKv.segment();
    backend.forward(new ForwardBatch(prompt.clone(), positions, new int[lp], slots,
        List.of(new AttentionGroup(0, lp, List.of(), own)), new int[0]));
    return own;
  }

  /** §5.2 fork and §5.3: P paths in lockstep, one batch per step, until the termination rule holds. */
  private void think(KvSegment promptSegment, long start) {
    int count = options.paths();
    for (int i = 1; i <= count; i++) {
      paths.add(new Path(i, control.pathStart(i), options.maxTokens(), pool));
      hold(promptSegment.pages());
    }
    promptKv.release(); // the paths keep the prompt's pages alive
    List<KvSegment> promptOnly = List.of(promptSegment);
    int lp = prompt.length;
    for (int step = 1; ; step++) {
      List<Path> active = new ArrayList<>();
      for (Path p : paths) if (p.finish == null) active.add(p);
      int m = active.size();
      int[] ids = new int[m];
      int[] positions = new int[m];
      int[] segments = new int[m];
      int[] slots = new int[m];
      int[] rows = new int[m];
      int[] pathIds = new int[m];
      int[] steps = new int[m];
      List<AttentionGroup> groups = new ArrayList<>(m);
      for (int j = 0; j < m; j++) {
        Path p = active.get(j);
        ids[j] = p.last();
        positions[j] = lp + p.length - 1;
        segments[j] = p.index;
        slots[j] = p.kv.append(1)[0];
        rows[j] = j;
        pathIds[j] = p.index;
        steps[j] = p.length; // the index of the token this step draws
        groups.add(new AttentionGroup(j, 1, promptOnly, p.kv.segment()));
      }
      int[] next = backend.sample(new ForwardBatch(ids, positions, segments, slots, groups, rows),
          SamplingRequest.of(options.sampling(), pathIds, steps));
      int finished = 0;
      for (Path p : active) checkStop(p);
      for (Path p : paths) if (p.finish != null) finished++;
      if (options.termination().isOver(finished, count)) return;
      for (int j = 0; j < m; j++) {
        Path p = active.get(j);
        if (p.finish == null) p.tokens[p.length++] = p.padding ? control.pad() : rewrite(next[j], p);
      }
      report(Phase.THINKING, step, 0, start);
    }
  }

  /** §5.3 (a), on the token the forward pass just consumed. */
  private void checkStop(Path p) {
    if (control.isStop(p.last())) {
      if (p.length % pageSize == 0) p.finish = FinishReason.STOP;
      else p.padding = true;
    } else if (p.padding && p.length % pageSize == 0) {
      p.finish = FinishReason.STOP;
      p.padding = false;
    } else if (prompt.length + p.length > maxModelLength || p.length == options.maxTokens()) {
      p.finish = FinishReason.LENGTH;
    }
  }

  /** §5.3 (c): a path may not open a path or the summary, and ends with its own end token. */
  private int rewrite(int sampled, Path p) {
    if (control.isReplacedByThink(sampled)) return control.think();
    if (control.isStop(sampled)) return control.pathEnd(p.index);
    return sampled;
  }

  /**
   * §5.4-5.5: one sequence over prompt + every path (by reference), the template forced one token
   * per step, then free decoding until a stop token (written as {@code </summary>}) or the cap.
   */
  private int[] summarize(KvSegment promptSegment, int n, int pathTokens, long start) {
    List<KvSegment> visible = new ArrayList<>();
    visible.add(promptSegment);
    hold(promptSegment.pages());
    for (Path p : paths) {
      KvSegment s = p.kv.segment();
      visible.add(s);
      hold(s.pages());
    }
    for (Path p : paths) {
      p.kv.release();
      release(promptSegment.pages());
    }
    visible = List.copyOf(visible);
    int[] template = control.summaryTemplate();
    int cap = options.summaryMaxTokens();
    int[] out = new int[cap];
    out[0] = template[0];
    int length = 1;
    int base = options.summaryPosition().base(prompt.length, n);
    for (int t = 0; ; ) {
      boolean forced = t + 1 < template.length;
      int[] slot = summaryKv.append(1);
      ForwardBatch batch = new ForwardBatch(new int[] {out[length - 1]}, new int[] {base + t}, new int[1], slot,
          List.of(new AttentionGroup(0, 1, visible, summaryKv.segment())), forced ? new int[0] : new int[1]);
      int next;
      if (forced) {
        backend.forward(batch);
        next = template[t + 1];
      } else {
        next = backend.sample(batch, SamplingRequest.of(options.sampling(), new int[] {SUMMARY_PATH}, new int[] {length}))[0];
      }
      if (control.isStop(next)) {
        out[length++] = control.summaryEnd();
        summaryFinish = FinishReason.STOP;
        break;
      }
      out[length++] = next;
      t++;
      report(Phase.SUMMARY, t, length, start);
      if (prompt.length + pathTokens + length > maxModelLength || length == cap) {
        summaryFinish = FinishReason.LENGTH;
        break;
      }
    }
    return Arrays.copyOf(out, length);
  }

  private void report(Phase phase, int step, int summaryTokens, long start) {
    int[] pathTokens = new int[paths.size()];
    long produced = summaryTokens;
    for (int i = 0; i < pathTokens.length; i++) {
      pathTokens[i] = paths.get(i).length;
      if (phase == Phase.THINKING) produced += pathTokens[i];
    }
    listener.onStep(new Progress(phase, step, pathTokens, summaryTokens,
        Timings.perSecond(produced, System.nanoTime() - start)));
  }

  private void hold(int[] pages) {
    pool.retain(pages);
    held.add(pages);
  }

  private void release(int[] pages) {
    pool.release(pages);
    held.remove(pages);
  }

  @Override
  public void close() {
    for (int[] pages : held) pool.release(pages);
    held.clear();
    promptKv.release();
    for (Path p : paths) p.kv.release();
    summaryKv.release();
  }
}
