package dev.ptk.bench;

import dev.ptk.backend.BatchBuilder;
import dev.ptk.backend.BatchBuilder.Logits;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.KvSegment;
import dev.ptk.backend.cpu.ActivationPrecision;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.model.ModelConfig;
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
 * The prefill of a ParaThinker-1.5B prompt on the CPU backend: one forward over every prompt token
 * (as the engine runs a prompt of up to 2048 tokens: one chunk, the logits of its last token
 * only), causal attention over the prompt itself. Random BF16 weights of the real shapes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:MaxDirectMemorySize=8g", "-Xmx6g"})
public class CpuPrefillBenchmark {
  @Param({"512", "2048"})
  public int tokens;

  /** Each matmul's input as computed or rounded to bf16 ({@link ActivationPrecision}). */
  @Param({"f32", "bf16"})
  public String activations;

  private CpuBackend backend;
  private ForwardBatch prompt;

  @Setup
  public void setup() {
    ModelConfig config = CpuDecodeBenchmark.PARATHINKER_1_5B;
    int pages = tokens / CpuDecodeBenchmark.PAGE;
    backend = new CpuBackend(config, RandomWeights.of(config, 42), CpuDecodeBenchmark.PAGE, pages,
        Runtime.getRuntime().availableProcessors(), ActivationPrecision.parse(activations));
    prompt = promptBatch(tokens, pages, config.vocabSize());
    System.out.println("# " + backend.describe());
  }

  /** The whole prompt in one group: pages 0.., its own segment, positions from 0. */
  static ForwardBatch promptBatch(int tokens, int pages, int vocab) {
    int[] pageIds = new int[pages];
    for (int i = 0; i < pages; i++) pageIds[i] = i;
    int[] ids = new int[tokens], slots = new int[tokens];
    for (int i = 0; i < tokens; i++) {
      ids[i] = (17 + 7919 * i) % vocab;
      slots[i] = i;
    }
    return new BatchBuilder().add(List.of(), new KvSegment(pageIds, tokens), 0, 0, ids, slots, Logits.LAST).batch();
  }

  @Benchmark
  public float[][] prefill() {
    return backend.forward(prompt);
  }

  @TearDown
  public void close() {
    backend.close();
  }
}
