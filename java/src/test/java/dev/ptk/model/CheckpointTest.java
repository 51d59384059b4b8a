package dev.ptk.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint directories: single file, shards, and every mismatch between config and weights. */
class CheckpointTest {
  // hidden 8, 2 heads (head dim 4), 1 kv head, intermediate 12, vocab 10, 2 layers, 3 segments
  static final String CONFIG = """
      {"hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
       "intermediate_size": 12, "vocab_size": 10, "max_position_embeddings": 64, "rms_norm_eps": 1e-6,
       "rope_theta": 10000.0, "tie_word_embeddings": false, "max_segments": 3,
       "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu"}
      """;

  @TempDir Path tmp;

  /** Every tensor of the tiny model above, with seg_embeddings unless told otherwise. */
  static StFiles tinyTensors(boolean seg) {
    StFiles st = new StFiles().bf16("model.embed_tokens.weight", 10, 8);
    for (int l = 0; l < 2; l++) {
      String p = "model.layers." + l + ".";
      st.bf16(p + "input_layernorm.weight", 8)
          .bf16(p + "self_attn.q_proj.weight", 8, 8).bf16(p + "self_attn.q_proj.bias", 8)
          .bf16(p + "self_attn.k_proj.weight", 4, 8).bf16(p + "self_attn.k_proj.bias", 4)
          .bf16(p + "self_attn.v_proj.weight", 4, 8).bf16(p + "self_attn.v_proj.bias", 4)
          .bf16(p + "self_attn.o_proj.weight", 8, 8)
          .bf16(p + "post_attention_layernorm.weight", 8)
          .bf16(p + "mlp.gate_proj.weight", 12, 8).bf16(p + "mlp.up_proj.weight", 12, 8)
          .bf16(p + "mlp.down_proj.weight", 8, 12);
      if (seg) st.bf16(p + "self_attn.seg_embeddings.weight", 3, 4);
    }
    return st.bf16("model.norm.weight", 8).bf16("lm_head.weight", 10, 8);
  }

  private Path dir(String config, StFiles tensors) throws IOException {
    Path d = Files.createTempDirectory(tmp, "ckpt");
    Files.writeString(d.resolve("config.json"), config);
    tensors.write(d.resolve("model.safetensors"));
    return d;
  }

  private String fails(Path d) {
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> Checkpoint.open(d));
    assertTrue(e.getMessage().contains(d.toString()), "message names the checkpoint: " + e.getMessage());
    return e.getMessage();
  }

  @Test
  void loadsEveryTensorOfTheConfig() throws IOException {
    try (Checkpoint c = Checkpoint.open(dir(CONFIG, tinyTensors(true)))) {
      assertEquals(8, c.config().hiddenSize());
      assertEquals(4, c.config().headDim());
      Weights w = c.weights();
      assertEquals(2, w.layers().size());
      assertArrayEquals(new long[] {4, 8}, w.layers().get(1).kWeight().shape());
      assertArrayEquals(new long[] {3, 4}, w.layers().get(0).segEmbeddings().shape());
      assertEquals("lm_head.weight", w.lmHead().name());
      // the ramp written by StFiles: (i % 17 - 8) / 16
      assertEquals(-0.5f, w.norm().toFloats()[0]);
      assertEquals(0.5f, w.layers().get(0).downWeight().toFloats()[16]);
    }
  }

  @Test
  void closedCheckpointRefusesWeights() throws IOException {
    Checkpoint c = Checkpoint.open(dir(CONFIG, tinyTensors(true)));
    c.close();
    assertThrows(IllegalStateException.class, c::weights);
  }

  @Test
  void plainQwen2WithoutThoughtEmbeddings() throws IOException {
    try (Checkpoint c = Checkpoint.open(dir(CONFIG, tinyTensors(false)))) {
      assertNull(c.weights().layers().get(0).segEmbeddings());
    }
    try (Checkpoint c = Checkpoint.open(dir(CONFIG.replace("\"max_segments\": 3,", ""), tinyTensors(false)))) {
      assertEquals(0, c.config().maxSegments());
    }
  }

  @Test
  void tiedEmbeddingsShareTheTable() throws IOException {
    String tied = CONFIG.replace("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": true");
    try (Checkpoint c = Checkpoint.open(dir(tied, tinyTensors(true).remove("lm_head.weight")))) {
      assertSame(c.weights().embedTokens(), c.weights().lmHead());
    }
  }

  @Test
  void missingTensor() throws IOException {
    String m = fails(dir(CONFIG, tinyTensors(true).remove("model.layers.1.mlp.up_proj.weight")));
    assertTrue(m.contains("missing tensor model.layers.1.mlp.up_proj.weight"), m);
  }

  @Test
  void wrongShape() throws IOException {
    String m = fails(dir(CONFIG, tinyTensors(true).bf16("model.layers.0.self_attn.k_proj.weight", 8, 8)));
    assertTrue(m.contains("tensor model.layers.0.self_attn.k_proj.weight has shape [8, 8], config.json implies [4, 8]"), m);
  }

  @Test
  void wrongDtype() throws IOException {
    String m = fails(dir(CONFIG, tinyTensors(true).raw("model.norm.weight", "I32", new long[] {8}, new byte[32])));
    assertTrue(m.contains("tensor model.norm.weight has dtype I32"), m);
  }

  @Test
  void thoughtEmbeddingsInSomeLayersOnly() throws IOException {
    String m = fails(dir(CONFIG, tinyTensors(true).remove("model.layers.1.self_attn.seg_embeddings.weight")));
    assertTrue(m.contains("seg_embeddings.weight is present in 1 of 2 layers"), m);
  }

  @Test
  void thoughtEmbeddingsWithoutMaxSegments() throws IOException {
    String m = fails(dir(CONFIG.replace("\"max_segments\": 3,", ""), tinyTensors(true)));
    assertTrue(m.contains("model.layers.0.self_attn.seg_embeddings.weight is present but config.json has no max_segments"), m);
  }

  @Test
  void topLevelSegEmbeddingsLeftover() throws IOException {
    String m = fails(dir(CONFIG, tinyTensors(true).bf16("seg_embeddings.weight", 3, 4)));
    assertTrue(m.contains("tensor seg_embeddings.weight is a leftover"), m);
  }

  @Test
  void tensorOfALayerTheConfigDoesNotHave() throws IOException {
    String m = fails(dir(CONFIG, tinyTensors(true).bf16("model.layers.2.input_layernorm.weight", 8)));
    assertTrue(m.contains("unexpected tensor model.layers.2.input_layernorm.weight"), m);
  }

  @Test
  void noWeightsFile() throws IOException {
    Path d = Files.createTempDirectory(tmp, "ckpt");
    Files.writeString(d.resolve("config.json"), CONFIG);
    assertTrue(fails(d).contains("neither model.safetensors nor model.safetensors.index.json"));
  }

  /** Splits the tiny model over two shards with an index; the result equals the single file. */
  private Path sharded(String index) throws IOException {
    Path d = Files.createTempDirectory(tmp, "sharded");
    Files.writeString(d.resolve("config.json"), CONFIG);
    StFiles a = new StFiles();
    StFiles b = new StFiles();
    Path single = tinyTensors(true).write(tmp.resolve("all.safetensors"));
    SafeTensors all = SafeTensors.open(single);
    List<String> entries = new ArrayList<>();
    for (String n : all.names()) {
      Tensor t = all.tensor(n);
      byte[] bytes = new byte[t.data().remaining()];
      t.data().duplicate().get(bytes);
      boolean first = n.startsWith("model.layers.0.") || n.startsWith("model.embed");
      (first ? a : b).raw(n, t.dtype().name(), t.shape(), bytes);
      entries.add("\"" + n + "\": \"model-0000" + (first ? 1 : 2) + "-of-00002.safetensors\"");
    }
    a.write(d.resolve("model-00001-of-00002.safetensors"));
    b.write(d.resolve("model-00002-of-00002.safetensors"));
    Files.writeString(d.resolve("model.safetensors.index.json"),
        index == null ? "{\"metadata\": {\"total_size\": 0}, \"weight_map\": {" + String.join(", ", entries) + "}}" : index);
    return d;
  }

  @Test
  void shardedCheckpointEqualsSingleFile() throws IOException {
    try (Checkpoint one = Checkpoint.open(dir(CONFIG, tinyTensors(true))); Checkpoint two = Checkpoint.open(sharded(null))) {
      Weights w1 = one.weights(), w2 = two.weights();
      assertArrayEquals(w1.embedTokens().toFloats(), w2.embedTokens().toFloats());
      assertArrayEquals(w1.lmHead().toFloats(), w2.lmHead().toFloats());
      for (int l = 0; l < 2; l++) {
        LayerWeights x = w1.layers().get(l), y = w2.layers().get(l);
        assertArrayEquals(x.qWeight().toFloats(), y.qWeight().toFloats());
        assertArrayEquals(x.downWeight().toFloats(), y.downWeight().toFloats());
        assertArrayEquals(x.segEmbeddings().toFloats(), y.segEmbeddings().toFloats());
      }
      assertTrue(w2.layers().get(0).qWeight().toString().startsWith("model.layers.0.self_attn.q_proj.weight"));
    }
  }

  @Test
  void shardListedButMissing() throws IOException {
    Path d = sharded(null);
    Files.delete(d.resolve("model-00002-of-00002.safetensors"));
    String m = fails(d);
    assertTrue(m.contains("shard model-00002-of-00002.safetensors") && m.contains("is missing"), m);
  }

  @Test
  void shardDoesNotHoldTheListedTensor() throws IOException {
    String index = "{\"weight_map\": {\"model.norm.weight\": \"model-00001-of-00002.safetensors\"}}";
    String m = fails(sharded(index));
    assertTrue(m.contains("tensor model.norm.weight is listed in shard model-00001-of-00002.safetensors"), m);
  }
}
