package dev.ptk.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.ptk.backend.cpu.ScoreSequence;
import dev.ptk.model.Checkpoint;
import dev.ptk.testing.Bf16Activations;
import dev.ptk.testing.TestVectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The model-level {@code score} cases through {@link CudaBackend} on the device (the sim device
 * unless -Dptk.test.device=cuda): as the engine steps them, one token per forward, and with a
 * batch limit below the prompt's length; each must give the reference logits of every token
 * within the tolerance of bf16 activations ({@link Bf16Activations}). The matmul path is fixed
 * per test, so that each runs on every device: ptk_gemm throughout, ptk_gemv at every decode
 * shape, or a mix.
 */
@Tag("device")
class CudaScoreVectorsTest {
  /** A batch limit above every case's longest forward (the 32-token prompt). */
  private static final int MAX_TOKENS = 64;

  /** Prompt prefill, paths in lockstep (decode steps replayed from graphs, P shrinking), summary: all on ptk_gemm. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.ptk.backend.cpu.ScoreSequence#cases")
  void pathsInLockstep(String name, JsonObject c, String which) {
    ScoreSequence seq = ScoreSequence.of(c, which);
    try (CudaBackend backend = open(c, MAX_TOKENS, MatmulChoice.gemvUpTo(0))) {
      check(name + " lockstep", seq, seq.pathsInLockstep(backend));
      assertTrue(backend.graphLaunches() > 0, "the path steps are decode steps");
    }
  }

  /** Every token is a decode step (prompt, path and summary graphs), on ptk_gemv. */
  @Test
  void oneTokenPerForwardOnGemv() {
    JsonObject c = scoreCase("score_p3_unequal");
    ScoreSequence seq = ScoreSequence.of(c, "logits_engine");
    try (CudaBackend backend = open(c, MAX_TOKENS, MatmulChoice.gemvUpTo(StepShape.MAX_DECODE_TOKENS))) {
      check("score_p3_unequal token by token", seq, seq.oneTokenPerForward(backend));
      assertEquals(seq.size(), backend.graphLaunches());
    }
  }

  /**
   * Every token a decode step, with the projections split between the two paths so that every
   * hand-over of the residual is crossed. qkv and o on ptk_gemv, gate/up and down on ptk_gemm: o
   * adds into the residual for a norm that is not fused, and down hands cuBLAS rows to a qkv that
   * norms its own input. The other way round: o's cuBLAS delta reaches a gate/up that norms its
   * input (ptk_add_sumsq adds it first), and down adds into the residual without parts for a qkv
   * on cuBLAS.
   */
  @ParameterizedTest(name = "qkv and o on ptk_gemv: {0}")
  @ValueSource(booleans = {true, false})
  void oneTokenPerForwardOnMixedPaths(boolean attentionSideOnGemv) {
    JsonObject c = scoreCase("score_p3_unequal");
    ScoreSequence seq = ScoreSequence.of(c, "logits_engine");
    Checkpoint checkpoint = ScoreSequence.checkpoint(c);
    Projections p = Projections.of(checkpoint.config());
    MatmulChoice mixed = MatmulChoice.measure(p.layer(), StepShape.MAX_DECODE_TOKENS,
        (q, rows, gemv) -> gemv == ((q == p.qkv() || q == p.o()) == attentionSideOnGemv) ? 1 : 2);
    boolean on = attentionSideOnGemv;
    assertTrue(mixed.gemv(p.qkv(), 1) == on && mixed.gemv(p.o(), 1) == on, "qkv and o on ptk_gemv: " + on);
    assertTrue(mixed.gemv(p.gateUp(), 1) != on && mixed.gemv(p.down(), 1) != on, "gate_up and down on ptk_gemv: " + !on);
    try (CudaBackend backend = open(c, MAX_TOKENS, mixed)) {
      check("score_p3_unequal token by token, mixed paths", seq, seq.oneTokenPerForward(backend));
      assertEquals(seq.size(), backend.graphLaunches());
    }
  }

  /** At most 16 tokens per batch: the 32-token prompt is prefilled in two chunks, the second over the first's KV. */
  @Test
  void aPromptLongerThanOneBatchIsPrefilledInChunks() {
    JsonObject c = scoreCase("score_p3_unequal");
    ScoreSequence seq = ScoreSequence.of(c, "logits_training");
    assertTrue(seq.promptLength() > StepShape.MAX_DECODE_TOKENS, "the prompt must need more than one chunk");
    try (CudaBackend backend = open(c, StepShape.MAX_DECODE_TOKENS, MatmulChoice.gemvUpTo(4))) {
      check("score_p3_unequal in chunks of 16", seq, seq.pathsInLockstep(backend));
    }
  }

  private static void check(String what, ScoreSequence seq, float[][] logits) {
    Bf16Activations.assertClose(what, seq.reference(), ScoreSequence.flat(logits));
  }

  private static CudaBackend open(JsonObject c, int maxTokens, MatmulChoice matmuls) {
    Checkpoint checkpoint = ScoreSequence.checkpoint(c);
    return new CudaBackend(ScoreSequence.config(c, checkpoint), checkpoint.weights(), ScoreSequence.PAGE,
        ScoreSequence.PAGES, maxTokens, matmuls);
  }

  private static JsonObject scoreCase(String name) {
    return TestVectors.cases("score").stream().filter(c -> c.get("name").getAsString().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no score case " + name));
  }
}
