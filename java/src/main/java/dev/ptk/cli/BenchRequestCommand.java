package dev.ptk.cli;

import dev.ptk.backend.Backend;
import dev.ptk.backend.KvSegment;
import dev.ptk.backend.SamplingParams;
import dev.ptk.backend.cuda.CudaBackend;
import dev.ptk.cli.bench.ConcurrencyChart;
import dev.ptk.cli.bench.ConcurrencySweep;
import dev.ptk.cli.bench.IndependentResult;
import dev.ptk.cli.bench.IndependentSequences;
import dev.ptk.engine.ControlTokens;
import dev.ptk.engine.GenerationOptions;
import dev.ptk.engine.GenerationResult;
import dev.ptk.engine.KvBudget;
import dev.ptk.engine.ParaThinkerEngine;
import dev.ptk.engine.ProgressListener;
import dev.ptk.engine.SummaryPosition;
import dev.ptk.engine.Termination;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.ParaThinkerPrompt;
import dev.ptk.model.Tokenizer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.IntFunction;

/**
 * {@code ptk bench-request}: whole ParaThinker requests (prompt once, P paths over it, summary)
 * against the same number of tokens from P independent sequences of the same prompt (each with
 * its own prompt copy) on the same backend, repeated; as JSON, with the KV pool and device memory
 * after each request, so that a run of requests shows it does not grow.
 */
final class BenchRequestCommand implements Command {
  private static final String USAGE = """
      usage: ptk bench-request --model DIR [options]
        --model DIR              checkpoint with tokenizer.json (its control tokens; any weights)
        --backend B              cpu|cuda|sim|auto, default auto (on sim the timings mean nothing)
        --paths P                default 8
        --prompt-tokens N        a random prompt of N tokens, a multiple of 16 (default 1024)
        --max-tokens N           tokens per path, a multiple of 16 (default 512); paths run until
                                 all have stopped or reached it (termination all)
        --requests R             requests, each followed by its baseline, after one untimed
                                 warm-up pair (default 3)
        --seed S                 prompt and sampling seed (default 1); sampling at temperature 0.5
        --concurrency C[,C..]    instead: C requests at once (each its own prompt and seed) against
                                 one at a time, e.g. 1,2,4,8: aggregate tokens/s and latency per level
        --chart FILE.png         with --concurrency: tokens/s and latency against concurrency
        --quiet                  no progress line
      """;

  @Override
  public String name() {
    return "bench-request";
  }

  @Override
  public String summary() {
    return "time whole requests against P independent sequences, and memory across requests, as JSON";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public int run(Options options, PrintStream out, PrintStream err) {
    var model = ModelFiles.modelDir(options);
    String backendName = Backends.choose(options.string("--backend", "auto"));
    int paths = options.integer("--paths", 8, 1, 64);
    int promptTokens = Backends.pageMultiple(options.integer("--prompt-tokens", 1024, 1, Integer.MAX_VALUE), "--prompt-tokens");
    int maxTokens = Backends.pageMultiple(options.integer("--max-tokens", 512, 1, Integer.MAX_VALUE), "--max-tokens");
    int requests = options.integer("--requests", 3, 1, 10_000);
    long seed = options.integer("--seed", 1, Integer.MIN_VALUE, Integer.MAX_VALUE);
    String concurrencyText = options.string("--concurrency", null);
    String chart = options.string("--chart", null);
    boolean quiet = options.flag("--quiet");
    options.finish();
    if (!options.positional().isEmpty()) throw new UsageException("bench-request takes no positional arguments");
    if (chart != null && concurrencyText == null) throw new UsageException("--chart needs --concurrency");

    GenerationOptions request = new GenerationOptions(paths, maxTokens, new SamplingParams(GenerationOptions.DEFAULT_TEMPERATURE, 1, 0, seed),
        Termination.ALL, SummaryPosition.ENGINE, GenerationOptions.DEFAULT_SUMMARY_MAX_TOKENS);
    int page = Backends.PAGE_SIZE;
    if (concurrencyText != null) {
      return sweep(model, backendName, request, promptTokens, levels(concurrencyText), seed, chart, quiet, out, err);
    }
    int summaryPages = KvSegment.pagesFor(request.summaryMaxTokens(), page);
    // The baseline holds P prompt copies and ceil(N / P) <= maxTokens + summary tokens each.
    int pages = paths * (KvSegment.pagesFor(promptTokens, page) + KvSegment.pagesFor(maxTokens, page) + summaryPages + 1);
    try (Checkpoint checkpoint = ModelFiles.openCheckpoint(model);
        Tokenizer tokenizer = ModelFiles.openTokenizer(checkpoint);
        Backend backend = Backends.open(backendName, checkpoint, GenerationOptions.releasedRopeScaling(maxTokens), pages)) {
      ControlTokens control = ControlTokens.from(tokenizer.special(), ParaThinkerPrompt.summaryIds(tokenizer));
      ParaThinkerEngine engine = new ParaThinkerEngine(backend, control, ids -> "");  // texts are not timed
      int[] prompt = randomPrompt(promptTokens, checkpoint.config().vocabSize(), control, seed);
      try {
        engine.validate(prompt, request);
      } catch (IllegalArgumentException e) {
        throw new UsageException(e.getMessage());
      }
      List<String> rows = new ArrayList<>();
      double[] speedups = new double[requests];
      long firstFree = -1, lastFree = -1;
      err.println("bench-request: warm-up (JIT, CUDA graphs of each step shape)");
      engine.generate(prompt, request, ProgressListener.NONE);
      IndependentSequences.run(backend, prompt, paths, maxTokens, request.sampling(), ProgressListener.NONE);
      for (int i = 0; i < requests; i++) {
        ProgressLine progress = new ProgressLine(err, !quiet);
        GenerationResult r;
        IndependentResult base;
        int tokens;
        try {
          r = engine.generate(prompt, request, progress);
          tokens = r.timings().pathTokens() + r.timings().summaryTokens();
          base = IndependentSequences.run(backend, prompt, paths, (tokens + paths - 1) / paths, request.sampling(), progress);
        } finally {
          progress.end();
        }
        long parathinkerNanos = r.timings().totalNanos(), baseNanos = base.timings().totalNanos();
        double speedup = (tokens / (double) parathinkerNanos) / (base.timings().pathTokens() / (double) baseNanos);
        speedups[i] = speedup;
        long free = backend instanceof CudaBackend cuda ? cuda.deviceFreeBytes() : -1;
        if (i == 0) firstFree = free;
        lastFree = free;
        int poolFree = engine.freeKvPages();
        rows.add(String.format("{\"request\": %d, \"parathinker_ms\": %.2f, \"prefill_ms\": %.2f, \"thinking_ms\": %.2f, "
                + "\"summary_ms\": %.2f, \"path_tokens\": %d, \"summary_tokens\": %d, \"independent_ms\": %.2f, "
                + "\"independent_prefill_ms\": %.2f, \"independent_tokens\": %d, \"speedup\": %.3f, "
                + "\"pool_free_pages\": %d%s}",
            i, parathinkerNanos / 1e6, r.timings().prefillNanos() / 1e6, r.timings().thinkingNanos() / 1e6,
            r.timings().summaryNanos() / 1e6, r.timings().pathTokens(), r.timings().summaryTokens(), baseNanos / 1e6,
            base.timings().prefillNanos() / 1e6, base.timings().pathTokens(), speedup, poolFree, free >= 0 ? ", \"device_free_bytes\": " + free : ""));
        err.printf("bench-request %d/%d: ParaThinker %d tokens in %.1f ms, %d independent sequences %d tokens in %.1f ms: "
                + "%.2fx the throughput; KV pool %d/%d pages free%s%n", i + 1, requests, tokens, parathinkerNanos / 1e6, paths,
            base.timings().pathTokens(), baseNanos / 1e6, speedup, poolFree, backend.numPages(),
            free >= 0 ? String.format(", device %.2f GiB free", free / (double) (1L << 30)) : "");
      }
      Arrays.sort(speedups);
      out.println("{\"backend\": \"" + backend.describe().replace("\"", "'") + "\", \"paths\": " + paths
          + ", \"prompt_tokens\": " + promptTokens + ", \"max_tokens\": " + maxTokens + ", \"kv_pages\": " + backend.numPages()
          + ", \"median_speedup\": " + String.format("%.3f", speedups[requests / 2])
          + (firstFree >= 0 ? ", \"device_free_change_bytes\": " + (lastFree - firstFree) : "")
          + ", \"requests\": [\n  " + String.join(",\n  ", rows) + "\n]}");
    }
    return 0;
  }

  /** The concurrency sweep: every level's aggregate rate and latencies, as JSON (and a picture). */
  private static int sweep(Path model, String backendName, GenerationOptions request, int promptTokens, int[] levels,
      long seed, String chart, boolean quiet, PrintStream out, PrintStream err) {
    int most = Arrays.stream(levels).max().orElseThrow();
    try (Checkpoint checkpoint = ModelFiles.openCheckpoint(model);
        Tokenizer tokenizer = ModelFiles.openTokenizer(checkpoint)) {
      int context = checkpoint.config().maxPositionEmbeddings();
      int pages = most * KvBudget.of(promptTokens, request, Backends.PAGE_SIZE, context).total();
      try (Backend backend = Backends.open(backendName, checkpoint, GenerationOptions.releasedRopeScaling(request.maxTokens()), pages)) {
        ControlTokens control = ControlTokens.from(tokenizer.special(), ParaThinkerPrompt.summaryIds(tokenizer));
        ParaThinkerEngine engine = new ParaThinkerEngine(backend, control, ids -> "", most, ParaThinkerEngine.DEFAULT_STEP_TOKENS);
        int vocab = checkpoint.config().vocabSize();
        IntFunction<int[]> prompt = i -> randomPrompt(promptTokens, vocab, control, seed + 1000L * (i + 1));
        try {
          engine.validate(prompt.apply(0), request);
        } catch (IllegalArgumentException e) {
          throw new UsageException(e.getMessage());
        }
        err.println("bench-request: warm-up (one request, untimed)");
        engine.generate(prompt.apply(-1), request, ProgressListener.NONE);
        List<ConcurrencySweep.Level> results = ConcurrencySweep.run(engine, prompt, request, levels, err, !quiet);
        double one = results.get(0).tokensPerSecond();
        List<String> rows = new ArrayList<>();
        for (ConcurrencySweep.Level l : results) {
          rows.add(String.format(Locale.ROOT, "{\"concurrency\": %d, \"wall_ms\": %.1f, \"tokens\": %d, "
                  + "\"tokens_per_s\": %.2f, \"vs_first_level\": %.3f, \"mean_latency_ms\": %.1f, \"latency_ms\": %s, "
                  + "\"pool_free_pages\": %d}", l.concurrency(), l.wallNanos() / 1e6, l.tokens(), l.tokensPerSecond(),
              l.tokensPerSecond() / one, l.meanLatencyMs(), Arrays.toString(Arrays.stream(l.latencyMs()).map(Math::rint).toArray()),
              l.freePagesAfter()));
        }
        out.println("{\"backend\": \"" + backend.describe().replace("\"", "'") + "\", \"paths\": " + request.paths()
            + ", \"prompt_tokens\": " + promptTokens + ", \"max_tokens\": " + request.maxTokens() + ", \"kv_pages\": "
            + backend.numPages() + ", \"levels\": [\n  " + String.join(",\n  ", rows) + "\n]}");
        if (chart != null) {
          ConcurrencyChart.write(Path.of(chart), results, "ParaThinker requests at once, P = " + request.paths()
              + ", " + backend.describe());
          err.println("wrote " + chart);
        }
      }
    }
    return 0;
  }

  private static int[] levels(String text) {
    try {
      int[] levels = Arrays.stream(text.split(",", -1)).mapToInt(t -> Integer.parseInt(t.trim())).toArray();
      if (levels.length > 0 && Arrays.stream(levels).allMatch(c -> c >= 1 && c <= 256)) return levels;
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException("--concurrency must be a comma list of integers in [1, 256], got '" + text + "'");
  }

  /** Token ids drawn uniformly from the vocabulary, control tokens excluded (they would steer the flow). */
  private static int[] randomPrompt(int length, int vocab, ControlTokens control, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int[] ids = new int[length];
    for (int i = 0; i < length; i++) {
      int id;
      do {
        id = random.nextInt(vocab);
      } while (isControl(id, control));
      ids[i] = id;
    }
    return ids;
  }

  /** Path ends are among the stops, path starts among the tokens replaced by {@code <think>}. */
  private static boolean isControl(int id, ControlTokens c) {
    return c.isStop(id) || c.isReplacedByThink(id) || id == c.think() || id == c.pad();
  }
}
