package dev.ptk.bench;

import dev.ptk.backend.BatchBuilder;
import dev.ptk.backend.BatchBuilder.Logits;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.KvSegment;
import dev.ptk.backend.cpu.ActivationPrecision;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.ModelConfig;
import dev.ptk.model.RopeScaling;
import dev.ptk.model.Weights;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One phase-1 decode step of ParaThinker-1.5B on the CPU backend: P paths, one token each, every
 * path attending to the shared prompt (read once for all paths) and to its own tokens. Weights are
 * random BF16 of the real shapes off-heap, or a real checkpoint when {@code checkpoint} names one.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 4, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:MaxDirectMemorySize=8g", "-Xmx4g"})
public class CpuDecodeBenchmark {
  /** ParaThinker-1.5B (DeepSeek-R1-Distill-Qwen-1.5B + 32 thought-embedding rows). */
  public static final ModelConfig PARATHINKER_1_5B = new ModelConfig(1536, 28, 12, 2, 8960, 151936, 131072, 10000.0,
      RopeScaling.NONE, 1e-6, false, 32, 151643, 151643);
  public static final int PROMPT = 512;
  public static final int PATH = 64;
  public static final int PAGE = 16;

  @Param({"1", "2", "4", "8", "16"})
  public int paths;

  /** Each matmul's input as computed or rounded to bf16 ({@link ActivationPrecision}). */
  @Param({"f32", "bf16"})
  public String activations;

  /** A checkpoint directory; empty for random weights of the real shapes. */
  @Param({""})
  public String checkpoint;

  private CpuBackend backend;
  private ForwardBatch step;

  @Setup
  public void setup() {
    ModelConfig config;
    Weights weights;
    if (checkpoint.isEmpty()) {
      config = PARATHINKER_1_5B;
      weights = RandomWeights.of(config, 42);
    } else {
      Checkpoint ck = Checkpoint.open(Path.of(checkpoint));
      config = ck.config();
      weights = ck.weights();
    }
    int promptPages = PROMPT / PAGE, pathPages = PATH / PAGE;
    backend = new CpuBackend(config, weights, PAGE, promptPages + paths * pathPages, Runtime.getRuntime().availableProcessors(),
        ActivationPrecision.parse(activations));
    step = decodeStep(paths, promptPages, pathPages, config.vocabSize());
    System.out.println("# " + backend.describe()); // which matmul runs: native (and its ISA) or the Java fallback
  }

  /** The step that writes the last token of every path: path i holds pages after the prompt's. */
  static ForwardBatch decodeStep(int paths, int promptPages, int pathPages, int vocab) {
    int[] promptIds = new int[promptPages];
    for (int i = 0; i < promptPages; i++) promptIds[i] = i;
    KvSegment prompt = new KvSegment(promptIds, PROMPT);
    BatchBuilder b = new BatchBuilder();
    for (int p = 0; p < paths; p++) {
      int[] pages = new int[pathPages];
      for (int i = 0; i < pathPages; i++) pages[i] = promptPages + p * pathPages + i;
      b.add(List.of(prompt), new KvSegment(pages, PATH), p + 1, PROMPT + PATH - 1, new int[] {(1000 + p) % vocab},
          new int[] {pages[pathPages - 1] * PAGE + PAGE - 1}, Logits.LAST);
    }
    return b.batch();
  }

  @Benchmark
  public float[][] decodeStep() {
    return backend.forward(step);
  }

  @TearDown
  public void close() {
    backend.close();
  }
}
