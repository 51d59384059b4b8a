package dev.ptk.bench;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ptk.backend.cpu.ActivationPrecision;
import dev.ptk.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZonedDateTime;
import java.util.Collection;
import java.util.Comparator;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * The CPU backend against this machine's limits, in one JMH run: {@link CpuDecodeBenchmark} (P = 1,
 * 2, 4, 8, 16) against its floor, the bytes a step must read (every weight matrix once, plus the
 * K/V of the prompt and of every path) over the read bandwidth measured in the same session (the
 * higher of {@link MemoryBandwidthBenchmark}'s best iteration and matmul_bench's); {@link CpuPrefillBenchmark} (512 and
 * 2048-token prompts) against the multiply-add peak of the matmul path, measured by
 * bench/cpu/matmul_bench in the same session and handed over as its JSON, with that program's
 * kernel timings. Each step is reported as JMH's mean and its best iteration, with the load
 * average around the run, since a shared machine slows some iterations.
 *
 * <p>Both run with each matmul's input as computed and rounded to bf16 (the {@code activations}
 * parameter, {@link ActivationPrecision}); every row names which.
 *
 * <p>Usage: {@code CpuDecodeReport [--kernels FILE] [--kernels-bf16 FILE] [--baseline FILE]
 * [--generate FILE] [--generate-bf16 FILE] [--bandwidth FILE]}: matmul_bench's JSON in each
 * activation precision, a prefill-only result of another matmul path to compare with (written by
 * {@code CpuDecodeReport --prefill-only OUT}), the timings line of an end-to-end {@code ptk
 * generate} in each precision, and a read bandwidth measured right before. Writes
 * bench/results/cpu-decode-DATE.json and .png.
 */
public final class CpuDecodeReport {
  /** Prefill tokens/s of the CPU backend before its native matmul, measured on a 2-core AMD EPYC host (bench/cpu/NOTES.md). */
  static final double PREFILL_TOKENS_PER_S_BEFORE = 28;

  private CpuDecodeReport() {}

  public static void main(String[] args) throws RunnerException, IOException {
    Path kernels = null, kernelsBf16 = null, baseline = null, generate = null, generateBf16 = null, prefillOnly = null,
        bandwidthFile = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--kernels" -> kernels = Path.of(args[++i]);
        case "--kernels-bf16" -> kernelsBf16 = Path.of(args[++i]);
        case "--baseline" -> baseline = Path.of(args[++i]);
        case "--generate" -> generate = Path.of(args[++i]);
        case "--generate-bf16" -> generateBf16 = Path.of(args[++i]);
        case "--prefill-only" -> prefillOnly = Path.of(args[++i]);
        case "--bandwidth" -> bandwidthFile = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (prefillOnly != null) {
      JsonObject out = new JsonObject();
      // The 512-token prompt in float32 only: the slower path would take minutes per 2048-token shot.
      Collection<RunResult> r = new Runner(new OptionsBuilder().include(CpuPrefillBenchmark.class.getName() + ".prefill")
          .param("tokens", "512").param("activations", "f32").build()).run();
      out.add("prefill", prefillRows(r, Double.NaN, null));
      Files.writeString(prefillOnly, new GsonBuilder().setPrettyPrinting().create().toJson(out) + "\n");
      return;
    }
    JsonObject kernelResult = kernels == null ? null : parse(kernels);
    double peak = kernelResult == null ? Double.NaN : kernelResult.get("peak_gflops").getAsDouble() * 1e9;
    double[] loadBefore = loadAverage();
    Collection<RunResult> results = run(CpuDecodeBenchmark.class.getName() + ".decodeStep",
        CpuPrefillBenchmark.class.getName() + ".prefill", MemoryBandwidthBenchmark.class.getName() + ".readAll");
    double[] loadAfter = loadAverage();

    double bandwidthMs = Double.NaN;
    TreeMap<String, TreeMap<Integer, RunResult>> steps = new TreeMap<>(Comparator.comparing(ActivationPrecision::parse));
    for (RunResult r : results) {
      String name = r.getParams().getBenchmark();
      // the fastest iteration is the machine's capability (a slower one only means another process read too)
      if (name.endsWith("readAll")) bandwidthMs = r.getPrimaryResult().getStatistics().getMin();
      else if (name.endsWith("decodeStep")) {
        steps.computeIfAbsent(r.getParams().getParam("activations"), a -> new TreeMap<>())
            .put(Integer.parseInt(r.getParams().getParam("paths")), r);
      }
    }
    double jmhBandwidth = MemoryBandwidthBenchmark.BYTES / (bandwidthMs / 1e3); // bytes per second
    // The floor takes the highest rate measured in this session: the machine reads at least that
    // fast, and the native reader (AVX2 loads from 4 prefetched streams per core, run before the
    // kernels and again before JMH) reaches more than the JVM's.
    double nativeBandwidth = kernelResult == null ? Double.NaN : kernelResult.get("read_bandwidth_gb_s").getAsDouble() * 1e9;
    for (Path again : new Path[] {kernelsBf16, bandwidthFile}) {
      if (again == null) continue;
      double rate = parse(again).get("read_bandwidth_gb_s").getAsDouble() * 1e9;
      nativeBandwidth = Double.isNaN(nativeBandwidth) ? rate : Math.max(nativeBandwidth, rate);
    }
    double bandwidth = Double.isNaN(nativeBandwidth) ? jmhBandwidth : Math.max(jmhBandwidth, nativeBandwidth);

    JsonArray rows = new JsonArray();
    System.out.printf("%nread bandwidth %.2f GB/s: JMH %.2f GB/s (%d GiB in %.1f ms, best iteration), native %.2f GB/s%n",
        bandwidth / 1e9, jmhBandwidth / 1e9, MemoryBandwidthBenchmark.BYTES >> 30, bandwidthMs, nativeBandwidth / 1e9);
    for (var mode : steps.entrySet()) decodeRows(mode.getKey(), mode.getValue(), bandwidth, rows);
    JsonArray prefill = prefillRows(results, peak, baseline == null ? null : parse(baseline).getAsJsonArray("prefill"));

    JsonObject out = new JsonObject();
    out.addProperty("benchmark", "CPU backend, ParaThinker-1.5B: decode step and prefill");
    out.addProperty("date", ZonedDateTime.now().toString());
    out.addProperty("commit", System.getProperty("ptk.commit", "unknown"));
    out.addProperty("weights", "random BF16, real shapes, direct buffers");
    out.addProperty("prompt_tokens", CpuDecodeBenchmark.PROMPT);
    out.addProperty("path_tokens", CpuDecodeBenchmark.PATH);
    out.addProperty("weight_bytes_per_step", weightBytesPerStep(CpuDecodeBenchmark.PARATHINKER_1_5B));
    out.addProperty("kv_bytes_per_token", kvBytesPerToken(CpuDecodeBenchmark.PARATHINKER_1_5B));
    out.addProperty("read_bandwidth_gb_s", round(bandwidth / 1e9));
    out.addProperty("read_bandwidth_jmh_gb_s", round(jmhBandwidth / 1e9));
    if (kernelResult != null) out.addProperty("read_bandwidth_native_gb_s", round(nativeBandwidth / 1e9));
    if (kernelResult != null) out.add("kernels", kernelResult);
    if (kernelsBf16 != null) out.add("kernels_bf16", parse(kernelsBf16));
    out.add("machine", machine(loadBefore, loadAfter));
    out.add("results", rows);
    out.add("prefill", prefill);
    if (generate != null) out.add("generate", generateTimings(Files.readString(generate).trim()));
    if (generateBf16 != null) out.add("generate_bf16", generateTimings(Files.readString(generateBf16).trim()));
    JsonObject targets = new JsonObject();
    targets.addProperty("p1_ratio_to_floor_max", 1.10);
    targets.addProperty("p8_scaling_vs_p1_max", 1.7);
    targets.addProperty("prefill_fraction_of_peak_min", 0.5);
    targets.addProperty("prefill_tokens_per_s_min", 5 * PREFILL_TOKENS_PER_S_BEFORE);
    out.add("targets", targets);
    Path dir = Path.of("bench", "results");
    Files.createDirectories(dir);
    Path file = dir.resolve("cpu-decode-" + LocalDate.now() + ".json");
    Files.writeString(file, new GsonBuilder().setPrettyPrinting().create().toJson(out) + "\n");
    System.setProperty("java.awt.headless", "true");
    DecodeScalingChart.write(out, DecodeScalingChart.png(file));
    System.out.println("wrote " + file + " and " + DecodeScalingChart.png(file));
  }

  private static Collection<RunResult> run(String... benchmarks) throws RunnerException {
    OptionsBuilder options = new OptionsBuilder();
    for (String b : benchmarks) options.include(b);
    return new Runner(options.build()).run();
  }

  /** The decode rows of one activation precision: each step against its floor and against P = 1. */
  private static void decodeRows(String activations, TreeMap<Integer, RunResult> steps, double bandwidth, JsonArray rows) {
    ModelConfig c = CpuDecodeBenchmark.PARATHINKER_1_5B;
    long weightBytes = weightBytesPerStep(c);
    System.out.printf("%ndecode, %s activations%n%3s %10s %10s %10s %8s %8s %10s %10s%n", activations, "P", "ms/step",
        "best iter", "floor ms", "ratio", "best", "vs P=1", "best");
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
      row.addProperty("activations", activations);
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
  }

  /**
   * Prefill rows: tokens/s (best iteration), the matmul arithmetic per token (2 flops per weight,
   * lm_head once) as a fraction of {@code peak} flops/s, and the speed-up over {@code baseline}'s
   * row of the same length.
   */
  static JsonArray prefillRows(Collection<RunResult> results, double peak, JsonArray baseline) {
    JsonArray rows = new JsonArray();
    ModelConfig c = CpuDecodeBenchmark.PARATHINKER_1_5B;
    long layerWeights = weightBytesPerStep(c) / 2 - (long) c.vocabSize() * c.hiddenSize();
    System.out.printf("%n%7s %6s %10s %10s %10s %10s%n", "prompt", "x", "ms", "tok/s", "of peak", "x before");
    for (RunResult r : results) {
      if (!r.getParams().getBenchmark().endsWith("prefill")) continue;
      int tokens = Integer.parseInt(r.getParams().getParam("tokens"));
      String activations = r.getParams().getParam("activations");
      double ms = r.getPrimaryResult().getStatistics().getMin();
      double flops = 2.0 * layerWeights * tokens + 2.0 * c.vocabSize() * c.hiddenSize();
      JsonObject row = new JsonObject();
      row.addProperty("tokens", tokens);
      row.addProperty("activations", activations);
      row.addProperty("ms_best_iteration", round(ms));
      row.addProperty("ms_mean", round(r.getPrimaryResult().getScore()));
      row.addProperty("tokens_per_s", round(tokens * 1e3 / ms));
      row.addProperty("matmul_gflop", round(flops / 1e9));
      double fraction = flops / (ms / 1e3) / peak;
      if (!Double.isNaN(fraction)) row.addProperty("fraction_of_peak", round(fraction));
      double speedup = Double.NaN;
      if (baseline != null) {
        for (var b : baseline) {
          JsonObject o = b.getAsJsonObject();
          if (o.get("tokens").getAsInt() == tokens) speedup = o.get("ms_best_iteration").getAsDouble() / ms;
        }
      }
      if (!Double.isNaN(speedup)) row.addProperty("speedup_vs_baseline", round(speedup));
      System.out.printf("%7d %6s %10.1f %10.1f %9.1f%% %10.2f%n", tokens, activations, ms, tokens * 1e3 / ms, 100 * fraction, speedup);
      rows.add(row);
    }
    return rows;
  }

  /** The numbers of `ptk generate`'s timings line, and the line itself. */
  static JsonObject generateTimings(String line) {
    JsonObject o = new JsonObject();
    o.addProperty("line", line);
    Matcher m = Pattern.compile("(prefill|thinking|summary) [^(]*\\(([0-9.]+) tok/s\\)")
        .matcher(line);
    while (m.find()) o.addProperty(m.group(1) + "_tokens_per_s", Double.parseDouble(m.group(2)));
    return o;
  }

  private static JsonObject parse(Path json) throws IOException {
    return JsonParser.parseString(Files.readString(json)).getAsJsonObject();
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
