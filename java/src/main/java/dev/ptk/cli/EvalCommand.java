package dev.ptk.cli;

import dev.ptk.engine.GenerationOptions;
import dev.ptk.backend.SamplingParams;
import dev.ptk.engine.KvBudget;
import dev.ptk.engine.SummaryPosition;
import dev.ptk.engine.Termination;
import dev.ptk.eval.EvalPlan;
import dev.ptk.eval.EvalRun;
import dev.ptk.eval.Mode;
import dev.ptk.eval.Problem;
import dev.ptk.eval.ProblemSet;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.ParaThinkerPrompt;
import dev.ptk.model.Tokenizer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** {@code ptk eval}: accuracy and latency on a JSONL benchmark, ParaThinker against its baselines (bench/EVAL.md). */
final class EvalCommand implements Command {
  static final String USAGE = """
      usage: ptk eval --model DIR --data FILE.jsonl [options]
        --model DIR                checkpoint directory (config.json, model.safetensors, tokenizer.json)
        --data FILE.jsonl          one {"problem": ..., "answer": ..., "id": ...} per line (id optional)
        --paths 1,2,4,8            path counts P to evaluate (default 1,2,4,8)
        --mode M[,M..]             parathinker (P paths), sequential (one path of P x max-tokens),
                                   majority (P one-path runs, majority vote); default parathinker
        --samples K                runs per problem, mode and P, each with its own seed (default 1)
        --max-tokens N             tokens per path, a multiple of 16 (default 16384)
        --seed S                   base seed (default 0)
        --yarn auto|off|F          RoPE: auto = YaRN factor budget/8192 when above 1 (default), as released
        --backend cpu|cuda|sim|auto  default auto (CUDA when a GPU is present); sim: the
                                   simulated device (the kernels on the host, for validation; slow)
        --concurrency N            runs decoded together in one batch (default 1: one after another);
                                   the same per-problem results under greedy decoding
        --limit N                  only the first N problems
        --out DIR                  results.jsonl, summary.json, accuracy-latency.png (default eval-out);
                                   a rerun into DIR skips the runs already there
      """;

  @Override
  public String name() {
    return "eval";
  }

  @Override
  public String summary() {
    return "accuracy and latency on a JSONL benchmark against sequential and majority baselines";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public int run(Options options, PrintStream out, PrintStream err) {
    Path model = ModelFiles.modelDir(options);
    Path data = options.existingPath("--data");
    List<Integer> paths = pathCounts(options.string("--paths", "1,2,4,8"));
    List<Mode> modes = modes(options.string("--mode", "parathinker"));
    int samples = options.integer("--samples", 1, 1, 1_000_000);
    int maxTokens = Backends.pageMultiple(
        options.integer("--max-tokens", GenerationOptions.DEFAULT_MAX_TOKENS, 1, Integer.MAX_VALUE), "--max-tokens");
    long seed = seed(options.string("--seed", "0"));
    String yarn = options.string("--yarn", "auto");
    String backend = Backends.choose(options.string("--backend", "auto"));
    int limit = options.integer("--limit", Integer.MAX_VALUE, 1, Integer.MAX_VALUE);
    int concurrency = options.integer("--concurrency", 1, 1, 256);
    Path outDir = Path.of(options.string("--out", "eval-out"));
    options.finish();
    if (!options.positional().isEmpty()) throw new UsageException("eval takes no arguments, got " + options.positional());
    int maxP = Collections.max(paths);
    if ((long) maxP * maxTokens > Integer.MAX_VALUE) throw new UsageException("--paths x --max-tokens is too large");
    EvalPlan plan = new EvalPlan(modes, paths, samples, maxTokens, seed);

    List<Problem> problems = ProblemSet.read(data, err);
    if (problems.size() > limit) problems = problems.subList(0, limit);
    if (problems.isEmpty()) throw new UsageException("--data: " + data + " has no usable problem");
    System.setProperty("java.awt.headless", "true"); // the chart is drawn off screen

    try (Checkpoint checkpoint = ModelFiles.openCheckpoint(model); Tokenizer tokenizer = ModelFiles.openTokenizer(checkpoint)) {
      int parallel = modes.contains(Mode.PARATHINKER) ? maxP : 1;
      if (parallel > GenerationOptions.maxPaths(checkpoint.config())) {
        throw new UsageException("--paths " + maxP + " exceeds the model's " + GenerationOptions.maxPaths(checkpoint.config())
            + " paths (max_segments - 1)");
      }
      Backends.yarn(yarn, checkpoint.config().ropeScaling(), GenerationOptions.releasedRopeScaling(maxTokens));
      int longestPrompt = 0;
      for (Problem p : problems) {
        int length = ParaThinkerPrompt.engineIds(tokenizer, p.problem(), Backends.PAGE_SIZE).length;
        if (length >= checkpoint.config().maxPositionEmbeddings()) {
          throw new UsageException("problem " + p.id() + ": its prompt has " + length + " tokens, the model's context is "
              + checkpoint.config().maxPositionEmbeddings());
        }
        longestPrompt = Math.max(longestPrompt, length);
      }
      // room for the requests in flight at once, in the mode whose requests are largest: P paths of
      // N tokens, one path of P x N (sequential), or one path of N (majority: P of them together)
      int context = checkpoint.config().maxPositionEmbeddings();
      long pages = 0;
      for (Mode m : modes) {
        int pathCount = m == Mode.PARATHINKER ? maxP : 1;
        int perPath = m == Mode.SEQUENTIAL ? maxP * maxTokens : maxTokens;
        int inFlight = m == Mode.MAJORITY && concurrency > 1 ? concurrency * maxP : concurrency;
        GenerationOptions largest = new GenerationOptions(pathCount, perPath, SamplingParams.greedy(), Termination.FIRST_FINISH,
            SummaryPosition.ENGINE, GenerationOptions.DEFAULT_SUMMARY_MAX_TOKENS);
        pages = Math.max(pages, (long) inFlight * KvBudget.of(longestPrompt, largest, Backends.PAGE_SIZE, context).total());
      }
      if (pages > Integer.MAX_VALUE) throw new UsageException("--concurrency x the largest request needs too many KV pages");
      try (EngineSolver solver = new EngineSolver(backend, checkpoint, tokenizer, yarn, (int) pages, concurrency, err)) {
        EvalRun.run(solver, model.toAbsolutePath().normalize().getFileName().toString(), problems, plan, concurrency, outDir,
            out, err);
      }
    }
    err.println("wrote " + outDir.resolve(EvalRun.RESULTS) + ", " + outDir.resolve(EvalRun.SUMMARY) + ", "
        + outDir.resolve(EvalRun.CHART));
    return 0;
  }

  private static List<Integer> pathCounts(String text) {
    List<Integer> counts = new ArrayList<>();
    for (String part : text.split(",", -1)) {
      try {
        int p = Integer.parseInt(part.trim());
        if (p >= 1 && !counts.contains(p)) {
          counts.add(p);
          continue;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new UsageException("--paths must be a comma list of distinct positive integers, got '" + text + "'");
    }
    return counts;
  }

  private static List<Mode> modes(String text) {
    List<Mode> modes = new ArrayList<>();
    for (String part : text.split(",", -1)) {
      Mode m;
      try {
        m = Mode.parse(part.trim());
      } catch (IllegalArgumentException e) {
        throw new UsageException("--mode: " + e.getMessage());
      }
      if (modes.contains(m)) throw new UsageException("--mode lists " + m.label() + " twice");
      modes.add(m);
    }
    return modes;
  }

  private static long seed(String text) {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new UsageException("--seed must be an integer, got '" + text + "'");
    }
  }
}
