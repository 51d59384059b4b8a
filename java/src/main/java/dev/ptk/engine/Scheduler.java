package dev.ptk.engine;

import dev.ptk.backend.Backend;
import dev.ptk.backend.BatchBuilder;
import dev.ptk.backend.ForwardBatch;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.Function;

/**
 * Continuous batching: requests join and leave between steps, and every step is one forward batch
 * over all running requests — the phase-1 row of every live path and the summary rows first, then
 * prefill chunks of admitted prompts within the step's token budget.
 *
 * <p>Admission reserves a request's worst case ({@link KvBudget}) less the prompt pages already in
 * the prefix cache, in order of arrival: the first waiting request that does not fit holds back
 * those behind it until pages free up. A request never needs pages it did not reserve, so a
 * running request never meets an empty pool and is never preempted; the price is that a request
 * that stops early held pages it did not use. Submission refuses at once a request whose worst case
 * exceeds the whole pool.
 *
 * <p>{@link #submit} and {@link RequestHandle#cancel} may be called from any thread; {@link #step}
 * from one thread at a time, on which the listeners are called.
 */
final class Scheduler {
  /** Tokens per step when not told otherwise: decode rows and prefill chunks together. */
  static final int DEFAULT_STEP_TOKENS = 2048;
  /** Requests running at once when not told otherwise. */
  static final int DEFAULT_MAX_RUNNING = 16;

  private record Entry(Request request, RequestHandle handle) {}

  private final Backend backend;
  private final ControlTokens control;
  private final PagePool pool;
  private final PrefixCache prefixes;
  private final Function<Request, GenerationResult> results;
  private final int stepTokens;
  private final int maxRunning;
  private final Deque<Entry> inbox = new ArrayDeque<>();  // submitted, guarded by itself
  private final Deque<Entry> waiting = new ArrayDeque<>();
  private final List<Entry> running = new ArrayList<>();
  private long nextId;
  private long steps;

  Scheduler(Backend backend, ControlTokens control, PagePool pool, Function<Request, GenerationResult> results,
      int maxRunning, int stepTokens) {
    if (maxRunning < 1) throw new IllegalArgumentException("maxRunning must be at least 1, got " + maxRunning);
    if (stepTokens < backend.pageSize()) {
      throw new IllegalArgumentException("stepTokens must hold at least one KV page of " + backend.pageSize()
          + " tokens, got " + stepTokens);
    }
    this.backend = backend;
    this.control = control;
    this.pool = pool;
    this.prefixes = new PrefixCache(pool.pageSize());
    this.results = results;
    this.maxRunning = maxRunning;
    this.stepTokens = stepTokens;
    pool.onFree(prefixes::forget);
  }

  /** Queues a request validated by the engine (which refuses one that could never fit the pool). */
  RequestHandle submit(int[] prompt, GenerationOptions options, ProgressListener listener) {
    synchronized (inbox) {
      Request r = new Request(nextId, prompt, options, listener, pool, prefixes, control,
          backend.config().maxPositionEmbeddings());
      RequestHandle handle = new RequestHandle(nextId++);
      inbox.addLast(new Entry(r, handle));
      return handle;
    }
  }

  /** Whether a request is waiting or running. */
  boolean hasWork() {
    synchronized (inbox) {
      return !inbox.isEmpty() || !waiting.isEmpty() || !running.isEmpty();
    }
  }

  int running() {
    return running.size();
  }

  int waiting() {
    synchronized (inbox) {
      return inbox.size() + waiting.size();
    }
  }

  /** Prompt pages the prefix cache knows (every one still held by a request). */
  int cachedPrefixPages() {
    return prefixes.size();
  }

  /** Forward steps run so far. */
  long steps() {
    return steps;
  }

  /** Steps until {@code handle} completes (others advance with it). */
  void runUntilDone(RequestHandle handle) {
    while (!handle.isDone()) {
      if (!step() && !handle.isDone()) {
        throw new IllegalStateException("request " + handle.id() + " is not done, but nothing can run");
      }
    }
  }

  /** Steps until no request is left. */
  void runUntilIdle() {
    while (hasWork()) {
      if (!step() && hasWork()) throw new IllegalStateException("requests are left, but nothing can run");
    }
  }

  /**
   * One step: drops cancelled requests, admits what fits, runs one forward batch and hands each
   * request its tokens. Returns false when there was nothing to run.
   */
  boolean step() {
    synchronized (inbox) {
      waiting.addAll(inbox);
      inbox.clear();
    }
    dropCancelled();
    admit();
    if (running.isEmpty()) return false;

    BatchBuilder batch = new BatchBuilder();
    List<Entry> inStep = new ArrayList<>();
    List<Integer> rows = new ArrayList<>();
    for (Entry e : List.copyOf(running)) {  // decode rows first: a long prompt never stalls the paths
      if (e.request.state() == Request.State.THINKING || e.request.state() == Request.State.SUMMARY) {
        addRows(e, batch, 0, inStep, rows);
      }
    }
    for (Entry e : List.copyOf(running)) {
      if (e.request.state() == Request.State.PREFILL) {
        addRows(e, batch, Math.max(0, stepTokens - batch.size()), inStep, rows);
      }
    }
    if (batch.size() == 0) return false;

    ForwardBatch b = batch.batch();
    int[] drawn = new int[0];
    try {
      if (batch.logitRows() > 0) drawn = backend.sample(b, batch.sampling());
      else backend.forward(b);
    } catch (RuntimeException failure) {
      for (Entry e : inStep) fail(e, failure);
      return true;
    }
    steps++;
    int at = 0;
    for (int i = 0; i < inStep.size(); i++) {
      Entry e = inStep.get(i);
      try {
        e.request.accept(drawn, at);
        if (e.request.state() == Request.State.DONE) complete(e);
      } catch (RuntimeException failure) {
        fail(e, failure);
      }
      at += rows.get(i);
    }
    return true;
  }

  private void addRows(Entry e, BatchBuilder batch, int prefillTokens, List<Entry> inStep, List<Integer> rows) {
    int before = batch.logitRows();
    int tokens = batch.size();
    try {
      e.request.addRows(batch, prefillTokens);
    } catch (RuntimeException failure) {  // a listener that threw, say: this request alone fails
      if (batch.size() != tokens) throw new IllegalStateException("request " + e.handle.id() + " failed half-added", failure);
      fail(e, failure);
      return;
    }
    if (batch.size() == tokens) return;  // waiting for prompt pages another request writes
    inStep.add(e);
    rows.add(batch.logitRows() - before);
  }

  private void dropCancelled() {
    waiting.removeIf(e -> {
      if (!e.handle.isCancelled()) return false;
      e.handle.result().completeExceptionally(new CancellationException("request " + e.handle.id() + " was cancelled"));
      return true;
    });
    for (Entry e : List.copyOf(running)) {
      if (e.handle.isCancelled()) fail(e, new CancellationException("request " + e.handle.id() + " was cancelled"));
    }
  }

  /** In order of arrival, while the head's fresh pages fit beside every running request's reservation. */
  private void admit() {
    while (!waiting.isEmpty() && running.size() < maxRunning) {
      Entry head = waiting.peekFirst();
      int reserved = 0;
      for (Entry e : running) reserved += e.request.reservedLeft();
      if (head.request.freshPagesToAdmit() > pool.freePages() - reserved) return;
      waiting.removeFirst();
      head.request.admit();
      running.add(head);
    }
  }

  private void complete(Entry e) {
    GenerationResult result = results.apply(e.request);
    running.remove(e);
    e.request.close();
    e.handle.result().complete(result);
  }

  private void fail(Entry e, Throwable failure) {
    running.remove(e);
    e.request.close();
    e.handle.result().completeExceptionally(failure);
  }
}
