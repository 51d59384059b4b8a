package dev.ptk.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader accepts well-formed files without copying and rejects each kind of damage by name. */
class SafeTensorsTest {
  @TempDir Path tmp;

  private static byte[] zeros(int n) {
    return new byte[n];
  }

  private Path file() {
    return tmp.resolve("m.safetensors");
  }

  private String fails(String header, byte[] data) throws IOException {
    Path f = StFiles.writeRaw(file(), header, data);
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafeTensors.open(f));
    assertTrue(e.getMessage().contains(f.toString()), "message names the file: " + e.getMessage());
    return e.getMessage();
  }

  @Test
  void readsValuesShapesAndMetadata() throws IOException {
    Path f = new StFiles()
        .f32("b", new long[] {2, 2}, 1f, -2f, 3.5f, 0f)
        .bf16("a", new long[] {3}, 1f, -0.5f, 256f)
        .raw("ids", "I64", new long[] {2}, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(7).putLong(-3).array())
        .raw("scalar", "I32", new long[] {}, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(42).array())
        .raw("empty", "F16", new long[] {0, 4}, zeros(0))
        .write(file());
    SafeTensors st = SafeTensors.open(f);
    assertEquals(Set.of("a", "b", "ids", "scalar", "empty"), st.names());
    assertEquals(Map.of("format", "pt"), st.metadata());
    assertArrayEquals(new float[] {1f, -2f, 3.5f, 0f}, st.tensor("b").toFloats());
    assertArrayEquals(new long[] {2, 2}, st.tensor("b").shape());
    assertArrayEquals(new float[] {1f, -0.5f, 256f}, st.tensor("a").toFloats());
    assertEquals(DType.BF16, st.tensor("a").dtype());
    assertArrayEquals(new int[] {7, -3}, st.tensor("ids").toInts());
    assertArrayEquals(new int[] {42}, st.tensor("scalar").toInts());
    assertEquals(0, st.tensor("empty").elementCount());
    assertTrue(st.tensor("a").data().isReadOnly());
    assertTrue(st.tensor("a").data().isDirect(), "mapped, not copied to the heap");
  }

  @Test
  void widensHalfPrecision() throws IOException {
    // 0x3C00 = 1, 0xC000 = -2, 0x0001 = smallest subnormal 2^-24, 0x7C00 = +inf
    byte[] d = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
        .putShort((short) 0x3C00).putShort((short) 0xC000).putShort((short) 0x0001).putShort((short) 0x7C00).array();
    Path f = new StFiles().raw("h", "F16", new long[] {4}, d).write(file());
    assertArrayEquals(new float[] {1f, -2f, 0x1p-24f, Float.POSITIVE_INFINITY}, SafeTensors.open(f).tensor("h").toFloats());
  }

  @Test
  void missingTensorNamesFileAndTensor() throws IOException {
    Path f = new StFiles().bf16("a", 2).write(file());
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafeTensors.open(f).tensor("nope"));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("nope"), e.getMessage());
  }

  @Test
  void truncatedFile() throws IOException {
    Path f = Files.write(file(), new byte[] {8, 0, 0});
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafeTensors.open(f));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
  }

  @Test
  void headerLongerThanFile() throws IOException {
    Path f = Files.write(file(), ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).array());
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafeTensors.open(f));
    assertTrue(e.getMessage().contains("header length 1000 is past the end of the file (16 bytes)"), e.getMessage());
  }

  @Test
  void headerLongerThanTheFormatAllows() throws IOException {
    Path f = Files.write(file(), ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(100_000_001).array());
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafeTensors.open(f));
    assertTrue(e.getMessage().contains("exceeds 100000000"), e.getMessage());
  }

  @Test
  void headerNotJson() throws IOException {
    assertTrue(fails("not json at all", zeros(0)).contains("malformed JSON"));
    assertTrue(fails("[1,2]", zeros(0)).contains("not a JSON object"));
  }

  @Test
  void overlappingOffsets() throws IOException {
    String m = fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", zeros(12));
    assertTrue(m.contains("tensor b") && m.contains("overlaps"), m);
  }

  @Test
  void gapBetweenTensors() throws IOException {
    String m = fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", zeros(12));
    assertTrue(m.contains("tensor b") && m.contains("gap"), m);
  }

  @Test
  void firstTensorNotAtZero() throws IOException {
    String m = fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", zeros(8));
    assertTrue(m.contains("tensor a") && m.contains("gap"), m);
  }

  @Test
  void offsetsOutOfRange() throws IOException {
    String m = fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", zeros(4));
    assertTrue(m.contains("tensor a") && m.contains("past the data buffer"), m);
    m = fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[-4,-4]}}", zeros(0));
    assertTrue(m.contains("tensor a") && m.contains("invalid data_offsets"), m);
  }

  @Test
  void bytesLeftAfterTheLastTensor() throws IOException {
    String m = fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", zeros(8));
    assertTrue(m.contains("tensors end at byte 4") && m.contains("8 bytes"), m);
  }

  @Test
  void byteSizeDisagreesWithShapeAndDtype() throws IOException {
    String m = fails("{\"a\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,8]}}", zeros(8));
    assertTrue(m.contains("tensor a") && m.contains("span 8 bytes") && m.contains("needs 6"), m);
  }

  @Test
  void unknownDtype() throws IOException {
    String m = fails("{\"a\":{\"dtype\":\"Q4_K\",\"shape\":[1],\"data_offsets\":[0,1]}}", zeros(1));
    assertTrue(m.contains("tensor a") && m.contains("unknown dtype \"Q4_K\""), m);
  }

  @Test
  void duplicateKey() throws IOException {
    String m = fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", zeros(8));
    assertTrue(m.contains("duplicate key \"a\""), m);
  }

  @Test
  void badEntryFields() throws IOException {
    assertTrue(fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", zeros(0)).contains("negative dimension"));
    assertTrue(fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", zeros(4)).contains("must be an integer"));
    assertTrue(fails("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", zeros(4)).contains("missing field \"shape\""));
    assertTrue(fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", zeros(4)).contains("[begin, end]"));
    assertTrue(fails("{\"__metadata__\":{\"n\":1}}", zeros(0)).contains("__metadata__ value of \"n\" is not a string"));
  }
}
