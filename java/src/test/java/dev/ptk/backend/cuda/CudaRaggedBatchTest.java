package dev.ptk.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.KvSegment;
import dev.ptk.backend.SamplingParams;
import dev.ptk.backend.SamplingRequest;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.backend.cpu.ScoreSequence;
import dev.ptk.model.Checkpoint;
import dev.ptk.testing.Bf16Activations;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Continuous batching on the device: rows of three requests with different prompts in one
 * forward pass — request C's prompt chunk, the phase-1 rows of A's 3 paths over A's prompt and of
 * B's 2 paths over B's prompt, A's summary row over A's prompt and paths — give the CPU backend's
 * logits within the bf16 tolerance, and greedy sampling draws the CPU backend's tokens. A batch
 * with one token per group is a decode step (a replayed graph); one with C's chunk runs eagerly.
 */
@Tag("device")
class CudaRaggedBatchTest {
  private static final Path TINY = Path.of("..", "test-vectors", "tiny-model");
  private static final int PAGE = 16, PAGES = 16, MAX_TOKENS = 64;
  /** Prompt lengths (odd, partial last pages); C's prompt is prefilled up to C_FIRST, then in a chunk of C_CHUNK. */
  private static final int A = 37, B = 29, C_FIRST = 13, C_CHUNK = 5;
  private static final int[] A_PAGES = {0, 1, 2}, B_PAGES = {3, 4}, C_PAGES = {5, 6};
  private static final int[] A_PATH_PAGES = {7, 8, 9}, B_PATH_PAGES = {10, 11};
  private static final int SUMMARY_PAGE = 12;
  /** Path tokens before the step under test. */
  private static final int STEPS = 3;

  @Test
  void oneTokenPerGroupAcrossRequestsReplaysTheDecodeGraph() {
    try (Pair pair = Pair.open()) {
      pair.prepare();
      assertEquals(1, pair.cuda.capturedGraphs(), "the path steps of both requests: one decode shape");
      assertEquals(STEPS, pair.cuda.graphLaunches());
      Step step = pair.step();
      step.paths(A_PAGES, A, A_PATH_PAGES, STEPS);
      step.summary(STEPS);
      step.paths(B_PAGES, B, B_PATH_PAGES, STEPS);
      pair.compareAndSample("A's path rows, A's summary row, B's path rows", step.batch());
      assertEquals(2, pair.cuda.capturedGraphs(), "a second decode shape (6 rows)");
      assertEquals(STEPS + 2, pair.cuda.graphLaunches(), "forward and sample replay it");
    }
  }

  @Test
  void prefillChunkWithPhaseOneAndSummaryRowsIsOneEagerPass() {
    try (Pair pair = Pair.open()) {
      pair.prepare();
      Step step = pair.step();
      step.promptChunk();
      step.paths(A_PAGES, A, A_PATH_PAGES, STEPS);
      step.summary(STEPS);
      step.paths(B_PAGES, B, B_PATH_PAGES, STEPS);
      pair.compareAndSample("C's chunk, A's path rows, A's summary row, B's path rows", step.batch());
      assertEquals(1, pair.cuda.capturedGraphs(), "a batch with a 5-token group is not a decode step");
      assertEquals(STEPS, pair.cuda.graphLaunches());
    }
  }

  /** The two backends, run through the same batches. */
  private record Pair(CpuBackend cpu, CudaBackend cuda, SplittableRandom random, int vocab) implements AutoCloseable {
    static Pair open() {
      Checkpoint checkpoint = Checkpoint.open(TINY);
      CpuBackend cpu = new CpuBackend(checkpoint.config(), checkpoint.weights(), PAGE, PAGES);
      try {
        CudaBackend cuda = new CudaBackend(checkpoint.config(), checkpoint.weights(), PAGE, PAGES, MAX_TOKENS,
            MatmulChoice.gemvUpTo(StepShape.MAX_DECODE_TOKENS));
        return new Pair(cpu, cuda, new SplittableRandom(29), checkpoint.config().vocabSize());
      } catch (RuntimeException e) {
        cpu.close();
        throw e;
      }
    }

    /**
     * The three prompts in one batch (79 tokens: two chunks on the device), then STEPS steps of
     * A's and B's paths together, each compared.
     */
    void prepare() {
      Step prompts = step();
      prompts.prompt(A_PAGES, 0, A);
      prompts.prompt(B_PAGES, 0, B);
      prompts.prompt(C_PAGES, 0, C_FIRST);
      compare("the three prompts", prompts.batch());
      for (int s = 0; s < STEPS; s++) {
        Step step = step();
        step.paths(A_PAGES, A, A_PATH_PAGES, s);
        step.paths(B_PAGES, B, B_PATH_PAGES, s);
        compare("path step " + s, step.batch());
      }
    }

    Step step() {
      return new Step(random, vocab);
    }

    void compare(String what, ForwardBatch batch) {
      float[][] want = cpu.forward(batch), got = cuda.forward(batch);
      assertEquals(want.length, got.length, what + ": rows");
      Bf16Activations.assertClose(what, ScoreSequence.flat(want), ScoreSequence.flat(got));
    }

    /** Logits as {@link #compare}, then greedy draws: the CPU backend's tokens. */
    void compareAndSample(String what, ForwardBatch batch) {
      compare(what, batch);
      int rows = batch.logitRows().length;
      int[] ids = new int[rows], steps = new int[rows];
      for (int r = 0; r < rows; r++) ids[r] = r;
      SamplingRequest greedy = SamplingRequest.of(SamplingParams.greedy(), ids, steps);
      assertArrayEquals(cpu.sample(batch, greedy), cuda.sample(batch, greedy), what + ": greedy tokens");
    }

    @Override
    public void close() {
      try {
        cuda.close();
      } finally {
        cpu.close();
      }
    }
  }

  /** A batch under construction: groups in the order added; every token's logits wanted. */
  private static final class Step {
    final SplittableRandom random;
    final int vocab;
    final List<Integer> tokens = new ArrayList<>(), positions = new ArrayList<>(), segmentIds = new ArrayList<>(),
        slots = new ArrayList<>();
    final List<AttentionGroup> groups = new ArrayList<>();

    Step(SplittableRandom random, int vocab) {
      this.random = random;
      this.vocab = vocab;
    }

    /** Tokens [from, to) of a prompt in `pages`, seeing nothing else. */
    void prompt(int[] pages, int from, int to) {
      group(List.of(), pages, from, to, from, 0);
    }

    /** C's chunk: its tokens C_FIRST .. C_FIRST + C_CHUNK, after the first part in the same pages. */
    void promptChunk() {
      prompt(C_PAGES, C_FIRST, C_FIRST + C_CHUNK);
    }

    /** Token `step` of every path of the request (path i: thought segment i + 1) over its prompt. */
    void paths(int[] promptPages, int promptLen, int[] pathPages, int step) {
      KvSegment prompt = new KvSegment(promptPages, promptLen);
      for (int i = 0; i < pathPages.length; i++) {
        group(List.of(prompt), new int[] {pathPages[i]}, step, step + 1, promptLen + step, i + 1);
      }
    }

    /** A's first summary token over A's prompt and its paths' first `pathTokens` tokens. */
    void summary(int pathTokens) {
      List<KvSegment> visible = new ArrayList<>(List.of(new KvSegment(A_PAGES, A)));
      for (int p : A_PATH_PAGES) visible.add(new KvSegment(new int[] {p}, pathTokens));
      group(visible, new int[] {SUMMARY_PAGE}, 0, 1, 2 * A + pathTokens, 0);
    }

    /** Own tokens [from, to) of the segment in `pages`, at positions from `position`. */
    private void group(List<KvSegment> visible, int[] pages, int from, int to, int position, int segmentId) {
      groups.add(new AttentionGroup(tokens.size(), to - from, visible, new KvSegment(pages, to)));
      for (int t = from; t < to; t++) {
        tokens.add(random.nextInt(vocab));
        positions.add(position + t - from);
        segmentIds.add(segmentId);
        slots.add(pages[t / PAGE] * PAGE + t % PAGE);
      }
    }

    ForwardBatch batch() {
      int n = tokens.size();
      int[] rows = new int[n];
      for (int i = 0; i < n; i++) rows[i] = i;
      return new ForwardBatch(ints(tokens), ints(positions), ints(segmentIds), ints(slots), List.copyOf(groups), rows);
    }

    private static int[] ints(List<Integer> v) {
      return v.stream().mapToInt(Integer::intValue).toArray();
    }
  }
}
