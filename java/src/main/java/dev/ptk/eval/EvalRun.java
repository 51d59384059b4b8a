package dev.ptk.eval;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One evaluation into an output directory: {@code settings.json} (what the runs depend on),
 * {@code results.jsonl} (one line per run, resumable), {@code summary.json} and
 * {@code accuracy-latency.png}. A rerun into the same directory skips the runs already there; it
 * refuses to mix in runs made with another model, token budget or seed.
 */
public final class EvalRun {
  public static final String SETTINGS = "settings.json";
  public static final String RESULTS = "results.jsonl";
  public static final String SUMMARY = "summary.json";
  public static final String CHART = "accuracy-latency.png";

  private EvalRun() {}

  /** Runs the plan, prints the summary table to {@code out} and returns its rows. */
  public static List<Summary.Row> run(Solver solver, String model, List<Problem> problems, EvalPlan plan, Path outDir,
      PrintStream out, PrintStream err) {
    return run(solver, model, problems, plan, 1, outDir, out, err);
  }

  /** As above, with up to {@code concurrency} runs in the solver at once (see {@link Evaluator}). */
  public static List<Summary.Row> run(Solver solver, String model, List<Problem> problems, EvalPlan plan, int concurrency,
      Path outDir, PrintStream out, PrintStream err) {
    if (problems.isEmpty()) throw new IllegalArgumentException("no problem to evaluate");
    try {
      Files.createDirectories(outDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + outDir + ": " + e.getMessage(), e);
    }
    checkSettings(outDir.resolve(SETTINGS), model, plan);
    List<RunResult> results;
    try (ResultLog log = ResultLog.open(outDir.resolve(RESULTS), err)) {
      results = new Evaluator(solver, plan, err, concurrency).run(problems, log);
    }
    List<Summary.Row> rows = Summary.of(results);
    out.print(Summary.table(rows));
    Summary.writeJson(outDir.resolve(SUMMARY), plan, problems.size(), rows);
    AccuracyLatencyChart.write(outDir.resolve(CHART), rows, model + ", " + problems.size() + " problems");
    return rows;
  }

  private static void checkSettings(Path file, String model, EvalPlan plan) {
    JsonObject want = new JsonObject();
    want.addProperty("model", model);
    want.addProperty("max_tokens", plan.maxTokens());
    want.addProperty("seed", plan.seed());
    try {
      if (Files.exists(file)) {
        JsonObject have;
        try {
          have = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
          throw new IllegalArgumentException(file + ": not a settings object (" + e.getMessage() + ")");
        }
        for (String key : want.keySet()) {
          if (!want.get(key).equals(have.get(key))) {
            throw new IllegalArgumentException(file + ": the runs there were made with " + key + " " + have.get(key)
                + ", this evaluation uses " + want.get(key) + "; choose another output directory");
          }
        }
      } else {
        Files.writeString(file, want + "\n", StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or write " + file + ": " + e.getMessage(), e);
    }
  }
}
