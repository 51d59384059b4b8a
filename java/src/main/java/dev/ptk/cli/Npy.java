package dev.ptk.cli;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes float32 matrices in NumPy's .npy format version 1.0 ({@code '<f4'}, C order). */
final class Npy {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};

  private Npy() {}

  /** Writes {@code rows} (all of one length) as an array of shape {@code [rows, columns]}. */
  static void write(Path file, float[][] rows) throws IOException {
    int columns = rows.length == 0 ? 0 : rows[0].length;
    for (float[] r : rows) {
      if (r.length != columns) throw new IllegalArgumentException("rows of different lengths: " + columns + " and " + r.length);
    }
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
      out.write(header(rows.length, columns));
      ByteBuffer row = ByteBuffer.allocate(columns * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      for (float[] r : rows) {
        row.clear();
        row.asFloatBuffer().put(r);
        out.write(row.array());
      }
    }
  }

  /** Magic, version, header length, then the dict padded with spaces to a 64-byte boundary and ended by '\n'. */
  static byte[] header(int rows, int columns) {
    String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows + ", " + columns + "), }";
    int unpadded = MAGIC.length + 2 + dict.length() + 1;
    int padded = (unpadded + 63) / 64 * 64;
    String text = dict + " ".repeat(padded - unpadded) + "\n";
    ByteBuffer b = ByteBuffer.allocate(padded).order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC).putShort((short) text.length()).put(text.getBytes(StandardCharsets.US_ASCII));
    return b.array();
  }
}
