package dev.ptk.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.ptk.backend.Backend;
import dev.ptk.backend.SamplingParams;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.backend.cuda.CudaBackend;
import dev.ptk.backend.cuda.MatmulChoice;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.ParaThinkerPrompt;
import dev.ptk.model.Tokenizer;
import dev.ptk.testing.TestVectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Greedy generation on the device (the sim device unless -Dptk.test.device=cuda) gives the CPU
 * backend's run token for token on the flow vectors' questions: every path, its finish, the
 * summary and the text; with the tokens drawn on the device. flow_p3 runs its decode steps on
 * ptk_gemv, flow_p2 on ptk_gemm.
 */
@Tag("device")
class CudaFlowTest {
  private static final int PAGES = 64;

  @ParameterizedTest(name = "{0}, ptk_gemv up to {1} rows")
  @CsvSource({"flow_p3, 16", "flow_p2, 0"})
  void greedyGenerationIsTheCpuBackendsTokenForToken(String name, int gemvRows) {
    JsonObject v = TestVectors.json("model/" + name + ".json");
    JsonObject engine = v.getAsJsonObject("engine");
    int maxTokens = engine.get("max_tokens").getAsInt();
    GenerationOptions options = new GenerationOptions(v.get("P").getAsInt(), maxTokens, SamplingParams.greedy(),
        Termination.FIRST_FINISH, SummaryPosition.ENGINE, engine.get("summary_max_tokens").getAsInt());
    Checkpoint checkpoint = Checkpoint.open(TestVectors.tinyModel());
    var config = checkpoint.config().withRopeScaling(GenerationOptions.releasedRopeScaling(maxTokens));

    try (Tokenizer tokenizer = Tokenizer.load(TestVectors.tinyModel());
        CpuBackend cpu = new CpuBackend(config, checkpoint.weights(), CpuBackend.DEFAULT_PAGE_SIZE, PAGES);
        CudaBackend cuda = new CudaBackend(config, checkpoint.weights(), CpuBackend.DEFAULT_PAGE_SIZE, PAGES, 256,
            MatmulChoice.gemvUpTo(gemvRows))) {
      int[] prompt = ParaThinkerPrompt.engineIds(tokenizer, v.get("question").getAsString(), CpuBackend.DEFAULT_PAGE_SIZE);
      GenerationResult want = run(cpu, tokenizer, prompt, options);
      GenerationResult got = run(cuda, tokenizer, prompt, options);
      for (int i = 0; i < options.paths(); i++) {
        assertArrayEquals(want.paths().get(i).tokens(), got.paths().get(i).tokens(), "path " + (i + 1));
        assertEquals(want.paths().get(i).finish(), got.paths().get(i).finish(), "finish of path " + (i + 1));
      }
      assertArrayEquals(want.summaryTokens(), got.summaryTokens(), "summary");
      assertEquals(want.text(), got.text());
      assertEquals(v.get("text").getAsString(), got.text(), "the reference's text");
      assertTrue(cuda.graphLaunches() >= got.pathLength(), "decode steps ran from graphs: " + cuda.graphLaunches());
    }
  }

  /** One request; afterwards every KV page is free again. */
  private static GenerationResult run(Backend backend, Tokenizer tokenizer, int[] prompt, GenerationOptions options) {
    ParaThinkerEngine engine = ParaThinkerEngine.of(backend, tokenizer);
    GenerationResult r = engine.generate(prompt, options, ProgressListener.NONE);
    assertEquals(backend.numPages(), engine.freeKvPages(), backend.describe() + ": pages after the request");
    return r;
  }
}
