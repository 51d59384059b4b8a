package dev.ptk.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.RopeScaling;
import dev.ptk.model.SafeTensors;
import dev.ptk.model.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The reference vectors of test-vectors/ (written by the independent Python reference): their
 * files, the manifest's cases and their tolerances, and the tiny checkpoint. A missing file fails
 * the test (it never skips it).
 */
public final class TestVectors {
  /** test-vectors/, seen from the Maven module the tests run in. */
  public static final Path ROOT = Path.of("..", "test-vectors");
  public static final Path TINY_MODEL = ROOT.resolve("tiny-model");

  private TestVectors() {}

  /** A file or folder under test-vectors/, which must exist. */
  public static Path file(String relative) {
    Path p = ROOT.resolve(relative);
    assertTrue(Files.exists(p), p.toAbsolutePath() + " missing: run test-vectors/reference/generate.py");
    return p;
  }

  /** The tiny checkpoint's folder. */
  public static Path tinyModel() {
    return file("tiny-model");
  }

  public static JsonObject json(String relative) {
    try {
      return JsonParser.parseString(Files.readString(file(relative))).getAsJsonObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The manifest case called {@code name}. */
  public static JsonObject manifestCase(String name) {
    for (JsonElement c : json("manifest.json").getAsJsonArray("cases")) {
      if (c.getAsJsonObject().get("name").getAsString().equals(name)) return c.getAsJsonObject();
    }
    return fail("manifest has no case " + name);
  }

  /** Every manifest case of one kind (at least one). */
  public static List<JsonObject> cases(String kind) {
    List<JsonObject> out = new ArrayList<>();
    for (JsonElement c : json("manifest.json").getAsJsonArray("cases")) {
      if (c.getAsJsonObject().get("kind").getAsString().equals(kind)) out.add(c.getAsJsonObject());
    }
    assertTrue(!out.isEmpty(), "no case of kind " + kind + " in the manifest");
    return out;
  }

  /** A case's tensors. */
  public static SafeTensors open(JsonObject c) {
    return SafeTensors.open(ROOT.resolve(c.get("file").getAsString()));
  }

  public static JsonObject scalars(JsonObject c) {
    return c.getAsJsonObject("scalars");
  }

  public static int[] ints(JsonArray a) {
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) out[i] = a.get(i).getAsInt();
    return out;
  }

  /** A float32 tensor's values. */
  public static float[] floats(Tensor t) {
    float[] out = new float[(int) t.elementCount()];
    t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }

  /** A CPU backend on the tiny checkpoint with {@code numPages} KV pages of the default size. */
  public static CpuBackend tinyBackend(RopeScaling scaling, int numPages) {
    Checkpoint c = Checkpoint.open(tinyModel());
    return new CpuBackend(c.config().withRopeScaling(scaling), c.weights(), CpuBackend.DEFAULT_PAGE_SIZE, numPages);
  }
}
