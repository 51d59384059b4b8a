package dev.ptk.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json: the released shape, YaRN, and a clear error for every malformed field. */
class ModelConfigTest {
  static final Path RELEASED = Path.of("..", "model", "parathinker-1.5b.config.json");

  @TempDir Path tmp;

  private Path write(String json) throws IOException {
    return Files.writeString(tmp.resolve("config.json"), json);
  }

  private String fails(String json) throws IOException {
    Path f = write(json);
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelConfig.load(f));
    assertTrue(e.getMessage().contains(f.toString()), "message names the file: " + e.getMessage());
    return e.getMessage();
  }

  @Test
  void releasedCheckpointShape() {
    ModelConfig c = ModelConfig.load(RELEASED);
    // SEMANTICS.md §1 and §5
    assertEquals(1536, c.hiddenSize());
    assertEquals(28, c.numLayers());
    assertEquals(128, c.headDim());
    assertEquals(6, c.groupSize());
    assertEquals((12 + 2 * 2) * 128, c.qkvWidth());
    assertEquals(8960, c.intermediateSize());
    assertEquals(151936, c.vocabSize());
    assertEquals(32, c.maxSegments());
    assertEquals(1e-6, c.rmsNormEps());
    assertFalse(c.tieWordEmbeddings());
    assertSame(RopeScaling.NONE, c.ropeScaling());
  }

  @Test
  void yarnAsTheReleasedEngineOverridesIt() throws IOException {
    String json = Files.readString(RELEASED).replace("\"rope_scaling\": null", """
        "rope_scaling": {"rope_type": "yarn", "factor": 2.0, "original_max_position_embeddings": 9280,
          "beta_fast": 32, "beta_slow": 1, "extrapolation_factor": 1.0, "attention_factor": 1.0}""");
    RopeScaling r = ModelConfig.load(write(json)).ropeScaling();
    assertTrue(r.isYarn());
    assertEquals(2.0, r.factor());
    assertEquals(9280, r.originalMaxPositions());
    assertEquals(32.0, r.betaFast());
    assertEquals(1.0, r.betaSlow());
    assertEquals(1.0693, r.mscale(), 1e-4); // SEMANTICS.md §7: 0.1 ln 2 + 1, attention_factor not applied
  }

  @Test
  void yarnWithTheOlderTypeKeyAndDefaultBetas() throws IOException {
    String json = Files.readString(RELEASED).replace("\"rope_scaling\": null",
        "\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4, \"original_max_position_embeddings\": 4096}");
    RopeScaling r = ModelConfig.load(write(json)).ropeScaling();
    assertEquals(new RopeScaling(4, 4096, 32, 1, 0.1 * Math.log(4) + 1), r);
  }

  @Test
  void unsupportedRopeType() throws IOException {
    String m = fails(Files.readString(RELEASED).replace("\"rope_scaling\": null",
        "\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 2}"));
    assertTrue(m.contains("rope type \"linear\" is not supported"), m);
  }

  @Test
  void yarnWithoutOriginalLength() throws IOException {
    String m = fails(Files.readString(RELEASED).replace("\"rope_scaling\": null",
        "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 2}"));
    assertTrue(m.contains("rope_scaling: missing field \"original_max_position_embeddings\""), m);
  }

  @Test
  void malformedJson() throws IOException {
    assertTrue(fails("{\"hidden_size\": 1536,").contains("malformed JSON"));
  }

  @Test
  void missingField() throws IOException {
    String m = fails(Files.readString(RELEASED).replace("\"num_key_value_heads\": 2,", ""));
    assertTrue(m.contains("missing field \"num_key_value_heads\""), m);
  }

  @Test
  void wrongFieldType() throws IOException {
    String m = fails(Files.readString(RELEASED).replace("\"hidden_size\": 1536", "\"hidden_size\": \"1536\""));
    assertTrue(m.contains("field \"hidden_size\" must be an integer"), m);
    m = fails(Files.readString(RELEASED).replace("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": 0"));
    assertTrue(m.contains("field \"tie_word_embeddings\" must be true or false"), m);
  }

  @Test
  void inconsistentHeads() throws IOException {
    String m = fails(Files.readString(RELEASED).replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 5"));
    assertTrue(m.contains("num_attention_heads 12 is not a multiple of num_key_value_heads 5"), m);
  }

  @Test
  void duplicateField() throws IOException {
    String m = fails(Files.readString(RELEASED).replace("\"hidden_size\": 1536", "\"hidden_size\": 1536, \"hidden_size\": 768"));
    assertTrue(m.contains("duplicate key \"hidden_size\""), m);
  }
}
