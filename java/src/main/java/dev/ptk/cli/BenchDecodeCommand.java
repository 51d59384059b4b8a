package dev.ptk.cli;

import dev.ptk.backend.Backend;
import dev.ptk.backend.BatchBuilder;
import dev.ptk.backend.BatchBuilder.Logits;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.KvSegment;
import dev.ptk.backend.SamplingParams;
import dev.ptk.backend.SamplingRequest;
import dev.ptk.backend.cuda.CudaBackend;
import dev.ptk.backend.cuda.MatmulChoice;
import dev.ptk.engine.GenerationOptions;
import dev.ptk.model.Checkpoint;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code ptk bench-decode --model DIR [--backend B] [--paths 1,2,4,8,16] [--contexts 1024,4096,16384]
 * [--steps N]}: the wall time of one phase-1 decode step (P paths, one token each, over a shared
 * prompt of C tokens, one token per path drawn with the released settings, as the engine does:
 * on the device for CUDA, only token ids back), median of N steps after 3 warm-up steps, as one
 * JSON object; on CUDA with the start-up timings of ptk_gemv against ptk_gemm ("matmul"). The
 * longest context's prompt is prefilled once, from random tokens, and every context reads a prefix
 * of it.
 */
final class BenchDecodeCommand implements Command {
  @Override
  public String name() {
    return "bench-decode";
  }

  @Override
  public String summary() {
    return "time one decode step for each paths x context, as JSON";
  }

  @Override
  public int run(Options options, PrintStream out, PrintStream err) {
    Path model = options.existingPath("--model");
    String backendName = Backends.choose(options.string("--backend", "auto"));
    int[] paths = list(options.string("--paths", "1,2,4,8,16"), "--paths");
    int[] contexts = list(options.string("--contexts", "1024,4096,16384"), "--contexts");
    int steps = options.integer("--steps", 20, 1, 100_000);
    options.finish();
    if (!options.positional().isEmpty()) throw new UsageException("bench-decode takes no positional arguments");
    int page = Backends.PAGE_SIZE;
    int maxPaths = Arrays.stream(paths).max().getAsInt();
    int maxContext = Arrays.stream(contexts).max().getAsInt();
    int pages = KvSegment.pagesFor(maxContext, page) + maxPaths;
    List<String> results = new ArrayList<>();
    try (Checkpoint checkpoint = ModelFiles.openCheckpoint(model);
        Backend backend = Backends.open(backendName, checkpoint, checkpoint.config().ropeScaling(), pages)) {
      prefill(backend, maxContext, page, err);
      for (int c : contexts) {
        for (int p : paths) {
          BatchBuilder built = step(p, c, page, checkpoint.config().maxSegments());
          ForwardBatch step = built.batch();
          SamplingRequest draw = built.sampling();
          double[] ms = new double[steps];
          for (int i = 0; i < 3; i++) backend.sample(step, draw);
          for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime();
            backend.sample(step, draw);
            ms[i] = (System.nanoTime() - t0) / 1e6;
          }
          Arrays.sort(ms);
          String nodes = backend instanceof CudaBackend cuda ? ", \"graph_nodes\": " + cuda.lastGraphNodes() : "";
          results.add(String.format("{\"paths\": %d, \"context\": %d, \"median_ms\": %.4f, \"min_ms\": %.4f%s}",
              p, c, ms[steps / 2], ms[0], nodes));
          err.println("bench-decode: P=" + p + " context=" + c + ": " + String.format("%.3f", ms[steps / 2]) + " ms");
        }
      }
      out.println("{\"backend\": \"" + backend.describe().replace("\"", "'") + "\", \"steps\": " + steps
          + ", \"results\": [\n  " + String.join(",\n  ", results) + "\n]" + matmuls(backend, err) + "}");
    }
    return 0;
  }

  /**
   * The CUDA backend's start-up timings of ptk_gemv against ptk_gemm per projection and row count,
   * as a JSON member; ptk_gemm is cuBLAS on a GPU, and the keys say so for the GPU reports.
   */
  private static String matmuls(Backend backend, PrintStream err) {
    if (!(backend instanceof CudaBackend cuda)) return "";
    List<String> rows = new ArrayList<>();
    for (MatmulChoice.Timing t : cuda.matmulChoice().timings()) {
      rows.add(String.format("{\"projection\": \"%s\", \"n\": %d, \"k\": %d, \"rows\": %d, \"gemv_us\": %.2f, "
          + "\"cublas_us\": %.2f, \"runs\": \"%s\"}", t.projection().name(), t.projection().n(), t.projection().k(),
          t.rows(), t.gemvMicros(), t.gemmMicros(), t.gemv() ? "gemv" : "cublas"));
      if (t.rows() == 1 || t.rows() == 8 || t.rows() == 16) {
        err.printf("bench-decode: %-8s m=%-2d gemv %8.2f us, cuBLAS %8.2f us%n", t.projection().name(), t.rows(),
            t.gemvMicros(), t.gemmMicros());
      }
    }
    return ",\n\"matmul\": [\n  " + String.join(",\n  ", rows) + "\n]";
  }

  /**
   * Random prompt tokens through the model into pages 0.. (every context's prompt is a prefix of
   * them), so that attention reads real K/V rather than zeros, which can time faster.
   */
  private static void prefill(Backend backend, int tokens, int page, PrintStream err) {
    err.println("bench-decode: prefilling a random prompt of " + tokens + " tokens");
    SplittableRandom random = new SplittableRandom(tokens);
    int[] ids = new int[tokens], slots = new int[tokens];
    for (int t = 0; t < tokens; t++) {
      ids[t] = random.nextInt(backend.config().vocabSize());
      slots[t] = t;  // page t / page, offset t % page
    }
    KvSegment prompt = new KvSegment(firstPages(KvSegment.pagesFor(tokens, page)), tokens);
    backend.forward(new BatchBuilder().add(List.of(), prompt, 0, 0, ids, slots, Logits.NONE).batch());
  }

  /**
   * P paths of one token each after a shared prompt of `context` tokens in pages 0.., paths' pages
   * after it, each drawn with the released settings as path j + 1 at step 1.
   */
  private static BatchBuilder step(int paths, int context, int page, int maxSegments) {
    int promptPages = KvSegment.pagesFor(context, page);
    List<KvSegment> prompt = List.of(new KvSegment(firstPages(promptPages), context));
    SamplingParams released = new SamplingParams(GenerationOptions.DEFAULT_TEMPERATURE, 1, 0, 0);
    BatchBuilder b = new BatchBuilder();
    for (int j = 0; j < paths; j++) {
      int own = promptPages + j;
      int segment = maxSegments > 0 ? Math.min(j + 1, maxSegments - 1) : 0;
      b.addSampled(prompt, new KvSegment(new int[] {own}, 1), segment, context, j, own * page, released, j + 1, 1);
    }
    return b;
  }

  private static int[] firstPages(int count) {
    int[] pages = new int[count];
    for (int i = 0; i < count; i++) pages[i] = i;
    return pages;
  }

  private static int[] list(String text, String flag) {
    try {
      int[] v = Arrays.stream(text.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
      if (v.length == 0 || Arrays.stream(v).anyMatch(x -> x < 1)) throw new NumberFormatException();
      return v;
    } catch (NumberFormatException e) {
      throw new UsageException(flag + " must be a comma-separated list of positive integers, got '" + text + "'");
    }
  }
}
