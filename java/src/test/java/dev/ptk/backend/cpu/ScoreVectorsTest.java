package dev.ptk.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.ptk.backend.BatchChunks;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.model.Checkpoint;
import dev.ptk.testing.Bf16Activations;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The model-level {@code score} cases through {@link CpuBackend#forward} on the tiny checkpoint:
 * prompt, P paths and summary with their positions, segment ids and attention rules, in one
 * forward, one token per forward, and as the engine steps (paths in lockstep); each must give the
 * reference logits of every token. With activations rounded to bf16 ({@link ActivationPrecision#BF16})
 * the engine's steps must come as close as the CUDA backend's do ({@link Bf16Activations}).
 */
class ScoreVectorsTest {
  static Stream<Arguments> scoreCases() {
    return ScoreSequence.cases();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scoreCases")
  void allTokensInOneForward(String name, JsonObject c, String which) {
    ScoreSequence seq = ScoreSequence.of(c, which);
    try (CpuBackend backend = backend(c)) {
      int[] all = new int[seq.size()];
      for (int i = 0; i < all.length; i++) all[i] = i;
      seq.check(name + " batch", backend.forward(seq.whole(all)));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scoreCases")
  void oneTokenPerForward(String name, JsonObject c, String which) {
    ScoreSequence seq = ScoreSequence.of(c, which);
    try (CpuBackend backend = backend(c)) {
      seq.check(name + " token by token", seq.oneTokenPerForward(backend));
    }
  }

  /** The one-forward batch cut by {@link BatchChunks} into parts of 7 tokens, so that every segment is cut somewhere. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("scoreCases")
  void allTokensInChunks(String name, JsonObject c, String which) {
    ScoreSequence seq = ScoreSequence.of(c, which);
    try (CpuBackend backend = backend(c)) {
      int[] all = new int[seq.size()];
      for (int i = 0; i < all.length; i++) all[i] = all.length - 1 - i;  // rows in reverse: the chunks map them back
      ForwardBatch whole = seq.whole(all);
      List<BatchChunks.Chunk> chunks = BatchChunks.split(whole, 7, ScoreSequence.PAGE);
      assertEquals((all.length + 6) / 7, chunks.size());
      float[][] reversed = new float[all.length][];
      for (BatchChunks.Chunk chunk : chunks) {
        float[][] part = backend.forward(chunk.batch());
        for (int i = 0; i < part.length; i++) reversed[chunk.rows()[i]] = part[i];
      }
      float[][] logits = new float[all.length][];
      for (int i = 0; i < all.length; i++) logits[all[i]] = reversed[i];
      seq.check(name + " in chunks", logits);
    }
  }

  /** As the engine runs: the prompt in one forward, then one token of every unfinished path per forward, then the summary. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("scoreCases")
  void pathsInLockstep(String name, JsonObject c, String which) {
    ScoreSequence seq = ScoreSequence.of(c, which);
    try (CpuBackend backend = backend(c)) {
      seq.check(name + " lockstep", seq.pathsInLockstep(backend));
    }
  }

  /** As the engine runs, each matmul's input rounded to bf16: within the bf16 tolerance, and not the float32 forward's logits. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("scoreCases")
  void pathsInLockstepWithBf16Activations(String name, JsonObject c, String which) {
    ScoreSequence seq = ScoreSequence.of(c, which);
    float[] f32, bf16;
    try (CpuBackend backend = backend(c, ActivationPrecision.F32)) {
      f32 = ScoreSequence.flat(seq.pathsInLockstep(backend));
    }
    try (CpuBackend backend = backend(c, ActivationPrecision.BF16)) {
      assertTrue(backend.describe().contains("x in bf16"), backend.describe());
      bf16 = ScoreSequence.flat(seq.pathsInLockstep(backend));
    }
    Bf16Activations.assertClose(name + " lockstep, bf16 activations", seq.reference(), bf16);
    assertFalse(Arrays.equals(f32, bf16), name + ": rounding the activations changed no logit");
  }

  private static CpuBackend backend(JsonObject c) {
    return backend(c, ActivationPrecision.F32);
  }

  /** The backend on the tiny checkpoint; where PTK_CPU_ISA forces a matmul path, that path must be the one running. */
  private static CpuBackend backend(JsonObject c, ActivationPrecision precision) {
    Checkpoint ck = ScoreSequence.checkpoint(c);
    CpuBackend backend = new CpuBackend(ScoreSequence.config(c, ck), ck.weights(), ScoreSequence.PAGE, ScoreSequence.PAGES,
        Runtime.getRuntime().availableProcessors(), precision);
    String forced = System.getenv("PTK_CPU_ISA");
    if (forced != null) assertTrue(backend.describe().contains("matmul native " + forced), backend.describe());
    return backend;
  }
}
