package dev.ptk.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ptk.testing.TestVectors;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The tiny checkpoint written by the Python reference (test-vectors/tiny-model) loads, and what the
 * loader returns equals an independent read of the file and the facts in the manifest.
 */
class TinyModelTest {
  /** Raw little-endian u16 words of one tensor, located with a plain JSON parse and a seek. */
  private static short[] rawWords(Path file, String name) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long n = Long.reverseBytes(f.readLong());
      byte[] header = new byte[(int) n];
      f.readFully(header);
      JsonObject entry = JsonParser.parseString(new String(header, StandardCharsets.UTF_8)).getAsJsonObject().getAsJsonObject(name);
      long begin = entry.getAsJsonArray("data_offsets").get(0).getAsLong();
      long end = entry.getAsJsonArray("data_offsets").get(1).getAsLong();
      byte[] data = new byte[(int) (end - begin)];
      f.seek(8 + n + begin);
      f.readFully(data);
      short[] words = new short[data.length / 2];
      ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(words);
      return words;
    }
  }

  private static short[] words(Tensor t) {
    short[] w = new short[(int) t.elementCount()];
    t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(w);
    return w;
  }

  @Test
  void loadsWithTheManifestsShapes() throws IOException {
    JsonObject tiny = TestVectors.json("manifest.json").getAsJsonObject("tiny_model");
    try (Checkpoint c = Checkpoint.open(TestVectors.tinyModel())) {
      ModelConfig cfg = c.config();
      assertEquals(tiny.get("vocab_size").getAsInt(), cfg.vocabSize());
      assertEquals(cfg.vocabSize(), c.weights().lmHead().dim(0));
      assertEquals(cfg.hiddenSize(), c.weights().embedTokens().dim(1));
      assertEquals(cfg.numLayers(), c.weights().layers().size());
      for (LayerWeights l : c.weights().layers()) {
        assertArrayEquals(new long[] {cfg.maxSegments(), cfg.headDim()}, l.segEmbeddings().shape());
      }
      JsonObject special = tiny.getAsJsonObject("special_ids");
      assertEquals(special.get("<\uff5cbegin\u2581of\u2581sentence\uff5c>").getAsInt(), cfg.bosTokenId());
      assertEquals(special.get("<\uff5cend\u2581of\u2581sentence\uff5c>").getAsInt(), cfg.eosTokenId());
    }
  }

  @Test
  void bytesEqualAnIndependentRead() throws IOException {
    Path file = TestVectors.file("tiny-model/model.safetensors");
    try (Checkpoint c = Checkpoint.open(TestVectors.tinyModel())) {
      Weights w = c.weights();
      for (Tensor t : new Tensor[] {w.layers().get(1).segEmbeddings(), w.layers().get(0).kBias(), w.norm(), w.lmHead()}) {
        assertArrayEquals(rawWords(file, t.name()), words(t), t.name());
      }
    }
  }

  @Test
  void lmHeadRowsPastTheTokenizerAreZero() throws IOException {
    int tokenizerSize = TestVectors.json("manifest.json").getAsJsonObject("tiny_model").get("tokenizer_size").getAsInt();
    try (Checkpoint c = Checkpoint.open(TestVectors.tinyModel())) {
      Tensor head = c.weights().lmHead();
      float[] v = head.toFloats();
      int h = head.dim(1);
      for (int i = tokenizerSize * h; i < v.length; i++) assertEquals(0f, v[i]);
      boolean anyNonZero = false;
      for (int i = 0; i < h; i++) anyNonZero |= v[i] != 0f;
      assertTrue(anyNonZero, "row 0 is random, not zero");
    }
  }
}
