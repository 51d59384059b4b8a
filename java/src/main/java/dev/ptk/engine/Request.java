package dev.ptk.engine;

import dev.ptk.backend.BatchBuilder;
import dev.ptk.backend.BatchBuilder.Logits;
import dev.ptk.backend.KvSegment;
import dev.ptk.engine.ProgressListener.Phase;
import dev.ptk.engine.ProgressListener.Progress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One request's state machine (SEMANTICS.md §9.1-9.4), advanced one scheduler step at a time: it adds its
 * rows to the step's batch ({@link #addRows}), then takes the tokens drawn for them
 * ({@link #accept}). Page ownership follows the released engine: every path holds a reference to
 * the prompt's pages, the summary holds references to the prompt's and every path's pages; closing
 * the request drops whatever is still held. Tokens are drawn by the backend, each keyed by the
 * seed, its path (1..P, the summary 0) and its index in that output, so a seed replays the same
 * request on either backend, alone or among others.
 */
final class Request {
  enum State { WAITING, PREFILL, THINKING, SUMMARY, DONE }

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

  final long id;
  final int[] prompt;
  final GenerationOptions options;
  final ProgressListener listener;
  final KvBudget budget;
  private final PagePool pool;
  private final PrefixCache prefixes;
  private final ControlTokens control;
  private final int pageSize;
  private final int maxModelLength;
  private final List<int[]> held = new ArrayList<>();

  private State state = State.WAITING;
  private int freshLeft;  // pages this request may still take from the pool (its reservation)
  private int[] promptPages;
  private KvSegment promptSegment;
  private int chunkFirstPage;  // the pages the step in flight prefills: [chunkFirstPage, chunkEndPage)
  private int chunkEndPage;
  private final List<Path> paths = new ArrayList<>();
  private final List<Path> stepping = new ArrayList<>();  // the paths with a row in the step in flight
  private int step;
  private List<KvSegment> summaryVisible;
  private PagedSequence summaryKv;
  private int[] summary;
  private int summaryLength;
  private int summaryBase;
  private int pathTokens;
  private boolean summaryRowSampled;
  private FinishReason summaryFinish;
  private long admitted;
  private long thinkingStart;
  private long summaryStart;
  private long done;

  Request(long id, int[] prompt, GenerationOptions options, ProgressListener listener, PagePool pool, PrefixCache prefixes,
      ControlTokens control, int maxModelLength) {
    this.id = id;
    this.prompt = prompt.clone();
    this.options = options;
    this.listener = listener;
    this.pool = pool;
    this.prefixes = prefixes;
    this.control = control;
    this.pageSize = pool.pageSize();
    this.maxModelLength = maxModelLength;
    this.budget = KvBudget.of(prompt.length, options, pageSize, maxModelLength);
  }

  State state() {
    return state;
  }

  /** Fresh pages this request would take if admitted now: its budget less the prompt pages already cached. */
  int freshPagesToAdmit() {
    return budget.total() - prefixes.lookup(prompt).length;
  }

  /** Pages still reserved for this request and not yet taken. */
  int reservedLeft() {
    return state == State.WAITING || state == State.DONE ? 0 : freshLeft;
  }

  /**
   * Takes the prompt's pages: those cached are shared, the rest are fresh and registered for later
   * requests; the pool must hold {@link #freshPagesToAdmit} free pages beyond other reservations.
   */
  void admit() {
    int[] shared = prefixes.lookup(prompt);
    pool.retain(shared);
    int[] fresh = pool.allocate(budget.promptPages() - shared.length);
    promptPages = new int[budget.promptPages()];
    System.arraycopy(shared, 0, promptPages, 0, shared.length);
    System.arraycopy(fresh, 0, promptPages, shared.length, fresh.length);
    held.add(promptPages);
    prefixes.register(prompt, promptPages, shared.length, this);
    promptSegment = new KvSegment(promptPages.clone(), prompt.length);
    freshLeft = budget.afterPrompt();
    state = State.PREFILL;
    admitted = System.nanoTime();
  }

  /**
   * Adds this request's rows to the step: one per running path or the summary's next token, or a
   * prefill chunk of whole pages within {@code prefillTokens}; returns the prefill tokens added.
   */
  int addRows(BatchBuilder batch, int prefillTokens) {
    switch (state) {
      case PREFILL -> {
        return addPrefill(batch, prefillTokens);
      }
      case THINKING -> addPathRows(batch);
      case SUMMARY -> addSummaryRow(batch);
      default -> throw new IllegalStateException("request " + id + " has no rows in state " + state);
    }
    return 0;
  }

  /** Rows of this request in the step in flight that ask for a token. */
  int sampledRows() {
    return switch (state) {
      case THINKING -> stepping.size();
      case SUMMARY -> summaryRowSampled ? 1 : 0;
      default -> 0;
    };
  }

  /**
   * §9.1: the prompt at positions 0..Lp-1, segment 0, in chunks of whole pages. A page another
   * request is writing is waited for; the released engine's sampled-and-discarded token after the
   * prompt asks for no logits here.
   */
  private int addPrefill(BatchBuilder batch, int tokens) {
    chunkFirstPage = chunkEndPage = 0;
    int first = 0;
    while (first < promptPages.length && prefixes.isReady(promptPages[first])) first++;
    if (first == promptPages.length) {
      startThinking();  // every page was written by another request
      addPathRows(batch);
      return 0;
    }
    int end = first;
    while (end < promptPages.length && (end - first + 1) * pageSize <= tokens && prefixes.claim(promptPages[end], this)) {
      end++;
    }
    if (end == first) return 0;
    int from = first * pageSize;
    int to = Math.min(end * pageSize, prompt.length);
    int[] slots = new int[to - from];
    for (int t = from; t < to; t++) slots[t - from] = promptPages[t / pageSize] * pageSize + t % pageSize;
    KvSegment own = new KvSegment(Arrays.copyOf(promptPages, end), to);
    batch.add(List.of(), own, 0, from, Arrays.copyOfRange(prompt, from, to), slots, Logits.NONE);
    chunkFirstPage = first;
    chunkEndPage = end;
    return to - from;
  }

  /** §9.1 fork: P paths, each holding the prompt's pages; the request's own hold on them goes. */
  private void startThinking() {
    for (int i = 1; i <= options.paths(); i++) {
      paths.add(new Path(i, control.pathStart(i), options.maxTokens(), pool));
      hold(promptPages);
    }
    release(promptPages);
    state = State.THINKING;
    thinkingStart = System.nanoTime();
    listener.onPhase(Phase.THINKING);
    for (Path p : paths) listener.onToken(p.index, p.tokens[0]);
  }

  /** §9.2: one row per running path over the prompt and the path itself. */
  private void addPathRows(BatchBuilder batch) {
    stepping.clear();
    List<KvSegment> promptOnly = List.of(promptSegment);
    int lp = prompt.length;
    for (Path p : paths) {
      if (p.finish != null) continue;
      int slot = take(p.kv, 1)[0];
      batch.addSampled(promptOnly, p.kv.segment(), p.index, lp + p.length - 1, p.last(), slot, options.sampling(),
          p.index, p.length);  // the index of the token this step draws
      stepping.add(p);
    }
  }

  /** §9.3-9.4: the summary's next token; template tokens are forced and ask for no logits. */
  private void addSummaryRow(BatchBuilder batch) {
    int t = summaryLength - 1;
    int slot = take(summaryKv, 1)[0];
    summaryRowSampled = t + 1 >= control.summaryTemplate().length;
    int[] ids = {summary[summaryLength - 1]};
    if (summaryRowSampled) {
      batch.addSampled(summaryVisible, summaryKv.segment(), 0, summaryBase + t, ids, new int[] {slot}, options.sampling(),
          SUMMARY_PATH, summaryLength);
    } else {
      batch.add(summaryVisible, summaryKv.segment(), 0, summaryBase + t, ids, new int[] {slot}, Logits.NONE);
    }
  }

  /** Takes the step's outcome: {@code drawn[first ..]} are the tokens of this request's sampled rows. */
  void accept(int[] drawn, int first) {
    switch (state) {
      case PREFILL -> {
        for (int p = chunkFirstPage; p < chunkEndPage; p++) prefixes.markReady(promptPages[p]);
        if (chunkEndPage == promptPages.length) startThinking();
      }
      case THINKING -> acceptPathTokens(drawn, first);
      case SUMMARY -> acceptSummaryToken(summaryRowSampled ? drawn[first] : control.summaryTemplate()[summaryLength]);
      default -> throw new IllegalStateException("request " + id + " took tokens in state " + state);
    }
  }

  private void acceptPathTokens(int[] drawn, int first) {
    step++;
    int finished = 0;
    for (Path p : stepping) checkStop(p);
    for (Path p : paths) if (p.finish != null) finished++;
    if (options.termination().isOver(finished, paths.size())) {
      startSummary();
      return;
    }
    for (int j = 0; j < stepping.size(); j++) {
      Path p = stepping.get(j);
      if (p.finish != null) continue;
      p.tokens[p.length++] = p.padding ? control.pad() : rewrite(drawn[first + j], p);
      listener.onToken(p.index, p.last());
    }
    stepping.clear();
    report(Phase.THINKING, step, 0, thinkingStart);
  }

  /** §9.2 (a), on the token the forward pass just consumed. */
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

  /** §9.2 (c): a path may not open a path or the summary, and ends with its own end token. */
  private int rewrite(int sampled, Path p) {
    if (control.isReplacedByThink(sampled)) return control.think();
    if (control.isStop(sampled)) return control.pathEnd(p.index);
    return sampled;
  }

  /**
   * §9.3: one sequence over prompt + every path (by reference), its RoPE base from the longest
   * path; the template is forced one token per step.
   */
  private void startSummary() {
    stepping.clear();
    List<KvSegment> visible = new ArrayList<>();
    visible.add(promptSegment);
    hold(promptPages);
    int n = 0;
    for (Path p : paths) {
      KvSegment s = p.kv.segment();
      visible.add(s);
      hold(s.pages());
      n = Math.max(n, p.length);
      pathTokens += p.length;
    }
    for (Path p : paths) {
      p.kv.release();
      release(promptPages);
    }
    summaryVisible = List.copyOf(visible);
    summaryKv = new PagedSequence(pool);
    summary = new int[options.summaryMaxTokens()];
    summary[0] = control.summaryTemplate()[0];
    summaryLength = 1;
    summaryBase = options.summaryPosition().base(prompt.length, n);
    step = 0;
    state = State.SUMMARY;
    summaryStart = System.nanoTime();
    listener.onPhase(Phase.SUMMARY);
    listener.onToken(SUMMARY_PATH, summary[0]);
  }

  /** §9.4: free decoding until a stop token (written as {@code </summary>}) or the cap. */
  private void acceptSummaryToken(int next) {
    if (control.isStop(next)) {
      summary[summaryLength++] = control.summaryEnd();
      listener.onToken(SUMMARY_PATH, control.summaryEnd());
      finish(FinishReason.STOP);
      return;
    }
    summary[summaryLength++] = next;
    listener.onToken(SUMMARY_PATH, next);
    step++;
    report(Phase.SUMMARY, step, summaryLength, summaryStart);
    if (prompt.length + pathTokens + summaryLength > maxModelLength || summaryLength == summary.length) {
      finish(FinishReason.LENGTH);
    }
  }

  private void finish(FinishReason reason) {
    summaryFinish = reason;
    state = State.DONE;
    done = System.nanoTime();
  }

  /** The finished request's outputs; call once {@link #state} is DONE. */
  Outcome outcome() {
    int n = 0;
    int[][] ids = new int[paths.size()][];
    FinishReason[] finish = new FinishReason[paths.size()];
    for (int i = 0; i < ids.length; i++) {
      Path p = paths.get(i);
      ids[i] = Arrays.copyOf(p.tokens, p.length);
      finish[i] = p.finish == null ? FinishReason.CUT : p.finish;
      n = Math.max(n, p.length);
    }
    int[] out = Arrays.copyOf(summary, summaryLength);
    Timings timings = new Timings(thinkingStart - admitted, summaryStart - thinkingStart, done - summaryStart,
        prompt.length, pathTokens, out.length);
    return new Outcome(ids, finish, n, out, summaryFinish, timings);
  }

  private void report(Phase phase, int step, int summaryTokens, long start) {
    int[] pathLengths = new int[paths.size()];
    long produced = summaryTokens;
    for (int i = 0; i < pathLengths.length; i++) {
      pathLengths[i] = paths.get(i).length;
      if (phase == Phase.THINKING) produced += pathLengths[i];
    }
    listener.onStep(new Progress(phase, step, pathLengths, summaryTokens,
        Timings.perSecond(produced, System.nanoTime() - start)));
  }

  /** Appends to a sequence, counting the pages it takes against the reservation. */
  private int[] take(PagedSequence kv, int count) {
    int before = kv.pageCount();
    int[] slots = kv.append(count);
    freshLeft -= kv.pageCount() - before;
    if (freshLeft < 0) throw new IllegalStateException("request " + id + " took more KV pages than its budget " + budget);
    return slots;
  }

  private void hold(int[] pages) {
    pool.retain(pages);
    held.add(pages);
  }

  private void release(int[] pages) {
    pool.release(pages);
    held.remove(pages);
  }

  /** Drops every page still held; pages it was to write wait for another holder. Idempotent. */
  void close() {
    if (state != State.WAITING) prefixes.writerGone(this);
    for (int[] pages : held) pool.release(pages);
    held.clear();
    for (Path p : paths) p.kv.release();
    if (summaryKv != null) summaryKv.release();
    state = State.DONE;
  }
}
