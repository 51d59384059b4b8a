package dev.ptk.bench;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.ptk.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZonedDateTime;
import java.util.Collection;
import java.util.TreeMap;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link CpuDecodeBenchmark} (P = 1, 4, 8) and {@link MemoryBandwidthBenchmark} in one JMH run,
 * and reports each decode step against its floor: the bytes a step must read (every weight matrix
 * once, plus the K/V of the prompt and of every path) over the measured read bandwidth (its best
 * iteration). Each step is reported as JMH's mean and as its best iteration, with the load average
 * around the run, since a shared machine slows some iterations.
 *
 * <p>Usage: {@code CpuDecodeReport [checkpoint-dir]}; writes bench/results/cpu-decode-DATE.json.
 */
public final class CpuDecodeReport {
  private CpuDecodeReport() {}

  public static void main(String[] args) throws RunnerException, IOException {
    String checkpoint = args.length > 0 ? args[0] : "";
    double[] loadBefore = loadAverage();
    Collection<RunResult> results = new Runner(new OptionsBuilder()
        .include(CpuDecodeBenchmark.class.getName() + ".decodeStep")
        .include(MemoryBandwidthBenchmark.class.getName() + ".readAll")
        .param("checkpoint", checkpoint)
        .build()).run();
    double[] loadAfter = loadAverage();

    double bandwidthMs = Double.NaN;
    TreeMap<Integer, RunResult> steps = new TreeMap<>();
    for (RunResult r : results) {
      String name = r.getParams().getBenchmark();
      // the fastest iteration is the machine's capability (a slower one only means another process read too)
      if (name.endsWith("readAll")) bandwidthMs = r.getPrimaryResult().getStatistics().getMin();
      else steps.put(Integer.parseInt(r.getParams().getParam("paths")), r);
    }
    double bandwidth = MemoryBandwidthBenchmark.BYTES / (bandwidthMs / 1e3); // bytes per second
    ModelConfig c = checkpoint.isEmpty() ? CpuDecodeBenchmark.PARATHINKER_1_5B : ModelConfig.load(Path.of(checkpoint, "config.json"));
    long weightBytes = weightBytesPerStep(c);

    JsonArray rows = new JsonArray();
    System.out.printf("%nread bandwidth %.2f GB/s (%d GiB in %.1f ms, best iteration)%n", bandwidth / 1e9,
        MemoryBandwidthBenchmark.BYTES >> 30, bandwidthMs);
    System.out.printf("%3s %10s %10s %10s %8s %8s %10s %10s%n", "P", "ms/step", "best iter", "floor ms", "ratio", "best", "vs P=1", "best");
    double p1 = steps.containsKey(1) ? steps.get(1).getPrimaryResult().getScore() : Double.NaN;
    double p1Best = steps.containsKey(1) ? steps.get(1).getPrimaryResult().getStatistics().getMin() : Double.NaN;
    for (var e : steps.entrySet()) {
      int p = e.getKey();
      double ms = e.getValue().getPrimaryResult().getScore();
      double best = e.getValue().getPrimaryResult().getStatistics().getMin();
      long kvBytes = (long) (CpuDecodeBenchmark.PROMPT + p * CpuDecodeBenchmark.PATH) * kvBytesPerToken(c);
      double floorMs = (weightBytes + kvBytes) / bandwidth * 1e3;
      System.out.printf("%3d %10.1f %10.1f %10.1f %8.2f %8.2f %10.2f %10.2f%n", p, ms, best, floorMs, ms / floorMs,
          best / floorMs, ms / p1, best / p1Best);
      JsonObject row = new JsonObject();
      row.addProperty("paths", p);
      row.addProperty("ms_per_step", round(ms));
      row.addProperty("ms_error_99", round(e.getValue().getPrimaryResult().getScoreError()));
      row.addProperty("ms_best_iteration", round(best));
      row.addProperty("bytes_read", weightBytes + kvBytes);
      row.addProperty("floor_ms", round(floorMs));
      row.addProperty("ratio_to_floor", round(ms / floorMs));
      row.addProperty("best_ratio_to_floor", round(best / floorMs));
      row.addProperty("scaling_vs_p1", round(ms / p1));
      row.addProperty("best_scaling_vs_p1", round(best / p1Best));
      row.addProperty("tokens_per_s", round(p * 1e3 / ms));
      rows.add(row);
    }

    JsonObject out = new JsonObject();
    out.addProperty("benchmark", "CPU backend, one phase-1 decode step of ParaThinker-1.5B");
    out.addProperty("date", ZonedDateTime.now().toString());
    out.addProperty("commit", System.getProperty("ptk.commit", "unknown"));
    out.addProperty("weights", checkpoint.isEmpty() ? "random BF16, real shapes, direct buffers" : checkpoint);
    out.addProperty("prompt_tokens", CpuDecodeBenchmark.PROMPT);
    out.addProperty("path_tokens", CpuDecodeBenchmark.PATH);
    out.addProperty("weight_bytes_per_step", weightBytes);
    out.addProperty("kv_bytes_per_token", kvBytesPerToken(c));
    out.addProperty("read_bandwidth_gb_s", round(bandwidth / 1e9));
    out.add("machine", machine(loadBefore, loadAfter));
    out.add("results", rows);
    JsonObject targets = new JsonObject();
    targets.addProperty("p1_ratio_to_floor_max", 1.5);
    targets.addProperty("p8_scaling_vs_p1_max", 3.0);
    out.add("targets", targets);
    Path dir = Path.of("bench", "results");
    Files.createDirectories(dir);
    Path file = dir.resolve("cpu-decode-" + LocalDate.now() + ".json");
    Files.writeString(file, new GsonBuilder().setPrettyPrinting().create().toJson(out) + "\n");
    System.setProperty("java.awt.headless", "true");
    DecodeScalingChart.write(out, DecodeScalingChart.png(file));
    System.out.println("wrote " + file + " and " + DecodeScalingChart.png(file));
  }

  /** Every weight matrix once (q, k, v, o, gate, up, down per layer, and lm_head), bf16. */
  static long weightBytesPerStep(ModelConfig c) {
    long h = c.hiddenSize();
    long perLayer = c.qkvWidth() * h + (long) c.numHeads() * c.headDim() * h + 3L * c.intermediateSize() * h;
    return 2 * (c.numLayers() * perLayer + (long) c.vocabSize() * h);
  }

  /** K and V of every layer, bf16. */
  static long kvBytesPerToken(ModelConfig c) {
    return (long) c.numLayers() * 2 * c.numKvHeads() * c.headDim() * 2;
  }

  private static JsonObject machine(double[] loadBefore, double[] loadAfter) throws IOException {
    JsonObject m = new JsonObject();
    m.addProperty("cpu", cpuModel());
    m.addProperty("cores", Runtime.getRuntime().availableProcessors());
    m.addProperty("jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    m.addProperty("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    m.addProperty("load_average_1min_before", loadBefore[0]);
    m.addProperty("load_average_1min_after", loadAfter[0]);
    return m;
  }

  private static String cpuModel() throws IOException {
    Path info = Path.of("/proc/cpuinfo");
    if (!Files.isReadable(info)) return "unknown";
    return Files.readAllLines(info).stream().filter(l -> l.startsWith("model name"))
        .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown");
  }

  private static double[] loadAverage() throws IOException {
    Path f = Path.of("/proc/loadavg");
    if (!Files.isReadable(f)) return new double[] {Double.NaN};
    return new double[] {Double.parseDouble(Files.readString(f).split(" ")[0])};
  }

  private static double round(double x) {
    return Math.round(x * 1000) / 1000.0;
  }
}
