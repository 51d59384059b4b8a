package dev.ptk.model;

import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Rebuilds ParaThinker-1.5B's tokenizer for tests: the real Qwen byte-level BPE (fetched by
 * model/fetch-test-tokenizer.sh) with the DeepSeek-distill added tokens at 151643..151664
 * (SEMANTICS.md §3.1) and ParaThinker's at 151665..151683 (SEMANTICS.md §3.2).
 */
public final class ReleasedTokenizer {
  static final Path QWEN = Path.of("..", "build", "qwen-tokenizer", "tokenizer.json");

  private ReleasedTokenizer() {}

  /** Writes the rebuilt tokenizer.json into {@code dir} and returns its path. */
  public static Path write(Path dir) throws IOException {
    if (!Files.isRegularFile(QWEN)) {
      fail(QWEN.toAbsolutePath().normalize() + " is missing: run model/fetch-test-tokenizer.sh first");
    }
    JsonObject tok = JsonParser.parseString(Files.readString(QWEN)).getAsJsonObject();
    JsonArray added = new JsonArray();
    int id = 151643;
    String[][] distill = {
        {SpecialTokens.EOS, "true"}, {SpecialTokens.USER, "false"}, {SpecialTokens.ASSISTANT, "false"},
        {SpecialTokens.BOS, "true"}, {"<|EOT|>", "false"}, {"<think>", "false"}, {"</think>", "false"},
        {"<|quad_start|>", "true"}, {"<|quad_end|>", "true"}, {"<|vision_start|>", "true"}, {"<|vision_end|>", "true"},
        {"<|vision_pad|>", "true"}, {"<|image_pad|>", "true"}, {"<|video_pad|>", "true"},
        {"<tool_call>", "false"}, {"</tool_call>", "false"}, {"<|fim_prefix|>", "false"}, {"<|fim_middle|>", "false"},
        {"<|fim_suffix|>", "false"}, {"<|fim_pad|>", "false"}, {"<|repo_name|>", "false"}, {"<|file_sep|>", "false"}};
    for (String[] t : distill) added.add(token(id++, t[0], Boolean.parseBoolean(t[1])));
    for (int i = 1; i <= 8; i++) {
      added.add(token(id++, "<think" + i + ">", true));
      added.add(token(id++, "</think" + i + ">", true));
    }
    added.add(token(id++, "<summary>", true));
    added.add(token(id++, "</summary>", true));
    added.add(token(id, "<vllm_pad>", true));
    tok.add("added_tokens", added);
    Path out = dir.resolve("tokenizer.json");
    Files.writeString(out, tok.toString());
    return out;
  }

  private static JsonObject token(int id, String content, boolean special) {
    JsonObject o = new JsonObject();
    o.addProperty("id", id);
    o.addProperty("content", content);
    o.addProperty("single_word", false);
    o.addProperty("lstrip", false);
    o.addProperty("rstrip", false);
    o.addProperty("normalized", false);
    o.addProperty("special", special);
    return o;
  }
}
