package dev.ptk.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.backend.SamplingParams;
import dev.ptk.backend.cuda.CudaBackend;
import dev.ptk.backend.cuda.MatmulChoice;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.ParaThinkerPrompt;
import dev.ptk.model.Tokenizer;
import dev.ptk.testing.TestVectors;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A run of requests on the device leaves nothing behind: after each, every KV page is free (no
 * holder left) and the device's free memory is what it was after the first request. That one
 * made what the backend keeps for later ones: each attention plan's device buffers, allocated on
 * the plan's first use, and a graph per decode-step shape.
 */
@Tag("device")
class CudaRequestsTest {
  private static final int PAGES = 32, MAX_TOKENS = 16, SUMMARY_MAX_TOKENS = 40, PATHS = 2;

  @Test
  void pagesAndDeviceMemoryComeBackAfterEveryRequest() {
    Checkpoint checkpoint = Checkpoint.open(TestVectors.tinyModel());
    try (Tokenizer tokenizer = Tokenizer.load(TestVectors.tinyModel());
        CudaBackend cuda = new CudaBackend(checkpoint.config(), checkpoint.weights(), 16, PAGES, 256, MatmulChoice.gemvUpTo(0))) {
      ParaThinkerEngine engine = ParaThinkerEngine.of(cuda, tokenizer);
      run(engine, tokenizer, "What is 2 + 3?", SamplingParams.greedy());
      int graphs = cuda.capturedGraphs();
      assertTrue(graphs > 0, "the first request's decode steps captured graphs");
      long free = cuda.deviceFreeBytes();
      List<SamplingParams> draws = List.of(SamplingParams.greedy(), new SamplingParams(0.5, 1, 0, 7), new SamplingParams(0.9, 0.9, 20, 8));
      String[] questions = {"What is 7 times 6?", "Name a prime above 10.", "What is 2 + 3?"};
      for (int i = 0; i < questions.length; i++) {
        run(engine, tokenizer, questions[i], draws.get(i));
        assertEquals(free, cuda.deviceFreeBytes(), "device memory after request " + (i + 2));
      }
      assertEquals(graphs, cuda.capturedGraphs(), "later requests reuse the graphs of the same shapes");
    }
  }

  /** One request; afterwards no page has a holder. */
  private static void run(ParaThinkerEngine engine, Tokenizer tokenizer, String question, SamplingParams sampling) {
    GenerationOptions options = new GenerationOptions(PATHS, MAX_TOKENS, sampling, Termination.FIRST_FINISH, SummaryPosition.ENGINE,
        SUMMARY_MAX_TOKENS);
    int[] prompt = ParaThinkerPrompt.engineIds(tokenizer, question, engine.backend().pageSize());
    GenerationResult r = engine.generate(prompt, options, ProgressListener.NONE);
    assertEquals(PATHS, r.paths().size());
    PagePool pool = engine.pool();
    assertEquals(PAGES, pool.freePages(), question + ": free pages");
    for (int p = 0; p < PAGES; p++) assertEquals(0, pool.refCount(p), question + ": holders of page " + p);
  }
}
