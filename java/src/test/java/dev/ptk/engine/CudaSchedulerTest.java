package dev.ptk.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.backend.SamplingParams;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.backend.cuda.CudaBackend;
import dev.ptk.backend.cuda.MatmulChoice;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.ModelConfig;
import dev.ptk.model.ParaThinkerPrompt;
import dev.ptk.model.RopeScaling;
import dev.ptk.model.Tokenizer;
import dev.ptk.testing.TestVectors;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Continuous batching on the device (the sim device unless -Dptk.test.device=cuda): requests of
 * different prompts and P, admitted at different steps and sharing every step's batch (ragged
 * attention over each request's own prompt and paths, decode graphs once all are decoding), give
 * under greedy decoding the tokens each gives alone on the same device. Alone, not on the CPU: the
 * tiny random model's best two logits lie 0.002-0.1 apart at some steps, below the up to 0.14 by
 * which CPU and device logits may differ (CudaScoreVectorsTest holds those to their tolerance),
 * so a change of summation order on either side flips a greedy token and the sequences part.
 */
@Tag("device")
class CudaSchedulerTest {
  private static final int PAGE = CpuBackend.DEFAULT_PAGE_SIZE;
  private static final int PAGES = 256;
  private static final String[] QUESTIONS = {"What is 7 times 6?", "Name a prime above 50.", "Sort 3, 1, 2."};

  @Test
  void requestsBatchedOnTheDeviceGiveTheTokensEachGivesAlone() {
    Checkpoint checkpoint = Checkpoint.open(TestVectors.tinyModel());
    ModelConfig config = checkpoint.config().withRopeScaling(RopeScaling.NONE);
    try (Tokenizer tokenizer = Tokenizer.load(TestVectors.tinyModel());
        CudaBackend cuda = new CudaBackend(config, checkpoint.weights(), PAGE, PAGES, 256, MatmulChoice.gemvUpTo(16))) {
      List<int[]> prompts = new ArrayList<>();
      List<GenerationOptions> options = new ArrayList<>();
      List<GenerationResult> alone = new ArrayList<>();
      for (int i = 0; i < QUESTIONS.length; i++) {
        prompts.add(ParaThinkerPrompt.engineIds(tokenizer, QUESTIONS[i], PAGE));
        options.add(new GenerationOptions(1 + i, 2 * PAGE, SamplingParams.greedy(), Termination.FIRST_FINISH,
            SummaryPosition.ENGINE, 12));
        alone.add(ParaThinkerEngine.of(cuda, tokenizer).generate(prompts.get(i), options.get(i), ProgressListener.NONE));
      }
      ParaThinkerEngine engine = ParaThinkerEngine.of(cuda, tokenizer);
      List<RequestHandle> handles = new ArrayList<>();
      int mostRunning = 0;
      for (int i = 0; i < QUESTIONS.length; i++) {
        handles.add(engine.submit(prompts.get(i), options.get(i), ProgressListener.NONE));
        for (int s = 0; s < 2; s++) {
          engine.step();
          mostRunning = Math.max(mostRunning, engine.scheduler().running());
        }
      }
      engine.runUntilIdle();
      for (int i = 0; i < QUESTIONS.length; i++) {
        GenerationResult want = alone.get(i), got = handles.get(i).join();
        for (int p = 0; p < want.paths().size(); p++) {
          assertArrayEquals(want.paths().get(p).tokens(), got.paths().get(p).tokens(), "request " + i + " path " + (p + 1));
        }
        assertArrayEquals(want.summaryTokens(), got.summaryTokens(), "request " + i + " summary");
      }
      assertEquals(QUESTIONS.length, mostRunning, "all three ran together");
      assertTrue(cuda.graphLaunches() > 0, "decode steps of the mixed batch ran from graphs");
      assertEquals(PAGES, engine.freeKvPages());
    }
  }
}
