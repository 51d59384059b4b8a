package dev.ptk.engine;

import dev.ptk.answer.AnswerExtractor;
import dev.ptk.backend.Backend;
import dev.ptk.model.ModelConfig;
import dev.ptk.model.ParaThinkerPrompt;
import dev.ptk.model.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The ParaThinker flow of the released engine on any {@link Backend} (spec §5, §8): prefill the
 * prompt once, decode P paths in lockstep as one batch over the shared prompt pages, then a
 * summary over the prompt and every path's pages, all without copying KV. Requests run one at a
 * time; the engine owns the page allocation of the backend's KV pool.
 *
 * <p>RoPE is the backend's: to match the released example, create it from
 * {@code config.withRopeScaling(GenerationOptions.releasedRopeScaling(maxTokens))}.
 */
public final class ParaThinkerEngine {
  private final Backend backend;
  private final ControlTokens tokens;
  private final Function<int[], String> decoder;
  private final PagePool pool;

  /** @param decoder token ids to text (special tokens included), for the result's texts */
  public ParaThinkerEngine(Backend backend, ControlTokens tokens, Function<int[], String> decoder) {
    this.backend = backend;
    this.tokens = tokens;
    this.decoder = decoder;
    this.pool = new PagePool(backend.numPages(), backend.pageSize());
  }

  /** An engine for a ParaThinker checkpoint's tokenizer: its control tokens by name, its summary template. */
  public static ParaThinkerEngine of(Backend backend, Tokenizer tokenizer) {
    ControlTokens tokens = ControlTokens.from(tokenizer.special(), ParaThinkerPrompt.summaryIds(tokenizer));
    return new ParaThinkerEngine(backend, tokens, tokenizer::decode);
  }

  public Backend backend() {
    return backend;
  }

  PagePool pool() {
    return pool;
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
    ModelConfig config = backend.config();
    int pageSize = backend.pageSize();
    int maxPaths = GenerationOptions.maxPaths(config);
    if (options.paths() > maxPaths) {
      throw new IllegalArgumentException("paths must be in [1, " + maxPaths + "] (max_segments - 1), got " + options.paths());
    }
    if (options.maxTokens() % pageSize != 0) {
      throw new IllegalArgumentException("maxTokens must be a multiple of the KV page size " + pageSize + ", got "
          + options.maxTokens());
    }
    if (prompt.length == 0 || prompt.length % pageSize != 0) {
      throw new IllegalArgumentException("the engine prompt must be padded to a positive multiple of the page size "
          + pageSize + ", got " + prompt.length + " tokens");
    }
    if (prompt.length >= maxModelLength()) {
      throw new IllegalArgumentException("prompt of " + prompt.length + " tokens does not fit the model's context of "
          + maxModelLength() + " tokens (max_position_embeddings)");
    }
    int pages = pool.pagesFor(prompt.length) + options.paths();
    if (pages > pool.numPages()) {
      throw new IllegalArgumentException("prompt of " + prompt.length + " tokens and " + options.paths()
          + " paths need at least " + pages + " KV pages, the pool has " + pool.numPages());
    }
    for (int id : prompt) {
      if (id < 0 || id >= config.vocabSize()) {
        throw new IllegalArgumentException("prompt token id " + id + " outside the vocabulary [0, " + config.vocabSize() + ")");
      }
    }
  }

  /** Runs one request on an engine prompt (already templated and padded, see ParaThinkerPrompt). */
  public GenerationResult generate(int[] prompt, GenerationOptions options, ProgressListener listener) {
    validate(prompt, options);
    if (options.paths() > GenerationOptions.TRAINED_PATHS) {
      listener.onWarning("P = " + options.paths() + " is beyond the trained range 1.." + GenerationOptions.TRAINED_PATHS
          + "; paths past 8 reuse the start tokens <think1>.. with their own segment ids");
    }
    try (Request request = new Request(backend, pool, tokens, prompt, options, listener)) {
      Request.Outcome out = request.run();
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
