package dev.ptk.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.LayerWeights;
import dev.ptk.model.ReleasedTokenizer;
import dev.ptk.model.SpecialTokens;
import dev.ptk.model.Tensor;
import dev.ptk.testing.Cli;
import dev.ptk.testing.Cli.Run;
import dev.ptk.testing.TestVectors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ptk tokenize} and {@code ptk init-random} through {@link Main#run}. */
class ModelCommandsTest {
  // hidden 64, 4 heads of 16, 2 kv heads, 3 layers, 4 thought-embedding rows
  static final String CONFIG = """
      {"hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2,
       "intermediate_size": 96, "vocab_size": 500, "max_position_embeddings": 256, "rms_norm_eps": 1e-6,
       "max_segments": 4, "bos_token_id": 1, "eos_token_id": 2}
      """;

  @TempDir Path tmp;

  @Test
  void tokenizeChatGivesTheReferenceEnginePrompt() throws IOException {
    Path flow = TestVectors.ROOT.resolve("model/flow_p2.json");
    assumeTrue(Files.isRegularFile(flow), flow + " not present");
    JsonObject f = JsonParser.parseString(Files.readString(flow)).getAsJsonObject();
    Run r = Cli.ptk("tokenize", "--model", TestVectors.tinyModel().toString(), "--chat", f.get("question").getAsString());
    assertEquals(0, r.code(), r.err());
    String[] lines = r.out().split("\n");
    assertEquals(f.get("prompt_ids").toString().replace(",", ", "), lines[0]);
    assertEquals("Lp " + f.get("Lp").getAsInt(), lines[1]);
  }

  @Test
  void tokenizeWithTheReleasedTokenizer() throws IOException {
    Path tok = ReleasedTokenizer.write(tmp);
    Run r = Cli.ptk("tokenize", "--model", tok.toString(), SpecialTokens.USER + "Who are you?" + SpecialTokens.ASSISTANT + "<think>\n");
    assertEquals(0, r.code(), r.err());
    assertEquals("[151644, 15191, 525, 498, 30, 151645, 151648, 198]\nlength 8\n", r.out());
  }

  @Test
  void tokenizeUsageErrors() {
    Cli.assertUsage(Cli.ptk("tokenize", "hello"), "missing required option --model");
    Cli.assertUsage(Cli.ptk("tokenize", "--model", tmp.resolve("nope").toString(), "hello"), "does not exist");
    Cli.assertUsage(Cli.ptk("tokenize", "--model", tmp.toString()), "one TEXT argument, got 0");
    Cli.assertUsage(Cli.ptk("tokenize", "--model", tmp.toString(), "--bogus", "1", "x"), "unknown option --bogus");
  }

  @Test
  void tokenizeWithoutTokenizerFileFails() {
    Run r = Cli.ptk("tokenize", "--model", tmp.toString(), "hello");
    assertEquals(1, r.code());
    assertTrue(r.err().contains(tmp.resolve("tokenizer.json") + ": missing"), r.err());
  }

  private Path config() throws IOException {
    return Files.writeString(tmp.resolve("config.json"), CONFIG);
  }

  @Test
  void initRandomWritesALoadableCheckpoint() throws IOException {
    Path tokFile = Files.writeString(tmp.resolve("tok.json"), "{\"stand-in\": true}");
    Path out = tmp.resolve("ckpt");
    Run r = Cli.ptk("init-random", "--config", config().toString(), "--out", out.toString(), "--seed", "7", "--tokenizer", tokFile.toString());
    assertEquals(0, r.code(), r.err());
    assertEquals(Files.readString(tokFile), Files.readString(out.resolve("tokenizer.json")));
    try (Checkpoint c = Checkpoint.open(out)) {
      assertEquals(64, c.config().hiddenSize());
      LayerWeights l0 = c.weights().layers().get(0);
      assertArrayEquals(new long[] {4, 16}, l0.segEmbeddings().shape());
      assertStd(1 / Math.sqrt(64), l0.qWeight());
      assertStd(1 / Math.sqrt(96) / Math.sqrt(6), l0.downWeight());
      assertStd(1.0, c.weights().embedTokens());
      float[] norm = c.weights().norm().toFloats();
      double mean = 0;
      for (float v : norm) mean += v / norm.length;
      assertEquals(1.0, mean, 0.05);
    }
  }

  /** Sample standard deviation within 10% (thousands of samples). */
  private static void assertStd(double want, Tensor t) {
    float[] v = t.toFloats();
    double sum = 0, sq = 0;
    for (float x : v) {
      sum += x;
      sq += (double) x * x;
    }
    double mean = sum / v.length;
    double std = Math.sqrt(sq / v.length - mean * mean);
    assertEquals(want, std, 0.1 * want, t.name());
  }

  @Test
  void initRandomIsDeterministicInTheSeed() throws IOException {
    Path cfg = config();
    for (String[] run : new String[][] {{"a", "1"}, {"b", "1"}, {"c", "2"}}) {
      assertEquals(0, Cli.ptk("init-random", "--config", cfg.toString(), "--out", tmp.resolve(run[0]).toString(), "--seed", run[1]).code());
    }
    byte[] a = Files.readAllBytes(tmp.resolve("a/model.safetensors"));
    assertArrayEquals(a, Files.readAllBytes(tmp.resolve("b/model.safetensors")));
    byte[] c = Files.readAllBytes(tmp.resolve("c/model.safetensors"));
    assertEquals(a.length, c.length);
    assertNotEquals(java.util.Arrays.hashCode(a), java.util.Arrays.hashCode(c));
  }

  @Test
  void initRandomPlainQwen2WithoutThoughtEmbeddings() throws IOException {
    Path cfg = Files.writeString(tmp.resolve("plain.json"), CONFIG.replace("\"max_segments\": 4,", ""));
    Path out = tmp.resolve("plain");
    assertEquals(0, Cli.ptk("init-random", "--config", cfg.toString(), "--out", out.toString(), "--seed", "3").code());
    try (Checkpoint c = Checkpoint.open(out)) {
      assertEquals(null, c.weights().layers().get(2).segEmbeddings());
    }
  }

  @Test
  void initRandomUsageErrors() throws IOException {
    Path cfg = config();
    String out = tmp.resolve("o").toString();
    Cli.assertUsage(Cli.ptk("init-random", "--config", cfg.toString(), "--out", out), "missing required option --seed");
    Cli.assertUsage(Cli.ptk("init-random", "--config", tmp.resolve("none.json").toString(), "--out", out, "--seed", "1"), "does not exist");
    Cli.assertUsage(Cli.ptk("init-random", "--config", cfg.toString(), "--out", out, "--seed", "x"), "--seed must be an integer");
    Cli.assertUsage(Cli.ptk("init-random", "--config", cfg.toString(), "--out", out, "--seed", "1", "--tokenizer", tmp.resolve("t").toString()),
        "--tokenizer");
    assertEquals(0, Cli.ptk("init-random", "--config", cfg.toString(), "--out", out, "--seed", "1").code());
    Cli.assertUsage(Cli.ptk("init-random", "--config", cfg.toString(), "--out", out, "--seed", "1"), "already holds a checkpoint");
  }

  @Test
  void initRandomRejectsAMalformedConfig() throws IOException {
    Path cfg = Files.writeString(tmp.resolve("bad.json"), CONFIG.replace("\"vocab_size\": 500,", ""));
    Run r = Cli.ptk("init-random", "--config", cfg.toString(), "--out", tmp.resolve("o").toString(), "--seed", "1");
    assertEquals(1, r.code());
    assertTrue(r.err().contains(cfg + ": missing field \"vocab_size\""), r.err());
  }
}
