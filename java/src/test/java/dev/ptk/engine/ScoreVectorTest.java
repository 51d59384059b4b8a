package dev.ptk.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.cli.Main;
import dev.ptk.model.SafeTensors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code ptk score} on the tiny checkpoint matches the reference's teacher-forced logits for both
 * summary positions within the manifest's tolerance; the .npy it writes is read back here with an
 * independent parser of the format.
 */
class ScoreVectorTest {
  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"score_p1", "score_p3_equal", "score_p3_unequal", "score_p2_yarn"})
  void scoreMatchesTheReferenceLogits(String name) throws IOException {
    JsonObject c = TinyVectors.manifestCase(name);
    JsonObject scalars = c.getAsJsonObject("scalars");
    double rtol = c.getAsJsonObject("tolerance").get("rtol").getAsDouble();
    double atol = c.getAsJsonObject("tolerance").get("atol").getAsDouble();
    SafeTensors expected = SafeTensors.open(TinyVectors.file(c.get("file").getAsString()));
    Path input = TinyVectors.file(c.get("tokens").getAsString());
    for (String position : new String[] {"engine", "training"}) {
      Path out = tmp.resolve(name + "_" + position + ".npy");
      String[] args = {"score", "--model", TinyVectors.file("tiny-model").toString(), "--input", input.toString(),
          "--out", out.toString(), "--summary-position", position,
          "--yarn", scalars.has("yarn_factor") && scalars.get("yarn_factor").getAsDouble() > 1
              ? scalars.get("yarn_factor").getAsString() : "off"};
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int code = Main.run(args, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
      assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
      float[] want = TinyVectors.floats(expected.tensor("logits_" + position));
      long[] wantShape = expected.tensor("logits_" + position).shape();
      float[] got = readNpy(out, wantShape);
      double worst = 0;
      for (int i = 0; i < want.length; i++) {
        double err1 = Math.abs(got[i] - want[i]);
        assertTrue(err1 <= atol + rtol * Math.abs(want[i]), name + " " + position + " element " + i + ": got " + got[i] + ", want " + want[i]);
        worst = Math.max(worst, err1);
      }
      System.out.printf("%s %s: max abs error %.3g over %d logits%n", name, position, worst, want.length);
    }
  }

  /** Reads a v1.0 '<f4' C-order .npy and checks its header against the expected shape. */
  static float[] readNpy(Path file, long[] shape) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    byte[] magic = new byte[8];
    b.get(magic);
    assertEquals("\u0093NUMPY\u0001\u0000", new String(magic, StandardCharsets.ISO_8859_1));
    int headerLength = Short.toUnsignedInt(b.getShort());
    byte[] header = new byte[headerLength];
    b.get(header);
    String h = new String(header, StandardCharsets.US_ASCII);
    assertEquals(0, (10 + headerLength) % 16, "data is aligned");
    assertTrue(h.endsWith("\n"));
    assertTrue(h.contains("'descr': '<f4'") && h.contains("'fortran_order': False")
        && h.contains("'shape': (" + shape[0] + ", " + shape[1] + ")"), h);
    float[] data = new float[b.remaining() / 4];
    assertEquals(shape[0] * shape[1], data.length);
    b.asFloatBuffer().get(data);
    return data;
  }
}
