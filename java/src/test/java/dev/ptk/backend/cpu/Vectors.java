package dev.ptk.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ptk.model.SafeTensors;
import dev.ptk.model.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The reference vectors of test-vectors/ (manifest cases, their tensors) and the tolerance check. */
public final class Vectors {
  static final Path DIR = Path.of("..", "test-vectors");

  private Vectors() {}

  /** Every manifest case of one kind; fails (never skips) when the vectors are missing. */
  public static List<JsonObject> cases(String kind) {
    Path manifest = DIR.resolve("manifest.json");
    if (!Files.isRegularFile(manifest)) fail(manifest.toAbsolutePath() + " missing: run test-vectors/reference/generate.py");
    try {
      List<JsonObject> out = new ArrayList<>();
      for (JsonElement c : JsonParser.parseString(Files.readString(manifest)).getAsJsonObject().getAsJsonArray("cases")) {
        if (c.getAsJsonObject().get("kind").getAsString().equals(kind)) out.add(c.getAsJsonObject());
      }
      assertTrue(!out.isEmpty(), "no case of kind " + kind + " in " + manifest);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static SafeTensors open(JsonObject c) {
    return SafeTensors.open(DIR.resolve(c.get("file").getAsString()));
  }

  public static JsonObject scalars(JsonObject c) {
    return c.getAsJsonObject("scalars");
  }

  public static double rtol(JsonObject c) {
    return c.getAsJsonObject("tolerance").get("rtol").getAsDouble();
  }

  public static double atol(JsonObject c) {
    return c.getAsJsonObject("tolerance").get("atol").getAsDouble();
  }

  /** BF16 tensor as raw bits (the KV cache's storage). */
  static short[] bits(Tensor t) {
    assertEquals(dev.ptk.model.DType.BF16, t.dtype(), t.name());
    short[] out = new short[Math.toIntExact(t.elementCount())];
    t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(0, out);
    return out;
  }

  static float[] widen(short[] bits) {
    float[] out = new float[bits.length];
    for (int i = 0; i < bits.length; i++) out[i] = Tensor.bf16ToFloat(bits[i]);
    return out;
  }

  /** {@code |got - want| <= atol + rtol |want|} per element (NaN fails, equal infinities pass); prints the max error. */
  public static void assertClose(String what, float[] want, float[] got, double rtol, double atol) {
    assertEquals(want.length, got.length, what + ": length");
    double maxErr = 0;
    int worst = -1;
    for (int i = 0; i < want.length; i++) {
      if (Float.isInfinite(want[i]) && want[i] == got[i]) continue;
      double err = Math.abs((double) got[i] - want[i]);
      // An infinite want passes only when equal (above): its bound would be infinite too.
      boolean ok = !Float.isInfinite(want[i]) && err <= atol + rtol * Math.abs(want[i]);
      if (!ok || Double.isNaN(err)) {
        fail(what + ": element " + i + " got " + got[i] + ", want " + want[i] + " (rtol " + rtol + ", atol " + atol + ")");
      }
      if (err > maxErr) {
        maxErr = err;
        worst = i;
      }
    }
    System.out.printf("%-40s max |err| %.3g%s over %d values%n", what, maxErr,
        worst < 0 ? "" : " (want " + want[worst] + ")", want.length);
  }
}
