package dev.ptk.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.ptk.backend.SamplingParams;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.model.ParaThinkerPrompt;
import dev.ptk.model.Tokenizer;
import dev.ptk.testing.TestVectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Greedy generation on the tiny checkpoint reproduces the independent reference's run of the
 * released engine's flow token for token: prompt ids, every path, the summary, the text.
 */
class FlowVectorTest {

  @ParameterizedTest
  @ValueSource(strings = {"flow_p3", "flow_p2"})
  void greedyGenerationReproducesTheReferenceFlow(String name) {
    JsonObject v = TestVectors.json("model/" + name + ".json");
    JsonObject engine = v.getAsJsonObject("engine");
    int paths = v.get("P").getAsInt();
    int maxTokens = engine.get("max_tokens").getAsInt();
    assertEquals("2*Lp+n", engine.get("summary_base").getAsString());
    assertEquals("first-finish", engine.get("termination").getAsString());
    GenerationOptions options = new GenerationOptions(paths, maxTokens, SamplingParams.greedy(), Termination.FIRST_FINISH,
        SummaryPosition.ENGINE, engine.get("summary_max_tokens").getAsInt());

    try (Tokenizer tokenizer = Tokenizer.load(TestVectors.tinyModel());
        CpuBackend backend = TestVectors.tinyBackend(GenerationOptions.releasedRopeScaling(maxTokens), 64)) {
      assertEquals(engine.get("block_size").getAsInt(), backend.pageSize());
      ParaThinkerEngine e = ParaThinkerEngine.of(backend, tokenizer);
      int[] prompt = ParaThinkerPrompt.engineIds(tokenizer, v.get("question").getAsString(), backend.pageSize());
      assertArrayEquals(TestVectors.ints(v.getAsJsonArray("prompt_ids")), prompt, "engine prompt ids");

      GenerationResult r = e.generate(prompt, options, ProgressListener.NONE);
      JsonArray want = v.getAsJsonArray("paths");
      JsonArray reasons = v.getAsJsonArray("finish_reason");
      for (int i = 0; i < paths; i++) {
        assertArrayEquals(TestVectors.ints(want.get(i).getAsJsonArray()), r.paths().get(i).tokens(), "path " + (i + 1));
        String reason = reasons.get(i).isJsonNull() ? "cut" : reasons.get(i).getAsString();
        assertEquals(reason, r.paths().get(i).finish().name().toLowerCase(), "finish of path " + (i + 1));
      }
      assertEquals(v.get("n").getAsInt(), r.pathLength());
      assertEquals(v.get("Lp").getAsInt(), r.promptLength());
      assertArrayEquals(TestVectors.ints(v.getAsJsonArray("summary")), r.summaryTokens(), "summary");
      assertEquals(v.get("summary_text").getAsString(), r.summaryText());
      assertEquals(v.get("text").getAsString(), r.text());
      assertEquals(backend.numPages(), e.pool().freePages());
    }
  }
}
