package dev.ptk.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ptk.backend.BatchBuilder.Logits;
import dev.ptk.backend.BatchBuilder;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.KvSegment;
import dev.ptk.backend.Sampler;
import dev.ptk.backend.SamplingParams;
import dev.ptk.backend.SamplingRequest;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.backend.cpu.ScoreSequence;
import dev.ptk.model.Checkpoint;
import dev.ptk.testing.Bf16Activations;
import dev.ptk.testing.TestVectors;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Decode steps run from captured graphs: the first step of a shape captures its graph, later ones
 * replay it with new tokens, positions and pages, and every replayed step gives the CPU backend's
 * logits for the same batch; sampling at a captured shape replays the same graph.
 */
@Tag("device")
class CudaGraphReplayTest {
  private static final int PAGE = 16, PAGES = 16, PROMPT = 40, PATHS = 3, STEPS = 4;

  @Test
  void decodeStepsReplayOneGraphPerShapeAndMatchTheCpuBackend() {
    Checkpoint checkpoint = Checkpoint.open(TestVectors.tinyModel());
    try (CpuBackend cpu = new CpuBackend(checkpoint.config(), checkpoint.weights(), PAGE, PAGES);
        CudaBackend cuda = new CudaBackend(checkpoint.config(), checkpoint.weights(), PAGE, PAGES, 64,
            MatmulChoice.gemvUpTo(StepShape.MAX_DECODE_TOKENS))) {
      SplittableRandom random = new SplittableRandom(11);
      int vocab = checkpoint.config().vocabSize();
      ForwardBatch prompt = prompt(random, vocab);
      compare("prompt", cpu.forward(prompt), cuda.forward(prompt));
      assertEquals(0, cuda.capturedGraphs(), "a prefill runs eagerly");

      for (int step = 0; step < STEPS; step++) {
        ForwardBatch batch = pathStep(step, random, vocab);
        compare("phase 1 step " + step, cpu.forward(batch), cuda.forward(batch));
        assertEquals(1, cuda.capturedGraphs(), "one shape, one graph");
        assertEquals(step + 1, cuda.graphLaunches());
      }
      // Nodes of a step on ptk_gemv: the embedding (writing the first norm's parts); per layer
      // qkv (normed as it reads, RoPE + append as it writes), attention with its merge fused (a
      // decode plan), o (added into the residual), gate/up (normed) with the SiLU gate, down
      // (added); then lm_head, norming the logit rows (every row, in order) as it reads them.
      int layers = checkpoint.config().numLayers();
      assertEquals(1 + 5 * layers + 1, cuda.lastGraphNodes(), "nodes of a decode step");

      // Sampling at the same shape replays the same graph; greedy draws each row's argmax.
      ForwardBatch next = pathStep(STEPS, random, vocab);
      float[][] logits = cuda.forward(next);
      compare("phase 1 step " + STEPS, cpu.forward(next), logits);
      int[] drawn = cuda.sample(next, SamplingRequest.of(SamplingParams.greedy(), new int[] {1, 2, 3}, new int[] {5, 5, 5}));
      assertArrayEquals(argmax(logits), drawn);
      assertEquals(1, cuda.capturedGraphs());
      assertEquals(STEPS + 2, cuda.graphLaunches());

      ForwardBatch summary = summaryStep(STEPS + 1, random, vocab);
      compare("phase 2 step", cpu.forward(summary), cuda.forward(summary));
      assertEquals(2, cuda.capturedGraphs(), "the summary's decode shape is a second graph");
      assertEquals(STEPS + 3, cuda.graphLaunches());

      // Rows of different requests in one draw: each row with its own parameters and key, drawn
      // from its own logits (top-p off, so the device's rule is the host's bit for bit).
      SamplingParams hot = new SamplingParams(1.0, 1, 0, 11), other = new SamplingParams(0.7, 1, 0, 12);
      int[] mixed = cuda.sample(next, new SamplingRequest(new SamplingParams[] {hot, SamplingParams.greedy(), other},
          new int[] {1, 2, 3}, new int[] {6, 6, 6}));
      assertEquals(Sampler.sample(logits[0], hot, 1, 6), mixed[0], "row 0: its parameters, its logits");
      assertEquals(argmax(logits)[1], mixed[1], "row 1: greedy");
      assertEquals(Sampler.sample(logits[2], other, 3, 6), mixed[2], "row 2: its parameters, its logits");
    }
  }

  /** PROMPT random tokens in pages 0..2. */
  private static ForwardBatch prompt(SplittableRandom random, int vocab) {
    int[] tokens = new int[PROMPT], slots = new int[PROMPT];
    for (int t = 0; t < PROMPT; t++) {
      tokens[t] = random.nextInt(vocab);
      slots[t] = t;
    }
    return new BatchBuilder().add(List.of(), promptSegment(), 0, 0, tokens, slots, Logits.ALL).batch();
  }

  private static KvSegment promptSegment() {
    return new KvSegment(new int[] {0, 1, 2}, PROMPT);
  }

  /** Token {@code step} of every path: path i (segment i + 1) in its own page 3 + i, after the prompt. */
  private static ForwardBatch pathStep(int step, SplittableRandom random, int vocab) {
    BatchBuilder b = new BatchBuilder();
    for (int i = 0; i < PATHS; i++) {
      int page = 3 + i;
      b.add(List.of(promptSegment()), new KvSegment(new int[] {page}, step + 1), i + 1, PROMPT + step,
          new int[] {random.nextInt(vocab)}, new int[] {page * PAGE + step}, Logits.LAST);
    }
    return b.batch();
  }

  /** The summary's first token over the prompt and every path's {@code pathTokens} tokens, in page 6. */
  private static ForwardBatch summaryStep(int pathTokens, SplittableRandom random, int vocab) {
    List<KvSegment> visible = new ArrayList<>(List.of(promptSegment()));
    for (int i = 0; i < PATHS; i++) visible.add(new KvSegment(new int[] {3 + i}, pathTokens));
    return new BatchBuilder().add(visible, new KvSegment(new int[] {6}, 1), 0, 2 * PROMPT + pathTokens,
        new int[] {random.nextInt(vocab)}, new int[] {6 * PAGE}, Logits.LAST).batch();
  }

  /** Every row's logits within the tolerance of bf16 activations. */
  private static void compare(String what, float[][] want, float[][] got) {
    assertEquals(want.length, got.length, what + ": rows");
    Bf16Activations.assertClose(what, ScoreSequence.flat(want), ScoreSequence.flat(got));
  }

  private static int[] argmax(float[][] logits) {
    int[] out = new int[logits.length];
    for (int r = 0; r < logits.length; r++) out[r] = Sampler.argmax(logits[r]);
    return out;
  }
}
