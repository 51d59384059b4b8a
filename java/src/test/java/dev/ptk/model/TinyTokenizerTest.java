package dev.ptk.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ptk.testing.TestVectors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The tiny reference tokenizer through DJL agrees with the Python reference's own encoder: special
 * ids from the manifest, and the engine prompt and summary template of every flow vector.
 */
class TinyTokenizerTest {

  private static int[] ints(JsonArray a) {
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) out[i] = a.get(i).getAsInt();
    return out;
  }

  @Test
  void specialTokensByName() throws IOException {
    JsonObject ids = TestVectors.json("manifest.json").getAsJsonObject("tiny_model").getAsJsonObject("special_ids");
    try (Tokenizer t = Tokenizer.load(TestVectors.tinyModel())) {
      SpecialTokens s = t.special();
      assertEquals(ids.get(SpecialTokens.BOS).getAsInt(), s.bos());
      assertEquals(ids.get(SpecialTokens.EOS).getAsInt(), s.eos());
      assertEquals(ids.get(SpecialTokens.USER).getAsInt(), s.user());
      assertEquals(ids.get(SpecialTokens.ASSISTANT).getAsInt(), s.assistant());
      assertEquals(ids.get("<think>").getAsInt(), s.think());
      assertEquals(ids.get("</think>").getAsInt(), s.endThink());
      for (int i = 1; i <= 8; i++) {
        assertEquals(ids.get("<think" + i + ">").getAsInt(), s.thinkStart(i));
        assertEquals(ids.get("</think" + i + ">").getAsInt(), s.thinkEnd(i));
      }
      assertEquals(ids.get("<summary>").getAsInt(), s.summary());
      assertEquals(ids.get("</summary>").getAsInt(), s.endSummary());
      assertEquals(ids.get("<vllm_pad>").getAsInt(), s.pad());
    }
  }

  @Test
  void enginePromptAndSummaryTemplateOfEveryFlowVector() throws IOException {
    int checked = 0;
    try (Tokenizer t = Tokenizer.load(TestVectors.tinyModel()); Stream<Path> files = Files.list(TestVectors.file("model"))) {
      for (Path f : files.filter(p -> p.getFileName().toString().startsWith("flow")).toList()) {
        JsonObject flow = JsonParser.parseString(Files.readString(f)).getAsJsonObject();
        String question = flow.get("question").getAsString();
        assertEquals(flow.get("prompt_text").getAsString(), ParaThinkerPrompt.text(question), f.toString());
        int[] prompt = ParaThinkerPrompt.engineIds(t, question, ParaThinkerPrompt.PAGE_SIZE);
        assertArrayEquals(ints(flow.getAsJsonArray("prompt_ids")), prompt, f.toString());
        assertEquals(flow.get("Lp").getAsInt(), prompt.length);
        JsonObject engine = flow.getAsJsonObject("engine");
        assertEquals(engine.get("summary_template_text").getAsString(), ParaThinkerPrompt.SUMMARY_TEMPLATE);
        assertArrayEquals(ints(engine.getAsJsonArray("summary_token_ids")), ParaThinkerPrompt.summaryIds(t), f.toString());
        assertEquals(engine.get("pad_token_id").getAsInt(), t.special().pad());
        checked++;
      }
    }
    assertTrue(checked > 0, "no flow vectors found");
  }

  @Test
  void decodeKeepsSpecialTokensAndRoundTrips() {
    try (Tokenizer t = Tokenizer.load(TestVectors.tinyModel())) {
      String text = "<think1>Let x = 12.</think1>";
      int[] ids = t.encode(text, false);
      assertEquals(t.special().thinkStart(1), ids[0]);
      assertEquals(t.special().thinkEnd(1), ids[ids.length - 1]);
      assertEquals(text, t.decode(ids));
      assertEquals(t.special().bos(), t.encode(text, true)[0]);
      assertEquals(ids.length + 1, t.encode(text, true).length);
    }
  }

  @Test
  void unknownTokenIsNamed() {
    try (Tokenizer t = Tokenizer.load(TestVectors.tinyModel())) {
      ModelFormatException e = assertThrows(ModelFormatException.class, () -> t.id("<think9>"));
      assertTrue(e.getMessage().contains("\"<think9>\"") && e.getMessage().contains("tokenizer.json"), e.getMessage());
    }
  }

  @Test
  void missingTokenizerFile(@org.junit.jupiter.api.io.TempDir Path tmp) {
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> Tokenizer.load(tmp));
    assertTrue(e.getMessage().contains(tmp.resolve("tokenizer.json").toString()), e.getMessage());
  }
}
