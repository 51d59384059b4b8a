package dev.ptk.engine;

import dev.ptk.answer.AnswerExtractor;
import dev.ptk.backend.Backend;
import dev.ptk.model.ParaThinkerPrompt;
import dev.ptk.model.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The ParaThinker flow of the released engine on any {@link Backend} (SEMANTICS.md §9): prefill the
 * prompt once, decode P paths in lockstep as one batch over the shared prompt pages, then a
 * summary over the prompt and every path's pages, all without copying KV. Many requests run at
 * once ({@link #submit}, continuous batching: see {@link Scheduler}); {@link #generate} runs one
 * and waits for it. The engine owns the page allocation of the backend's KV pool.
 *
 * <p>RoPE is the backend's: to match the released example, create it from
 * {@code config.withRopeScaling(GenerationOptions.releasedRopeScaling(maxTokens))}.
 */
public final class ParaThinkerEngine {
  /** Tokens of one forward step when not told otherwise: decode rows, then prefill chunks. */
  public static final int DEFAULT_STEP_TOKENS = Scheduler.DEFAULT_STEP_TOKENS;

  private final Backend backend;
  private final ControlTokens tokens;
  private final Function<int[], String> decoder;
  private final PagePool pool;
  private final Scheduler scheduler;

  /** @param decoder token ids to text (special tokens included), for the result's texts */
  public ParaThinkerEngine(Backend backend, ControlTokens tokens, Function<int[], String> decoder) {
    this(backend, tokens, decoder, Scheduler.DEFAULT_MAX_RUNNING, Scheduler.DEFAULT_STEP_TOKENS);
  }

  /**
   * @param maxRunning requests decoded together at most (others wait in order of arrival)
   * @param stepTokens tokens of one forward step: decode rows, then prefill chunks of whole pages
   */
  public ParaThinkerEngine(Backend backend, ControlTokens tokens, Function<int[], String> decoder, int maxRunning,
      int stepTokens) {
    this.backend = backend;
    this.tokens = tokens;
    this.decoder = decoder;
    this.pool = new PagePool(backend.numPages(), backend.pageSize());
    this.scheduler = new Scheduler(backend, tokens, pool, r -> result(r.prompt, r.options, r.outcome()), maxRunning,
        stepTokens);
  }

  /** An engine for a ParaThinker checkpoint's tokenizer: its control tokens by name, its summary template. */
  public static ParaThinkerEngine of(Backend backend, Tokenizer tokenizer) {
    return of(backend, tokenizer, Scheduler.DEFAULT_MAX_RUNNING);
  }

  /** As {@link #of(Backend, Tokenizer)}, decoding at most {@code maxRunning} requests together. */
  public static ParaThinkerEngine of(Backend backend, Tokenizer tokenizer, int maxRunning) {
    ControlTokens tokens = ControlTokens.from(tokenizer.special(), ParaThinkerPrompt.summaryIds(tokenizer));
    return new ParaThinkerEngine(backend, tokens, tokenizer::decode, maxRunning, Scheduler.DEFAULT_STEP_TOKENS);
  }

  public Backend backend() {
    return backend;
  }

  PagePool pool() {
    return pool;
  }

  Scheduler scheduler() {
    return scheduler;
  }

  /** KV pages not held by any request: all of them between requests. */
  public int freeKvPages() {
    return pool.freePages();
  }

  /** The most tokens one sequence (prompt + output) may hold: the model's context. */
  public int maxModelLength() {
    return backend.config().maxPositionEmbeddings();
  }

  /** Rejects a request that cannot run, naming the argument, before any work is done. */
  public void validate(int[] prompt, GenerationOptions options) {
    int pageSize = backend.pageSize();
    int maxPaths = GenerationOptions.maxPaths(backend.config());
    if (options.paths() > maxPaths) {
      throw new IllegalArgumentException("paths must be in [1, " + maxPaths + "] (max_segments - 1), got " + options.paths());
    }
    if (options.maxTokens() % pageSize != 0) {
      throw new IllegalArgumentException("maxTokens must be a multiple of the KV page size " + pageSize + ", got "
          + options.maxTokens());
    }
    validatePrompt(prompt);
    KvBudget budget = KvBudget.of(prompt.length, options, pageSize, maxModelLength());
    if (budget.total() > pool.numPages()) {
      throw new IllegalArgumentException("the request needs up to " + budget + " at its longest, the pool has "
          + pool.numPages() + " pages of " + pageSize + " tokens; lower maxTokens or paths");
    }
  }

  /** Rejects an engine prompt that is empty, not padded to whole pages, too long or outside the vocabulary. */
  public void validatePrompt(int[] prompt) {
    int pageSize = backend.pageSize();
    if (prompt.length == 0 || prompt.length % pageSize != 0) {
      throw new IllegalArgumentException("the engine prompt must be padded to a positive multiple of the page size "
          + pageSize + ", got " + prompt.length + " tokens");
    }
    if (prompt.length >= maxModelLength()) {
      throw new IllegalArgumentException("prompt of " + prompt.length + " tokens does not fit the model's context of "
          + maxModelLength() + " tokens (max_position_embeddings)");
    }
    int vocab = backend.config().vocabSize();
    for (int id : prompt) {
      if (id < 0 || id >= vocab) {
        throw new IllegalArgumentException("prompt token id " + id + " outside the vocabulary [0, " + vocab + ")");
      }
    }
  }

  /**
   * Queues a request on an engine prompt (already templated and padded, see ParaThinkerPrompt); it
   * runs as {@link #step} is called, alongside the others. Throws at once, naming the argument,
   * for a request that cannot run.
   */
  public RequestHandle submit(int[] prompt, GenerationOptions options, ProgressListener listener) {
    validate(prompt, options);
    if (options.paths() > GenerationOptions.TRAINED_PATHS) {
      listener.onWarning("P = " + options.paths() + " is beyond the trained range 1.." + GenerationOptions.TRAINED_PATHS
          + "; paths past 8 reuse the start tokens <think1>.. with their own segment ids");
    }
    return scheduler.submit(prompt, options, listener);
  }

  /** Runs one step of every running request (one forward batch); false when there was nothing to run. */
  public boolean step() {
    return scheduler.step();
  }

  /** Steps until no request is waiting or running. */
  public void runUntilIdle() {
    scheduler.runUntilIdle();
  }

  /** Whether a request is waiting or running. */
  public boolean hasWork() {
    return scheduler.hasWork();
  }

  /** Forward steps run so far. */
  public long steps() {
    return scheduler.steps();
  }

  /** Runs one request and waits for it (requests submitted before it advance too). */
  public GenerationResult generate(int[] prompt, GenerationOptions options, ProgressListener listener) {
    RequestHandle handle = submit(prompt, options, listener);
    scheduler.runUntilDone(handle);
    return handle.join();
  }

  private GenerationResult result(int[] prompt, GenerationOptions options, Request.Outcome out) {
    int[] all = concat(out.paths(), out.summary());
    String text = decoder.apply(all);
    List<PathOutput> paths = new ArrayList<>();
    for (int i = 0; i < out.paths().length; i++) {
      paths.add(new PathOutput(i + 1, out.paths()[i], decoder.apply(out.paths()[i]), out.pathFinish()[i]));
    }
    return new GenerationResult(prompt.clone(), List.copyOf(paths), out.pathLength(), out.summary(),
        decoder.apply(out.summary()), out.summaryFinish(), text,
        AnswerExtractor.extract(decoder.apply(out.summary()), paths.stream().map(PathOutput::text).toList()).answer(),
        out.timings(), options.sampling().seed());
  }

  private static int[] concat(int[][] paths, int[] summary) {
    int total = summary.length;
    for (int[] p : paths) total += p.length;
    int[] all = new int[total];
    int at = 0;
    for (int[] p : paths) {
      System.arraycopy(p, 0, all, at, p.length);
      at += p.length;
    }
    System.arraycopy(summary, 0, all, at, summary.length);
    return all;
  }
}
