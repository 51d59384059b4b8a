package dev.ptk.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.RopeScaling;
import dev.ptk.model.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** The reference vectors (test-vectors/, from the independent Python reference) and the tiny checkpoint. */
final class TinyVectors {
  static final Path ROOT = Path.of("..", "test-vectors");
  static final Path TINY = ROOT.resolve("tiny-model");

  private TinyVectors() {}

  static Path file(String relative) {
    Path p = ROOT.resolve(relative);
    assertTrue(Files.exists(p), p.toAbsolutePath() + " missing: the reference vectors belong in test-vectors/");
    return p;
  }

  static JsonObject json(String relative) {
    try {
      return JsonParser.parseString(Files.readString(file(relative))).getAsJsonObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonObject manifestCase(String name) {
    for (var c : json("manifest.json").getAsJsonArray("cases")) {
      if (c.getAsJsonObject().get("name").getAsString().equals(name)) return c.getAsJsonObject();
    }
    throw new AssertionError("manifest has no case " + name);
  }

  static CpuBackend backend(RopeScaling scaling, int numPages) {
    Checkpoint c = Checkpoint.open(file("tiny-model"));
    return new CpuBackend(c.config().withRopeScaling(scaling), c.weights(), CpuBackend.DEFAULT_PAGE_SIZE, numPages);
  }

  static int[] ints(com.google.gson.JsonArray a) {
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) out[i] = a.get(i).getAsInt();
    return out;
  }

  static float[] floats(Tensor t) {
    float[] out = new float[(int) t.elementCount()];
    t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }
}
