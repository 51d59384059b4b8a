package dev.ptk.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Test-side safetensors writer, independent of the library's: tensors are laid out in insertion
 * order; {@link #writeRaw} writes any header text and data so that tests can inject every fault.
 */
final class StFiles {
  private final Map<String, Object[]> tensors = new LinkedHashMap<>();

  /** Adds a BF16 tensor whose values are given as floats (truncated to bf16 by dropping low bits). */
  StFiles bf16(String name, long[] shape, float... values) {
    ByteBuffer b = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) b.putShort((short) (Float.floatToIntBits(v) >>> 16));
    return raw(name, "BF16", shape, b.array());
  }

  StFiles f32(String name, long[] shape, float... values) {
    ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) b.putFloat(v);
    return raw(name, "F32", shape, b.array());
  }

  /** A BF16 tensor of the given shape filled with a deterministic ramp. */
  StFiles bf16(String name, long... shape) {
    long n = 1;
    for (long d : shape) n *= d;
    float[] v = new float[(int) n];
    for (int i = 0; i < v.length; i++) v[i] = (i % 17 - 8) / 16f;
    return bf16(name, shape, v);
  }

  StFiles raw(String name, String dtype, long[] shape, byte[] data) {
    tensors.put(name, new Object[] {dtype, shape, data});
    return this;
  }

  StFiles remove(String name) {
    tensors.remove(name);
    return this;
  }

  Path write(Path file) throws IOException {
    StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    for (Map.Entry<String, Object[]> e : tensors.entrySet()) {
      byte[] bytes = (byte[]) e.getValue()[2];
      h.append(String.format(",\"%s\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":[%d,%d]}", e.getKey(),
          e.getValue()[0], Arrays.toString((long[]) e.getValue()[1]).replace(" ", ""), data.size(), data.size() + bytes.length));
      data.write(bytes);
    }
    h.append('}');
    return writeRaw(file, h.toString(), data.toByteArray());
  }

  /** Header text padded with spaces to a multiple of 8, as the format's writer does. */
  static Path writeRaw(Path file, String header, byte[] data) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    int n = (h.length + 7) / 8 * 8;
    ByteBuffer b = ByteBuffer.allocate(8 + n + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(n).put(h);
    for (int i = h.length; i < n; i++) b.put((byte) ' ');
    b.put(data);
    Files.write(file, b.array());
    return file;
  }
}
