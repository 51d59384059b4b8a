package dev.ptk.cli;

import dev.ptk.backend.Backend;
import dev.ptk.backend.KvSegment;
import dev.ptk.backend.SamplingParams;
import dev.ptk.engine.GenerationOptions;
import dev.ptk.engine.KvBudget;
import dev.ptk.engine.GenerationResult;
import dev.ptk.engine.ParaThinkerEngine;
import dev.ptk.engine.PathOutput;
import dev.ptk.engine.SummaryPosition;
import dev.ptk.engine.Termination;
import dev.ptk.engine.Timings;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.ParaThinkerPrompt;
import dev.ptk.model.RopeScaling;
import dev.ptk.model.Tokenizer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** {@code ptk generate}: one question through the ParaThinker flow, with live progress. */
final class GenerateCommand implements Command {
  static final String USAGE = """
      usage: ptk generate --model DIR --paths P [options] "question"
        --model DIR                checkpoint directory (config.json, model.safetensors, tokenizer.json)
        --paths P                  parallel reasoning paths, 1..8 (up to max_segments-1 with a warning)
        --max-tokens N             tokens per path, a multiple of 16 (default 16384)
        --temperature T            default 0.5; below 1e-5 is greedy
        --top-p p                  default 1.0 (off)
        --top-k k                  default 0 (off)
        --seed S                   sampling seed (default: random, printed)
        --termination first|all|ratio:R   end thinking at the first finished path (default), when all
                                   have finished, or once a fraction R of them has
        --summary-position engine|training   summary RoPE base 2*Lp+n (default) or Lp+n
        --summary-max-tokens N     summary cap counting <summary> (default 128)
        --yarn auto|off|F          RoPE: auto = YaRN factor max-tokens/8192 when above 1 (default),
                                   off = config.json's, F = YaRN factor F (original length 9280)
        --kv-pages N               KV pool size in pages of 16 tokens (default: the request's worst case)
        --backend cpu|cuda|sim|auto  default auto (CUDA when a GPU is present); sim: the
                                   simulated device (the kernels on the host, for validation; slow)
        --quiet                    no progress line and timings
      """;

  @Override
  public String name() {
    return "generate";
  }

  @Override
  public String summary() {
    return "answer a question with P parallel reasoning paths and a summary";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public int run(Options options, PrintStream out, PrintStream err) {
    Path model = ModelFiles.modelDir(options);
    String pathsText = options.required("--paths");
    int maxTokens = Backends.pageMultiple(
        options.integer("--max-tokens", GenerationOptions.DEFAULT_MAX_TOKENS, 1, Integer.MAX_VALUE), "--max-tokens");
    double temperature = options.real("--temperature", GenerationOptions.DEFAULT_TEMPERATURE, 0, 1e4);
    double topP = options.real("--top-p", 1.0, 0, 1.0);
    if (topP == 0) throw new UsageException("--top-p must be in (0, 1], got 0");
    int topK = options.integer("--top-k", 0, 0, Integer.MAX_VALUE);
    long seed = seed(options.string("--seed", null));
    Termination termination = CommonFlags.termination(options.string("--termination", "first"));
    SummaryPosition position = CommonFlags.summaryPosition(options.string("--summary-position", "engine"));
    int summaryMax = options.integer("--summary-max-tokens", GenerationOptions.DEFAULT_SUMMARY_MAX_TOKENS, 2, Integer.MAX_VALUE);
    String yarn = options.string("--yarn", "auto");
    String kvPages = options.string("--kv-pages", null);
    String backendName = Backends.choose(options.string("--backend", "auto"));
    boolean quiet = options.flag("--quiet");
    options.finish();
    if (options.positional().size() != 1) {
      throw new UsageException("give the question as one quoted argument (got " + options.positional().size() + " arguments)");
    }
    String question = options.positional().get(0);

    try (Checkpoint checkpoint = ModelFiles.openCheckpoint(model)) {
      return generate(checkpoint, question, pathsText, maxTokens, new SamplingParams(temperature, topP, topK, seed),
          termination, position, summaryMax, yarn, kvPages, backendName, quiet, out, err);
    }
  }

  private static int generate(Checkpoint checkpoint, String question, String pathsText, int maxTokens, SamplingParams sampling,
      Termination termination, SummaryPosition position, int summaryMax, String yarn, String kvPages, String backendName, boolean quiet,
      PrintStream out, PrintStream err) {
    int maxPaths = GenerationOptions.maxPaths(checkpoint.config());
    int paths = paths(pathsText, maxPaths);
    RopeScaling scaling = Backends.yarn(yarn, checkpoint.config().ropeScaling(), GenerationOptions.releasedRopeScaling(maxTokens));
    GenerationOptions request = new GenerationOptions(paths, maxTokens, sampling, termination, position, summaryMax);

    try (Tokenizer tokenizer = ModelFiles.openTokenizer(checkpoint)) {
      int[] prompt = ParaThinkerPrompt.engineIds(tokenizer, question, Backends.PAGE_SIZE);
      int context = checkpoint.config().maxPositionEmbeddings();
      if (prompt.length >= context) {
        throw new UsageException("the prompt has " + prompt.length + " tokens, the model's context is " + context
            + " (max_position_embeddings)");
      }
      int pages = kvPages != null ? CommonFlags.kvPages(kvPages)
          : KvBudget.of(prompt.length, request, Backends.PAGE_SIZE, context).total();
      try (Backend backend = Backends.open(backendName, checkpoint, scaling, pages)) {
        ParaThinkerEngine engine = ParaThinkerEngine.of(backend, tokenizer);
        try {
          engine.validate(prompt, request);
        } catch (IllegalArgumentException e) {
          throw new UsageException(e.getMessage());
        }
        ProgressLine progress = new ProgressLine(err, !quiet);
        GenerationResult r;
        try {
          r = engine.generate(prompt, request, progress);
        } finally {
          progress.end();
        }
        print(r, out);
        if (!quiet) err.println(timings(r, backend));
      }
    }
    return 0;
  }

  private static int paths(String text, int max) {
    int p;
    try {
      p = Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new UsageException("--paths must be an integer, got '" + text + "'");
    }
    if (p < 1 || p > max) {
      throw new UsageException("--paths must be in [1, " + max + "] (1.." + GenerationOptions.TRAINED_PATHS
          + " as trained, more up to max_segments - 1 with a warning), got " + p);
    }
    return p;
  }

  private static long seed(String text) {
    if (text == null) return new SplittableRandom().nextLong();
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new UsageException("--seed must be an integer, got '" + text + "'");
    }
  }

  private static void print(GenerationResult r, PrintStream out) {
    for (PathOutput p : r.paths()) {
      out.printf("=== path %d (%s, %d tokens) ===%n%s%n", p.index(), p.finish().name().toLowerCase(), p.tokens().length, p.text());
    }
    out.printf("=== summary (%s, %d tokens) ===%n%s%n", r.summaryFinish().name().toLowerCase(), r.summaryTokens().length,
        r.summaryText());
    out.printf("=== answer ===%n%s%n", r.answer() != null ? r.answer() : "(no \\boxed{} answer)");
  }

  private static String timings(GenerationResult r, Backend backend) {
    Timings t = r.timings();
    return String.format("prefill %d tokens %.2f s (%.1f tok/s), thinking %d x %d tokens %.2f s (%.1f tok/s), "
            + "summary %d tokens %.2f s (%.1f tok/s); seed %d; %s",
        t.promptTokens(), t.prefillNanos() / 1e9, t.prefillTokensPerSecond(), r.paths().size(), r.pathLength(),
        t.thinkingNanos() / 1e9, t.thinkingTokensPerSecond(), t.summaryTokens(), t.summaryNanos() / 1e9,
        t.summaryTokensPerSecond(), r.seed(), backend.describe());
  }
}
