package dev.ptk.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.ptk.model.SafeTensors;
import dev.ptk.testing.Cli;
import dev.ptk.testing.Cli.Run;
import dev.ptk.testing.TestVectors;
import dev.ptk.testing.Tolerance;
import java.io.IOException;
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
    JsonObject c = TestVectors.manifestCase(name);
    JsonObject scalars = c.getAsJsonObject("scalars");
    SafeTensors expected = TestVectors.open(c);
    Path input = TestVectors.file(c.get("tokens").getAsString());
    for (String position : new String[] {"engine", "training"}) {
      Path out = tmp.resolve(name + "_" + position + ".npy");
      String[] args = {"score", "--model", TestVectors.tinyModel().toString(), "--input", input.toString(),
          "--out", out.toString(), "--summary-position", position,
          "--yarn", scalars.has("yarn_factor") && scalars.get("yarn_factor").getAsDouble() > 1
              ? scalars.get("yarn_factor").getAsString() : "off"};
      Run r = Cli.ptk(args);
      assertEquals(0, r.code(), r.err());
      float[] want = TestVectors.floats(expected.tensor("logits_" + position));
      long[] wantShape = expected.tensor("logits_" + position).shape();
      Tolerance.assertClose(name + " " + position, want, readNpy(out, wantShape), c);
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
