package dev.ptk.eval;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Accuracy, latency and tokens per mode and P over a set of runs (all samples pooled). */
public final class Summary {
  /** One mode at one P: accuracy in [0, 1], latencies in milliseconds, mean generated tokens per run. */
  public record Row(Mode mode, int paths, int runs, double accuracy, double meanLatencyMs, double p95LatencyMs,
      double tokensPerRequest) {}

  private Summary() {}

  /** One row per (mode, P) present, ordered by mode then P. */
  public static List<Row> of(List<RunResult> results) {
    Map<String, List<RunResult>> groups = new LinkedHashMap<>();
    for (RunResult r : results) groups.computeIfAbsent(r.mode() + "/" + r.paths(), k -> new ArrayList<>()).add(r);
    List<Row> rows = new ArrayList<>();
    for (List<RunResult> g : groups.values()) {
      double[] latency = new double[g.size()];
      double correct = 0, tokens = 0;
      for (int i = 0; i < g.size(); i++) {
        latency[i] = g.get(i).latencyMs();
        if (g.get(i).correct()) correct++;
        tokens += g.get(i).totalTokens();
      }
      rows.add(new Row(g.get(0).mode(), g.get(0).paths(), g.size(), correct / g.size(), Stats.mean(latency),
          Stats.percentile(latency, 95), tokens / g.size()));
    }
    rows.sort(Comparator.comparing(Row::mode).thenComparingInt(Row::paths));
    return rows;
  }

  /** The table {@code ptk eval} prints at the end. */
  public static String table(List<Row> rows) {
    StringBuilder sb = new StringBuilder(String.format("%-12s %3s %6s %9s %12s %12s %12s%n",
        "mode", "P", "runs", "accuracy", "mean ms", "p95 ms", "tokens/req"));
    for (Row r : rows) {
      sb.append(String.format("%-12s %3d %6d %8.1f%% %12.1f %12.1f %12.1f%n", r.mode().label(), r.paths(), r.runs(),
          100 * r.accuracy(), r.meanLatencyMs(), r.p95LatencyMs(), r.tokensPerRequest()));
    }
    return sb.toString();
  }

  /** {@code summary.json}: the plan's settings and one object per row. */
  public static void writeJson(Path file, EvalPlan plan, int problems, List<Row> rows) {
    JsonObject o = new JsonObject();
    o.addProperty("problems", problems);
    o.addProperty("samples", plan.samples());
    o.addProperty("max_tokens", plan.maxTokens());
    o.addProperty("seed", plan.seed());
    JsonArray array = new JsonArray();
    for (Row r : rows) {
      JsonObject row = new JsonObject();
      row.addProperty("mode", r.mode().label());
      row.addProperty("paths", r.paths());
      row.addProperty("runs", r.runs());
      row.addProperty("accuracy", r.accuracy());
      row.addProperty("mean_latency_ms", r.meanLatencyMs());
      row.addProperty("p95_latency_ms", r.p95LatencyMs());
      row.addProperty("tokens_per_request", r.tokensPerRequest());
      array.add(row);
    }
    o.add("rows", array);
    try {
      Files.writeString(file, new GsonBuilder().setPrettyPrinting().create().toJson(o) + "\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
